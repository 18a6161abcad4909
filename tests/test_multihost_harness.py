"""The harness of the multi-host tests works: a real redis-server (tests/redis_server.py) and
logged review sites on several loopback addresses (tests/multihost.py)."""

from __future__ import annotations

import gc
import http.client
import json
import os
import re
import socket
import threading
from collections import deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

import tests.redis_server as redis_module
from tests.multihost import LAST_MODIFIED, LoggedSites, Request
from tests.redis_server import RedisServer, parse_reply, redis_server, redis_url  # noqa: F401

# -- redis-server ------------------------------------------------------------------------------


def redis_processes_on(port: int) -> list[int]:
    """The pids of the live redis-server processes listening on 127.0.0.1:PORT (by the
    title redis-server gives itself, ``redis-server 127.0.0.1:PORT``)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            comm = (proc / "comm").read_text().strip()
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, NotADirectoryError):
            continue
        if comm == "redis-server" and f"127.0.0.1:{port}" in title.split():
            pids.append(int(proc.name))
    return pids


def test_redis_answers(redis_server: RedisServer) -> None:  # noqa: F811
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    assert redis_server.command("PING") == b"+PONG\r\n"
    assert redis_server.command("SET", "greeting", "hello world") == b"+OK\r\n"
    assert redis_server.command("GET", "greeting") == b"$11\r\nhello world\r\n"
    assert redis_server.command("GET", "absent") == b"$-1\r\n"
    assert redis_server.call("CONFIG", "GET", "appendonly") == [b"appendonly", b"yes"]
    assert redis_server.call("CONFIG", "GET", "save") == [b"save", b""]
    assert redis_server.call("CONFIG", "GET", "bind") == [b"bind", b"127.0.0.1"]
    assert (redis_server.dir / "appendonlydir").is_dir()
    stats = parse_reply(redis_server.command("INFO", "commandstats"))
    assert isinstance(stats, bytes) and b"cmdstat_set:calls=" in stats
    assert redis_server.call("NOSUCHCOMMAND").startswith("-ERR unknown command")


def test_redis_keys_and_flushall(redis_server: RedisServer) -> None:  # noqa: F811
    redis_server.flushall()
    for key in ("queue:b", "queue:a", "seen"):
        redis_server.command("RPUSH", key, "x")
    assert redis_server.keys() == ["queue:a", "queue:b", "seen"]
    assert redis_server.keys("queue:*") == ["queue:a", "queue:b"]
    assert redis_server.command("DBSIZE") == b":3\r\n"
    redis_server.flushall()
    assert redis_server.keys() == []
    assert redis_server.command("DBSIZE") == b":0\r\n"


def test_redis_url_leaves_a_key(redis_url: str, redis_server: RedisServer) -> None:  # noqa: F811
    assert redis_url == redis_server.url
    redis_server.command("SET", "left-behind", "1")


def test_redis_url_is_emptied(redis_url: str, redis_server: RedisServer) -> None:  # noqa: F811
    """Runs after the test above, which left a key: this test's redis_url has none."""
    assert redis_server.keys() == []


def test_redis_restart_keeps_its_data() -> None:
    with RedisServer() as server:
        server.command("SET", "kept", "across restarts")
        pid = server.process.pid
        server.restart()
        assert server.process.pid != pid
        assert server.command("GET", "kept") == b"$15\r\nacross restarts\r\n"


def test_redis_stop_leaves_no_process() -> None:
    server = RedisServer().start()
    try:
        pid, port, data = server.process.pid, server.port, server.dir
        assert redis_processes_on(port) == [pid]
    finally:
        server.stop()
    assert server.process is None
    assert redis_processes_on(port) == []
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert not data.exists()
    server.stop()  # twice is harmless


def test_redis_forgotten_ends_with_its_object() -> None:
    server = RedisServer().start()
    process, data = server.process, server.dir
    del server
    gc.collect()
    assert process.poll() is not None and not data.exists()


def test_redis_retries_a_port_taken_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    """A port that was free when picked and taken before redis-server binds it: another."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ports = iter([busy, busy])
        real = redis_module.free_port
        monkeypatch.setattr(redis_module, "free_port", lambda: next(ports, None) or real())
        with RedisServer() as server:
            assert server.attempts == 3
            assert server.port != busy
            assert server.command("PING") == b"+PONG\r\n"
            assert "Address already in use" in server.log_tail()


# -- logged sites ------------------------------------------------------------------------------


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """One GET, no redirect followed: status, headers, body."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", parts.path or "/", headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


LINK = re.compile(r'(?:href|src)="([^"#]+)"')


