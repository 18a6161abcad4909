"""One crawl shared by several workers through a real redis-server (``crawl --redis``).

Three review sites on three loopback addresses (150 reviews each, a stylesheet, a 404, a
redirect and an endless calendar) are crawled once on one machine, which gives the URL set
U and the database every shared crawl must match, then by workers started as a user starts
them: ``reviewarc crawl ... --redis URL --worker NAME``, each its own process, then
``reviewarc index`` to build the archive database from their WARC files. The sites' logs
say who asked for what, and when.
"""

# The fixtures redis_server and redis_url are imported, and taken as arguments (F811).
# ruff: noqa: F811

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import (
    BIN,
    REPLAY_ADDRESS,
    SERVE_ADDRESS,
    get,
    read_sql,
    replay_command,
    run_reviewarc,
    running,
    serve_command,
    wait_until,
    warcio_check,
)
from tests.multihost import LoggedSites
from tests.redis_server import RedisServer, redis_server, redis_url  # noqa: F401

PAGES = 150
#: Per-host concurrency of every crawl here; the sites' logs must never show more.
PER_HOST = 2
#: Links of one numbered URL shape followed per crawl: the calendar's bound (the reviews,
#: numbered too, stay under it).
TRAP_BOUND = PAGES + 10
SETTINGS = [
    "--set", f"CONCURRENT_REQUESTS_PER_DOMAIN={PER_HOST}",
    "--set", f"REVIEWARC_TRAP_MAX_PER_PATTERN={TRAP_BOUND}",
    "--set", "REVIEWARC_EXTRACT_WORKERS=1",
    "--set", "REVIEWARC_LEASE_TTL=3",
    "--set", "REVIEWARC_MAX_DEPTH=1000",  # the calendar ends at its trap bound, not a hop limit
    "--log-level", "WARNING",
]  # fmt: skip


@pytest.fixture(scope="module")
def sites():
    with LoggedSites(hosts=3, pages=PAGES) as sites:
        yield sites


@dataclass
class Local:
    data: Path
    urls: set[str]


@pytest.fixture(scope="module")
def local(sites: LoggedSites, tmp_path_factory: pytest.TempPathFactory) -> Local:
    """The one-machine crawl of the sites: U and the database to match."""
    data = tmp_path_factory.mktemp("local")
    sites.reset_log()
    done = run_reviewarc("crawl", *sites.seeds, "--data", str(data), *SETTINGS, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    urls = {r["url"] for r in read_sql(data, "select url from captures")}
    assert urls == sites.reachable_urls(TRAP_BOUND)
    return Local(data, urls)


def worker(sites: LoggedSites, data: Path, redis: str, name: str) -> subprocess.Popen:
    command = [str(BIN / "reviewarc"), "crawl", *sites.seeds, "--data", str(data),
               "--redis", redis, "--worker", name, "--user-agent", f"reviewarc-test/{name}",
               *SETTINGS]  # fmt: skip
    with open(data / f"{name}.log", "a") as log:  # the process writes it
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)


def finish(data: Path, *workers: subprocess.Popen) -> None:
    for process in workers:
        assert process.wait(timeout=600) == 0, (data / "w1.log").read_text()[-3000:]


def fetched(sites: LoggedSites) -> int:
    return len({r.url for r in sites.log})


