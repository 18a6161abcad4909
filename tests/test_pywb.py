"""An independent replay engine reads our WARCs: pywb indexes them and serves each page
with ``id_`` exactly as the server sent it."""

from __future__ import annotations

import http.client
import subprocess
import sys

import pytest

from tests.conftest import BIN, Crawl, running

#: pywb's ``wayback`` command, as its entry point runs it (same application, same request
#: handler), on a port the system picks: ``wayback -p 0`` would not say which.
WAYBACK = """
from gevent.monkey import patch_all; patch_all()
from gevent.pywsgi import WSGIServer
from pywb.apps.cli import WaybackCli
from pywb.utils.geventserver import RequestURIWSGIHandler

cli = WaybackCli(args=["-b", "127.0.0.1"], desc="pywb Wayback Machine Server")
server = WSGIServer(("127.0.0.1", 0), cli.application, handler_class=RequestURIWSGIHandler)
server.init_socket()
print(f"wayback at http://127.0.0.1:{server.address[1]}/", flush=True)
server.serve_forever()
"""


class Replay:
    """A ``wayback`` (pywb) server in its own process; raw HTTP, no decoding."""

    def __init__(self, port: int) -> None:
        self.port = port

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            # Accept the codings the crawler accepted, so pywb has no reason to decode.
            conn.request("GET", path, headers={"Accept-Encoding": "gzip, deflate, br"})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def pywb(crawled: Crawl, tmp_path_factory: pytest.TempPathFactory):
    assert crawled.result.returncode == 0, crawled.result.stderr[-2000:]
    root = tmp_path_factory.mktemp("pywb")
    manager = str(BIN / "wb-manager")
    subprocess.run([manager, "init", "web"], cwd=root, check=True, capture_output=True)
    subprocess.run(
        [manager, "add", "web", *map(str, crawled.warcs)], cwd=root, check=True, capture_output=True
    )
    index = (root / "collections/web/indexes/index.cdxj").read_text()
    command = [sys.executable, "-c", WAYBACK]
    with running(command, r"wayback at http://127\.0\.0\.1:(\d+)/", cwd=root) as server:
        yield Replay(server.ports[0]), index


def test_pywb_indexes_every_capture(crawled: Crawl, pywb) -> None:
    _, index = pywb
    lines = [line for line in index.splitlines() if line.strip()]
    captures = crawled.sql("select url from captures")
    # One CDXJ line per response (requests are not indexed as captures).
    assert len([line for line in lines if '"mime"' in line]) >= len(captures)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/reviews/one/",
        "/gzip/",
        "/chunked/",
        "/cookies/",
        "/files/review.pdf",
        "/only-in-sitemap/",
        "/reason/",
    ],
)
def test_id_replay_is_byte_identical(crawled: Crawl, pywb, path: str) -> None:
    replay, _ = pywb
    status, body = replay.get(f"/web/2id_/{crawled.server.base_url}{path}")
    assert status == 200
    assert body == crawled.server.sent[path]


def test_replay_of_unknown_url_is_404(crawled: Crawl, pywb) -> None:
    replay, _ = pywb
    status, _ = replay.get(f"/web/2id_/{crawled.server.base_url}/never-crawled/")
    assert status == 404