def walk(seeds: list[str], max_calendar: int) -> dict[str, int]:
    """Breadth-first over every href and src and each redirect's Location, from ``seeds``,
    plus each host's /robots.txt and /sitemap.xml; only the first ``max_calendar`` calendar
    pages met are followed. Each URL's depth (seeds 0; robots and sitemap 0 too)."""
    depth: dict[str, int] = {}
    queue: deque[str] = deque()
    calendar = 0

    def add(url: str, d: int) -> None:
        nonlocal calendar
        if url in depth:
            return
        if "/calendar/" in url:
            if calendar >= max_calendar:
                return
            calendar += 1
        depth[url] = d
        queue.append(url)

    for seed in seeds:
        add(seed, 0)
        add(urljoin(seed, "/robots.txt"), 0)
        add(urljoin(seed, "/sitemap.xml"), 0)
    while queue:
        url = queue.popleft()
        status, headers, body = fetch(url)
        targets = LINK.findall(body.decode())
        if status in (301, 302):
            targets.append(headers["Location"])
        for target in targets:
            add(urljoin(url, target), depth[url] + 1)
    return depth


def test_sites_on_distinct_loopback_addresses() -> None:
    with LoggedSites(hosts=3, pages=10, delay=0) as sites:
        hosts = [urlsplit(seed).hostname for seed in sites.seeds]
        assert hosts == ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
        assert all(urlsplit(seed).path == "/" for seed in sites.seeds)
        for seed in sites.seeds:
            status, headers, body = fetch(seed + "reviews/7.html", **{"User-Agent": "probe"})
            assert status == 200 and headers["Content-Type"].startswith("text/html")
            html = body.decode()
            assert '<link rel="stylesheet" href="/style.css">' in html
            assert re.search(r"<article><h1>[^<]+</h1><p class=\"byline\">By [A-Z]", html)
            assert re.search(r'<time datetime="2025-\d\d-\d\d">', html)
            markup = json.loads(re.search(r'ld\+json">(.*?)</script>', html).group(1))
            assert markup["@type"] == "Review"
            assert 1 <= markup["reviewRating"]["ratingValue"] <= 5
            text = re.search(r"<article>(.*)</article>", html).group(1)
            words = len(re.sub(r"<[^>]+>", " ", text).split())
            assert 220 <= words <= 320, words
        assert [(r.host, r.path, r.user_agent, r.status) for r in sites.log] == [
            (host, "/reviews/7.html", "probe", 200) for host in hosts
        ]
        first = fetch(sites.seeds[0] + "reviews/7.html")[2]
        assert first != fetch(sites.seeds[1] + "reviews/7.html")[2]  # each host its own text
        assert first != fetch(sites.seeds[0] + "reviews/8.html")[2]
        assert fetch(sites.seeds[0] + "reviews/11.html")[0] == 404
        assert fetch(sites.seeds[2] + "style.css")[0] == 200
        assert fetch(sites.seeds[2] + "robots.txt")[2] == b"User-agent: *\nDisallow:\n"
        assert fetch(sites.seeds[2] + "sitemap.xml")[0] == 404
        sites.reset_log()
        assert sites.log == []


def test_conditional_requests_get_304() -> None:
    with LoggedSites(hosts=1, pages=5, delay=0) as sites:
        url = sites.seeds[0] + "reviews/2.html"
        status, headers, body = fetch(url)
        etag = headers["ETag"]
        assert status == 200 and headers["Last-Modified"] == LAST_MODIFIED
        assert fetch(url)[1]["ETag"] == etag  # the same body, the same ETag
        assert fetch(sites.seeds[0] + "reviews/3.html")[1]["ETag"] != etag
        status, headers, body = fetch(url, **{"If-None-Match": etag})
        assert (status, body, headers["ETag"]) == (304, b"", etag)
        assert fetch(url, **{"If-None-Match": f'"other", {etag}'})[0] == 304
        assert fetch(url, **{"If-None-Match": '"other"'})[0] == 200
        assert fetch(url, **{"If-Modified-Since": LAST_MODIFIED})[0] == 304
        assert fetch(url, **{"If-Modified-Since": "Sun, 01 Jan 2023 00:00:00 GMT"})[0] == 200
        assert (
            fetch(sites.seeds[0] + "robots.txt", **{"If-Modified-Since": LAST_MODIFIED})[0] == 304
        )
        assert [r.status for r in sites.log] == [200, 200, 200, 304, 304, 200, 304, 200, 304]