def index(data: Path) -> list[dict]:
    """``reviewarc index`` of the workers' files; the captures it indexed, per URL."""
    done = run_reviewarc("index", "--data", str(data), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return read_sql(data, "select url, count(*) as n from captures group by url")


def assert_each_url_once(data: Path, local: Local, sites: LoggedSites) -> None:
    counts = {r["url"]: r["n"] for r in index(data)}
    lost, extra = local.urls - set(counts), set(counts) - local.urls
    assert not lost and not extra, f"lost: {sorted(lost)[:5]}, extra: {sorted(extra)[:5]}"
    assert [u for u, n in counts.items() if n > 1] == []
    files = sorted((data / "warcs").glob("*.warc.gz"))
    assert files and warcio_check(files).returncode == 0
    # Every file indexed is a worker's, named after it.
    assert all(f.name.rsplit("-", 1)[1].startswith("w") for f in files)


def assert_polite(sites: LoggedSites) -> None:
    for host in sites.base_urls:
        assert sites.overlaps_between_agents(host) == [], host
        assert sites.max_concurrency(host) <= PER_HOST, host


def assert_keys_gone(server: RedisServer) -> None:
    assert server.keys() == []


def same_rows(data: Path, local: Path, query: str) -> None:
    assert read_sql(data, query) == read_sql(local, query), query


def test_two_workers_one_joining_late_match_one_machine(
    sites: LoggedSites,
    local: Local,
    redis_server: RedisServer,
    redis_url: str,
    tmp_path,
) -> None:
    sites.reset_log()
    sites.delay = 0.1  # a slower site: the crawl lasts longer than a worker takes to start
    try:
        first = worker(sites, tmp_path, redis_url, "w1")
        wait_until(lambda: fetched(sites) >= 0.3 * len(local.urls), 300,
                   "a third of the sites fetched", process=first)  # fmt: skip
        second = worker(sites, tmp_path, redis_url, "w2")
        finish(tmp_path, first, second)
    finally:
        sites.delay = 0.01
    by_worker = Counter(r.user_agent for r in sites.log)
    assert by_worker["reviewarc-test/w2"] > 0, by_worker  # it got work
    assert_each_url_once(tmp_path, local, sites)
    assert Counter(r.url for r in sites.log).most_common(1)[0][1] == 1
    assert_polite(sites)
    assert_keys_gone(redis_server)

    # The indexed archive is the one-machine crawl's, row for row, but for where and when.
    same_rows(tmp_path, local.data, "select url, status, record_type, payload_digest,"
              " content_type, payload_length from captures order by url")  # fmt: skip
    same_rows(tmp_path, local.data, "select url, title, author, published, text,"
              " rating_value, rating_best, site_name from articles order by url")  # fmt: skip
    same_rows(tmp_path, local.data, "select url, kind, status, reason from failures"
              " order by url, kind")  # fmt: skip
    (crawl,) = read_sql(tmp_path, "select outcome, seeds, captures, run_ends from crawls")
    assert crawl["outcome"] == "finished" and crawl["captures"] == len(local.urls)
    # Neither quit early: both stayed until the crawl was done, one of them last out.
    ends = json.loads(crawl["run_ends"]).values()
    assert sorted((e["worker"], e["outcome"]) for e in ends) == [
        ("w1", "finished"), ("w2", "finished")]  # fmt: skip
    assert sum(e["last"] for e in ends) == 1

    # search, serve and replay on the indexed archive.
    review = sites.review(1, 7)
    found = run_reviewarc("search", f'"{review.title}"', "--data", str(tmp_path))
    assert found.returncode == 0 and review.title in found.stdout, found.stdout + found.stderr
    url = sites.base_urls[1] + "/reviews/7.html"
    with running(replay_command(tmp_path), REPLAY_ADDRESS) as replay:
        status, _, body = get(replay.ports[0], f"/web/2id_/{url}")
        assert status == 200 and review.title.encode() in body
    with running(serve_command(tmp_path), SERVE_ADDRESS) as served:
        status, _, body = get(served.ports[0], "/archive/articles.json?_shape=array&url=" + url)
        assert status == 200 and review.title.encode() in body


def test_three_workers_each_url_once(
    sites: LoggedSites,
    local: Local,
    redis_server: RedisServer,
    redis_url: str,
    tmp_path,
) -> None:
    sites.reset_log()
    workers = [worker(sites, tmp_path, redis_url, f"w{n}") for n in (1, 2, 3)]
    finish(tmp_path, *workers)
    assert len({r.user_agent for r in sites.log}) == 3
    assert_each_url_once(tmp_path, local, sites)
    assert_polite(sites)
    assert_keys_gone(redis_server)
    for n in (1, 2, 3):  # each worker's own directory, its own files
        assert list((tmp_path / "workers" / f"w{n}" / "warcs").glob(f"*-w{n}.warc.gz"))


@pytest.mark.parametrize("restarted", [True, False], ids=["restarted", "not-restarted"])
def test_kill_9_of_a_worker_loses_nothing(
    sites: LoggedSites, local: Local, redis_server: RedisServer, redis_url: str, tmp_path,
    restarted: bool,
) -> None:  # fmt: skip
    sites.reset_log()
    first, second = (worker(sites, tmp_path, redis_url, name) for name in ("w1", "w2"))
    wait_until(lambda: fetched(sites) >= 0.5 * len(local.urls), 300, "half the sites fetched",
               process=second)  # fmt: skip
    os.kill(second.pid, signal.SIGKILL)
    second.wait()
    left = list((tmp_path / "workers" / "w2" / "warcs").glob("*.open"))
    assert left, "w2 was writing a WARC file when it was killed"
    if restarted:
        second = worker(sites, tmp_path, redis_url, "w2")
        finish(tmp_path, first, second)
    else:
        finish(tmp_path, first)  # w2's requests go back to the queue once its lease expires
        assert (tmp_path / "workers" / "w2" / "warcs" / left[0].name).exists()
    assert_each_url_once(tmp_path, local, sites)
    assert_keys_gone(redis_server)


def test_second_crawl_revisits_whoever_fetched_first(
    sites: LoggedSites,
    local: Local,
    redis_server: RedisServer,
    redis_url: str,
    tmp_path,
) -> None:
    """The second crawl's workers are new (their own directories are empty): what they know
    of the first crawl's captures comes from the indexed archive."""
    for names in (("a1", "a2"), ("b1", "b2")):
        sites.reset_log()
        finish(tmp_path, *(worker(sites, tmp_path, redis_url, n) for n in names))
        index(tmp_path)
    agents = {r.user_agent for r in sites.log if r.headers.get("If-None-Match")}
    assert agents == {"reviewarc-test/b1", "reviewarc-test/b2"}
    second = read_sql(
        tmp_path,
        "select url, record_type, refers_to_id from captures where crawl_id = 2"
        " and url like '%/reviews/%.html'",
    )
    assert len(second) == 3 * PAGES
    assert {r["record_type"] for r in second} == {"revisit"}
    assert all(r["refers_to_id"] is not None for r in second)  # to the first crawl's records
    assert_keys_gone(redis_server)


def test_trap_guard_counts_crawl_wide(redis_url: str) -> None:
    """Two workers' guards seeing one calendar between them follow it as far as one would."""
    from crawler.distributed.state import SharedState, connect
    from crawler.distributed.traps import SharedTrapGuard

    client = connect(redis_url)
    guards = [SharedTrapGuard(max_per_pattern=10, state=SharedState(client, "k", w, 5))
              for w in ("w1", "w2")]  # fmt: skip
    months = [f"http://127.0.0.2:1/calendar/{2031 + m // 12}/{m % 12 + 1:02d}/" for m in range(40)]
    allowed = [m for i, m in enumerate(months) if guards[i % 2].refusals([m])[0] is None]
    assert allowed == months[:10]
    assert guards[1].refusals([months[0], months[11]]) == [
        None,
        "too many URLs of one numbered pattern",
    ]


def test_bad_redis_or_worker_name_is_one_line(tmp_path) -> None:
    unreachable = run_reviewarc("crawl", "http://127.0.0.2:9/", "--data", str(tmp_path),
                                "--redis", "redis://127.0.0.1:9/0", "--worker", "w1")  # fmt: skip
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("Error: cannot reach Redis at redis://127.0.0.1:9/0")
    assert "Traceback" not in unreachable.stderr and len(unreachable.stderr.splitlines()) == 1
    named = run_reviewarc("crawl", "http://127.0.0.2:9/", "--data", str(tmp_path),
                          "--redis", "redis://127.0.0.1:9/0", "--worker", "../up")  # fmt: skip
    assert named.returncode == 1 and "a worker name is" in named.stderr, named.stderr
    alone = run_reviewarc("crawl", "http://127.0.0.2:9/", "--data", str(tmp_path), "--worker", "w1")
    assert alone.returncode == 1 and "--worker needs --redis" in alone.stderr, alone.stderr
    assert not (tmp_path / "workers").exists()


def test_a_worker_leaving_keeps_the_crawl(redis_server: RedisServer, redis_url: str) -> None:
    """Only the last worker out of a finished crawl deletes its keys; one that leaves (or
    dies) early gives its requests back, whatever it was doing."""
    from crawler.distributed.state import SharedState, connect

    client = connect(redis_url)
    one, two = (SharedState(client, "seeds:x", w, 1) for w in ("w1", "w2"))
    one.register(), two.register()
    one.push([(f"{n:040x}", "h1", 0, {"u": f"http://h1/{n}"}) for n in range(3)])
    (taken,) = one.take({}, 1, 1)
    assert one.leave(finished=True) is False  # w2 is still in: nothing deleted
    assert two.status().queued == 3 and redis_server.keys() != []
    assert {q.fingerprint for q in two.take({}, 1, 3)} == {f"{n:040x}" for n in range(3)}
    client.delete(two.key("alive:w2"))  # w2 dies holding all three
    three = SharedState(client, "seeds:x", "w3", 1)
    three.register()
    assert three.heartbeat() == ["w2"] and three.status().queued == 3
    assert taken.fingerprint in {q.fingerprint for q in three.take({}, 1, 3)}
    three.handled([f"{n:040x}" for n in range(3)], "f.warc.gz")
    assert three.status().unsealed == 3 and not three.status().finished
    three.seal("f.warc.gz")
    assert three.status().finished
    assert three.leave(finished=True) is True and redis_server.keys() == []
