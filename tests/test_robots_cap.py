"""A huge robots.txt: its first 500 KiB are obeyed, the rest ignored, all of it archived, and
the crawl's memory stays bounded."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import BIN

HOME = (
    b"<html><head><title>Home</title></head><body>"
    b'<a href="/private/page.html">private</a> <a href="/late/page.html">late</a>'
    b"</body></html>"
)


def huge_robots_txt() -> bytes:
    """~24 MB: a rule early, 24 MB of ``Allow`` lines, then a rule far past 500 KiB."""
    filler = b"".join(b"Allow: /filler/%07d/page.html\n" % n for n in range(800_000))
    return b"User-agent: *\nDisallow: /private/\n" + filler + b"Disallow: /late/\n"


class _Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, robots: bytes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.robots = robots
        self.requested: list[str] = []
        host, port = self.server_address[:2]
        self.base_url = f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: _Site

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.requested.append(self.path)
        if self.path == "/robots.txt":
            status, ctype, body = 200, "text/plain", self.server.robots
        elif self.path in ("/", "/private/page.html", "/late/page.html"):
            status, ctype, body = 200, "text/html", HOME
        else:
            status, ctype, body = 404, "text/plain", b"not here"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def site() -> Iterator[_Site]:
    server = _Site(huge_robots_txt())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


#: Runs the command and prints the peak RSS of the largest process it started (the crawl,
#: or one of its extraction workers): ru_maxrss over the waited-for children.
PEAK = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:])
print("PEAK_RSS_KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def test_huge_robots_txt_is_obeyed_to_500_kib_and_archived_whole(site: _Site, tmp_path) -> None:
    assert len(site.robots) > 24_000_000
    result = subprocess.run(
        [sys.executable, "-c", PEAK, str(BIN / "reviewarc"), "crawl", site.base_url + "/"]
        + ["--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]

    assert "/private/page.html" not in site.requested  # a rule before the cap: obeyed
    assert "/late/page.html" in site.requested  # a rule after it: ignored

    archived = None
    for path in (tmp_path / "warcs").glob("*.warc.gz"):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                uri = record.rec_headers.get_header("WARC-Target-URI")
                if record.rec_type == "response" and uri == site.base_url + "/robots.txt":
                    archived = record.content_stream().read()
    assert archived == site.robots  # the whole response, byte for byte

    peak_mb = int(result.stderr.rsplit("PEAK_RSS_KB", 1)[1].split()[0]) / 1024
    assert peak_mb < 400, f"peak RSS {peak_mb:.0f} MB"