def test_calendar_trap_goes_on_and_gone_and_old() -> None:
    with LoggedSites(hosts=2, pages=5, delay=0) as sites:
        first, second = sites.seeds
        assert 'href="/calendar/2031/01/"' in fetch(first)[2].decode()
        url, seen = first + "calendar/2031/01/", []
        for _ in range(30):
            status, _, body = fetch(url)
            assert status == 200 and b"<article" not in body
            seen.append(urlsplit(url).path)
            url = urljoin(url, LINK.findall(body.decode())[-1])
        assert seen[12:14] == ["/calendar/2032/01/", "/calendar/2032/02/"]
        assert urlsplit(url).path == "/calendar/2033/07/" and len(set(seen)) == 30
        assert fetch(second + "calendar/2031/01/")[0] == 404  # the first host's trap only
        home = fetch(second)[2].decode()
        assert 'href="/gone.html"' in home and 'href="/old.html"' in home
        assert fetch(second + "gone.html")[0] == 404
        status, headers, _ = fetch(second + "old.html")
        assert (status, headers["Location"]) == (301, "/reviews/1.html")
        assert fetch(first + "old.html")[0] == 404


def concurrently(*calls: tuple[str, str]) -> None:
    """GET each (url, user agent) at once, each from its own thread."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(url: str, agent: str) -> None:
        try:
            barrier.wait(timeout=10)
            assert fetch(url, **{"User-Agent": agent})[0] == 200
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []


def test_concurrency_and_overlaps_from_the_log() -> None:
    with LoggedSites(hosts=2, pages=5, delay=0.3) as sites:
        first, second = sites.seeds
        concurrently((first, "worker-a"), (first + "reviews/1.html", "worker-b"))
        assert sites.max_concurrency(first) == 2
        assert sites.max_concurrency("127.0.0.2") == 2
        assert sites.max_concurrency(second) == 0
        pairs = sites.overlaps_between_agents(first)
        assert len(pairs) == 1
        assert {pairs[0][0].user_agent, pairs[0][1].user_agent} == {"worker-a", "worker-b"}
        assert all(isinstance(r, Request) and r.host == "127.0.0.2" for r in pairs[0])

        sites.reset_log()  # one after the other: never two at once
        for agent in ("worker-a", "worker-b"):
            fetch(first, **{"User-Agent": agent})
        assert sites.max_concurrency(first) == 1
        assert sites.overlaps_between_agents(first) == []
        log = sites.log
        assert log[0].end <= log[1].start and log[0].end - log[0].start >= 0.3

        sites.reset_log()  # one agent twice at once: concurrency, but no overlap of agents
        concurrently((second, "worker-a"), (second + "reviews/2.html", "worker-a"))
        assert sites.max_concurrency(second) == 2
        assert sites.overlaps_between_agents(second) == []

        sites.reset_log()  # three at once on two hosts
        concurrently((first, "a"), (first + "style.css", "b"), (second, "c"))
        assert sites.max_concurrency(first) == 2 and sites.max_concurrency(second) == 1
        assert len(sites.overlaps_between_agents(first)) == 1
        assert sites.overlaps_between_agents(second) == []


def test_reachable_urls_are_what_a_walk_fetches() -> None:
    with LoggedSites(hosts=3, pages=20, delay=0) as sites:
        depth = walk(sites.seeds, max_calendar=5)
        assert set(depth) == sites.reachable_urls(max_calendar=5)
        assert sites.reachable_urls(0) == {u for u in depth if "/calendar/" not in u}
        hosts = {urlsplit(seed).netloc for seed in sites.seeds}
        assert {urlsplit(url).netloc for url in depth} == hosts  # the walk stays on them
        assert len(sites.log) == len(depth)
        assert all(sites.requests_by(url) == 1 for url in depth)
        assert sites.requests_by(sites.seeds[0] + "reviews/21.html") == 0
        assert list(sites.by_agent()) == [""]  # http.client sends no User-Agent


def test_default_sites_are_reachable_within_depth_six() -> None:
    """3 hosts of 150 reviews, each review within depth 6 of its host's /; one seed is enough
    to reach every host."""
    with LoggedSites(delay=0) as sites:
        depth = walk(sites.seeds[:1], max_calendar=1)
        reviews = sites.review_urls()
        assert len(reviews) == 450 and reviews <= set(depth)
        own = walk(sites.seeds, max_calendar=1)
        assert max(own[url] for url in reviews) == 6
        assert set(own) == sites.reachable_urls(max_calendar=1)


def test_a_request_is_logged_once_its_client_has_the_answer() -> None:
    """A client can read a whole response before the handler has logged it: the log waits
    for it, so a test that reads the log right after its request finds that request."""
    with LoggedSites(hosts=1, pages=3, delay=0) as sites:
        url = sites.seeds[0] + "style.css"
        conn = http.client.HTTPConnection(urlsplit(url).hostname, urlsplit(url).port, timeout=30)
        try:
            for count in range(1, 1001):
                conn.request("GET", "/style.css")
                assert conn.getresponse().read()
                assert sites.requests_by(url) == count
        finally:
            conn.close()
        assert all(r.end >= r.start for r in sites.log)
