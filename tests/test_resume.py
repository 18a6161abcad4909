"""kill -9 in the middle of a crawl, then the same command again: the crawl goes on where it
stopped. Every page ends up captured, none twice, the .open file is repaired."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter

from tests.conftest import BIN, Crawl, run_reviewarc, wait_until, warcio_check
from tests.conftest import TREE_PAGES as PAGES
from tests.mockserver import FixtureServer


def test_kill_9_then_resume(tree: FixtureServer, tmp_path) -> None:
    command = [str(BIN / "reviewarc"), "crawl", tree.base_url + "/many/1/", "--data", str(tmp_path)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(
        lambda: sum(e.path.startswith("/many/") for e in tree.log) >= PAGES // 4, 120,
        "the crawl fetching a quarter of the site before it is killed", process=proc,
        interval=0.01,
    )  # fmt: skip
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    fetched_before = {e.path for e in tree.log if e.path.startswith("/many/")}
    assert len(fetched_before) < PAGES, "killed too late to test anything"
    assert list((tmp_path / "warcs").glob("*.open")), "a WARC file was being written"

    again = run_reviewarc(*command[1:], timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    crawl = Crawl(again, tmp_path, tree)
    assert not list((tmp_path / "warcs").glob("*.open"))
    assert warcio_check(sorted((tmp_path / "warcs").glob("*.warc.gz"))).returncode == 0

    base = tree.base_url
    rows = crawl.sql("select url from captures where url like '%/many/%' and status = 200")
    counts = Counter(r["url"][len(base) :] for r in rows)
    expected = {f"/many/{n}/" for n in range(1, PAGES + 1)}
    assert set(counts) == expected, f"missing: {sorted(expected - set(counts))[:10]}"
    assert max(counts.values()) == 1, [p for p, c in counts.items() if c > 1][:10]
    # Nothing the first run had fully fetched was fetched again, bar the requests in flight.
    requests = Counter(e.path for e in tree.log if e.path.startswith("/many/"))
    assert sum(c - 1 for c in requests.values() if c > 1) <= 16
    articles = crawl.sql("select url, count(*) as n from articles group by url having n > 1")
    assert articles == []
    assert len(crawl.sql("select id from articles")) == PAGES
    (second,) = crawl.sql("select outcome from crawls where id = 2")
    assert second["outcome"] == "finished"
    assert crawl.sql("select outcome from crawls where id = 1")[0]["outcome"] == "interrupted"


def test_ten_kills_in_a_row_with_rotating_warcs(tree: FixtureServer, tmp_path) -> None:
    """kill -9 ten times, each run a little further, WARC files rotating every few pages:
    the eleventh run finishes with every page captured once and every file whole."""
    command = [str(BIN / "reviewarc"), "crawl", tree.base_url + "/many/1/", "--data",
               str(tmp_path), "--set", "REVIEWARC_WARC_MAX_SIZE=20000"]  # fmt: skip
    for _ in range(10):
        start = len(tree.log)
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(
            # or finished before it could be killed: nothing left to kill
            lambda proc=proc, start=start: proc.poll() is not None
            or sum(e.path.startswith("/many/") for e in tree.log[start:]) >= 12,
            120, "the crawl fetching 12 more pages before it is killed", interval=0.005,
        )  # fmt: skip
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    again = run_reviewarc(*command[1:], timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    crawl = Crawl(again, tmp_path, tree)
    warcs = sorted((tmp_path / "warcs").glob("*.warc.gz"))
    assert len(warcs) > 10 and not list((tmp_path / "warcs").glob("*.open"))
    assert warcio_check(warcs).returncode == 0
    rows = crawl.sql("select url from captures where url like '%/many/%' and status = 200")
    counts = Counter(r["url"][len(tree.base_url) :] for r in rows)
    assert set(counts) == {f"/many/{n}/" for n in range(1, PAGES + 1)}
    assert max(counts.values()) == 1
    assert len(crawl.sql("select id from articles")) == PAGES
    outcomes = [r["outcome"] for r in crawl.sql("select outcome from crawls order by id")]
    assert outcomes[-1] == "finished" and outcomes.count("interrupted") >= 5
