"""A recrawl killed with ``kill -9`` at several moments, then resumed, ends where an
uninterrupted recrawl ends: the same pages requested, one capture of each, the same
articles and versions. The first crawl of the site was itself killed once and resumed, so
the archive holds an interrupted run of an earlier crawl that later finished (whose captures
must never stand in for the recrawl's)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

from tests.conftest import BIN, Crawl, run_reviewarc, wait_until, warcio_check
from tests.conftest import TREE_PAGES as PAGES
from tests.mockserver import FixtureServer


def crawl_command(server: FixtureServer, data: Path) -> list[str]:
    return [str(BIN / "reviewarc"), "crawl", server.base_url + "/many/1/", "--data", str(data)]


def crawl_to_end(server: FixtureServer, data: Path) -> None:
    done = run_reviewarc(*crawl_command(server, data)[1:], timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def crawl_and_kill(server: FixtureServer, data: Path, after: int) -> None:
    """Start the crawl and kill -9 it once the server has answered ``after`` more page
    requests."""
    start = len(server.log)
    proc = subprocess.Popen(
        crawl_command(server, data), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_until(
        lambda: sum(e.path.startswith("/many/") for e in server.log[start:]) >= after, 120,
        f"the crawl fetching {after} pages before it is killed", process=proc, interval=0.005,
    )  # fmt: skip
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def recrawl_outcome(server: FixtureServer, data: Path, since_crawl: int, start: int) -> dict:
    """What the recrawl (crawls with id > ``since_crawl``) did and left."""
    crawl = Crawl(subprocess.CompletedProcess([], 0), data, server)
    base = server.base_url
    captures = crawl.sql(
        "select url, status, record_type from captures"
        f" where crawl_id > {since_crawl} and url like '%/many/%'"
    )  # robots.txt and /sitemap.xml are fetched again by every run
    versions = crawl.sql("select url, text_hash from article_versions")
    return {
        "requested": {e.path for e in server.log[start:] if e.path.startswith("/many/")},
        "captures": Counter((r["url"][len(base) :], r["status"]) for r in captures),
        "articles": {
            (r["url"][len(base) :], r["text"]) for r in crawl.sql("select url, text from articles")
        },
        "versions": Counter((r["url"][len(base) :], r["text_hash"]) for r in versions),
    }


def test_recrawl_killed_twice_then_resumed_equals_an_uninterrupted_recrawl(
    tree: FixtureServer, tmp_path: Path
) -> None:
    # The reference: crawl, edit every page, crawl again; nothing interrupted.
    reference = tmp_path / "reference"
    tree.edition = 1
    crawl_to_end(tree, reference)
    tree.edition = 2
    start = len(tree.log)
    crawl_to_end(tree, reference)
    expected = recrawl_outcome(tree, reference, 1, start)
    assert sum(expected["captures"].values()) == PAGES

    # The same, with kills: the first crawl killed once and resumed; the recrawl killed
    # early, resumed and killed again late, then resumed to its end.
    subject = tmp_path / "subject"
    tree.edition = 1
    crawl_and_kill(tree, subject, PAGES // 3)
    crawl_to_end(tree, subject)
    first_crawls = len(Crawl(subprocess.CompletedProcess([], 0), subject, tree).sql(
        "select id from crawls"
    ))  # fmt: skip
    assert first_crawls == 2
    tree.edition = 2
    start = len(tree.log)
    crawl_and_kill(tree, subject, PAGES // 5)
    crawl_and_kill(tree, subject, PAGES // 3)
    crawl_to_end(tree, subject)
    got = recrawl_outcome(tree, subject, first_crawls, start)

    assert not list((subject / "warcs").glob("*.open"))
    assert warcio_check(sorted((subject / "warcs").glob("*.warc.gz"))).returncode == 0
    assert got["requested"] == expected["requested"]
    assert got["captures"] == expected["captures"], (
        f"missing: {sorted(expected['captures'] - got['captures'])[:5]};"
        f" extra: {sorted(got['captures'] - expected['captures'])[:5]}"
    )
    stale = sorted(url for url, text in got["articles"] if "edition 1" in text)
    assert stale == [], f"{len(stale)} articles kept the first crawl's text: {stale[:5]}"
    assert got["articles"] == expected["articles"]
    assert got["versions"] == expected["versions"]
