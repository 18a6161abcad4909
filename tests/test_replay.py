"""`reviewarc replay`: pywb's URL scheme over the archive, nothing from outside it."""

from __future__ import annotations

import http.client
import re
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archive.capture_store import CaptureStore
from archive.database import ArchiveDB
from archive.datadir import DataDir
from archive.exchange import Exchange, RequestHead, ResponseHead
from archive.warc_writer import WARCFileWriter
from tests.conftest import REPLAY_ADDRESS, Crawl, get, replay_command, run_reviewarc, running
from tests.mockserver import FixtureServer


def capture_again(data: Path, url: str, date: datetime) -> None:
    """Fetch ``url`` now and archive the exchange as made at ``date``, with the writer and
    store a crawl archives through: a later capture at a second of its own, with no waiting
    for the clock to reach one."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", parts.path, headers={"User-Agent": "reviewarc-tests"})
        response = conn.getresponse()
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.getheaders()]
        exchange = Exchange(
            url=url, date=date, body=response.read(), ip_address="127.0.0.1",
            request=RequestHead(b"GET", url, [(b"User-Agent", b"reviewarc-tests")]),
            response=ResponseHead(response.status, headers, reason=response.reason.encode(),
                                  raw=True),
        )  # fmt: skip
    finally:
        conn.close()
    datadir = DataDir(data)
    archive = ArchiveDB.open(datadir.db_path)
    writer = WARCFileWriter(datadir.warc_dir, clock=lambda: date, warcinfo={"software": "tests"})
    store = CaptureStore(writer, archive)
    try:
        assert store.capture(exchange).record_type == "response"
    finally:
        store.close()
        archive.close()


@pytest.fixture(scope="module")
def archive(site: FixtureServer, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    """A crawl of pages including one that changes every time it is fetched, and that page
    captured again an hour later (by the clock the capture is given)."""
    data = tmp_path_factory.mktemp("replay") / "data"
    seeds = [site.base_url + p for p in ("/changing/", "/gzip/", "/reviews/one/")]
    result = run_reviewarc("crawl", *seeds, "--depth", "0", "--data", str(data))
    assert result.returncode == 0, result.stderr[-2000:]
    crawl = Crawl(result, data, site)
    changing = site.base_url + "/changing/"
    (first,) = crawl.sql(f"select fetched_at from captures where url = '{changing}'")
    capture_again(data, changing, datetime.fromisoformat(first["fetched_at"]) + timedelta(hours=1))
    return crawl


@pytest.fixture(scope="module")
def replay(archive: Crawl):
    with running(replay_command(archive.data), REPLAY_ADDRESS) as server:
        yield server.ports[0]


def stamps(archive: Crawl, path: str) -> list[str]:
    rows = archive.sql(
        f"select fetched_at from captures where url = '{archive.server.base_url}{path}' "
        "order by fetched_at"
    )
    return ["".join(ch for ch in r["fetched_at"] if ch.isdigit())[:14] for r in rows]


def test_id_replay_is_the_capture_as_archived(archive: Crawl, replay: int) -> None:
    status, headers, body = get(
        replay, f"/web/2id_/{archive.server.base_url}/gzip/", **{"Accept-Encoding": "gzip"}
    )
    assert status == 200
    assert body == archive.server.sent["/gzip/"]
    assert headers.get("Content-Encoding") == "gzip"


def test_nearest_capture_is_served(archive: Crawl, replay: int) -> None:
    first, second = stamps(archive, "/changing/")
    assert first != second
    url = archive.server.base_url + "/changing/"
    assert b"Edition 1 " in get(replay, f"/web/{first}id_/{url}")[2]
    assert b"Edition 2 " in get(replay, f"/web/{second}id_/{url}")[2]
    assert b"Edition 1 " in get(replay, f"/web/{int(first) - 5}id_/{url}")[2]
    assert b"Edition 2 " in get(replay, f"/web/{int(second) + 60}id_/{url}")[2]
    assert get(replay, f"/web/2id_/{url}")[0] == 200  # a 1-digit timestamp
    assert get(replay, f"/web/{first[:8]}id_/{url}")[0] == 200  # a day


def test_page_for_browsers_has_links_rewritten(archive: Crawl, replay: int) -> None:
    url = archive.server.base_url + "/reviews/one/"
    status, _, body = get(replay, f"/web/2/{url}")
    assert status == 200
    hrefs = re.findall(rb'href="([^"]+)"', body)
    assert any(h.startswith(b"/web/") and b"/reviews/two/" in h for h in hrefs)
    assert not any(h.startswith(archive.server.base_url.encode()) for h in hrefs)


def test_capture_list(archive: Crawl, replay: int) -> None:
    url = archive.server.base_url + "/changing/"
    status, _, body = get(replay, f"/web/*/{url}")
    assert status == 200
    status, _, body = get(replay, f"/web/timemap/link/{url}")
    assert status == 200
    for stamp in stamps(archive, "/changing/"):
        assert stamp.encode() in body


def test_unknown_urls_are_404(archive: Crawl, replay: int) -> None:
    assert get(replay, f"/web/2id_/{archive.server.base_url}/never/")[0] == 404
    assert get(replay, "/web/2/http://example.invalid/")[0] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/web/2id_/file:///etc/passwd",
        "/web/2id_/../../../../etc/passwd",
        "/web/2id_/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/../../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "//etc/passwd",
        "/web/2id_//etc/passwd",
    ],
)
def test_nothing_outside_the_archive(replay: int, path: str) -> None:
    status, _, body = get(replay, path)
    assert b"root:" not in body
    assert status in (400, 404) or b"<html" in body.lower()


def test_replay_does_not_touch_the_live_site(archive: Crawl, replay: int) -> None:
    before = len(archive.server.log)
    get(replay, f"/web/2/{archive.server.base_url}/reviews/one/")
    get(replay, f"/web/2id_/{archive.server.base_url}/not-archived/")
    assert len(archive.server.log) == before
