"""What a hostile site cannot do to a crawl at the transport level: hang it, blow up its
memory, crash it with malformed HTTP, smuggle headers through a redirect, or send it to
``file:`` and ``gopher:`` targets. Every hostile URL ends as a ``captures`` or ``failures``
row, and the well-behaved article beside them is still stored.

The site is a raw-socket server (``http.server`` cannot send most of these responses): each
route writes the bytes of its answer itself.
"""

from __future__ import annotations

import gzip
import select
import socket
import socketserver
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import brotlicffi
import psutil
import pytest

from archive.database import ArchiveDB
from archive.datadir import DataDir
from tests.conftest import run_reviewarc, wait_until, warcio_check

MB = 1 << 20
CAP = 32 * MB  # DOWNLOAD_MAXSIZE of the crawl: Scrapy's and reviewarc's default
ONE_LINE_SIZE = 30_000_000  # fits under CAP: it is stored, not refused
BOMB_SIZE = 100 * MB  # zeros behind each decompression bomb
NO_LENGTH_LIMIT = CAP + 16 * MB  # /no-length/ gives up sending here
DRIP_LENGTH = 1000  # bytes the drip route promises, one a second
TIMEOUT = 3  # DOWNLOAD_TIMEOUT of the crawl, seconds: 30 MB must still arrive in time
PEAK_LIMIT_MB = 600
WALL_LIMIT = 150  # seconds: a hang fails the test instead of holding the session

WORDS = (
    "The lighthouse keeper watches the tide for ninety minutes and the film lets every "
    "wave land. Its slow burn rewards patience, and the final scene is earned. "
) * 6


def article(title: str) -> bytes:
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title>"
        '<meta property="og:type" content="article"></head>'
        f"<body><article><h1>{title}</h1><p>{WORDS}</p></article></body></html>"
    ).encode()


# -- the server ---------------------------------------------------------------------------


@dataclass
class Logged:
    request_line: str
    path: str
    header_lines: list[str]


@dataclass
class Connection:
    """One accepted client connection, handed to a route."""

    sock: socket.socket
    stopping: threading.Event

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def hung_up(self) -> bool:
        """Has the client closed its end (it sends nothing more after its request)?"""
        readable, _, _ = select.select([self.sock], [], [], 0)
        if not readable:
            return False
        try:
            return self.sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def reset(self) -> None:
        """Close with a TCP RST instead of a FIN (SO_LINGER on, 0 seconds)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


Route = Callable[[Connection], None]


class HostileServer(socketserver.ThreadingTCPServer):
    """127.0.0.1, a port chosen at run time; one request per connection; each route answers
    with raw bytes. Unknown paths are a plain 404."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False  # stop() never waits on a client; drips end on ``stopping``

    def __init__(self, routes: Callable[[HostileServer], dict[str, Route]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.port = self.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.stopping = threading.Event()
        self.log: list[Logged] = []
        self.openings: list[bytes] = []  # the first bytes of every connection
        self.dripping = 0  # drip loops running now
        self.lock = threading.Lock()
        self.routes = routes(self)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=10)


class _Handler(socketserver.BaseRequestHandler):
    server: HostileServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(20)  # no route ever blocks on a client forever
        head = _read_head(sock, self.server.openings)
        if head is None:
            return
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = request_line.split(" ")
        path = parts[1] if len(parts) == 3 else ""
        with self.server.lock:
            self.server.log.append(Logged(request_line, path, header_lines))
        route = self.server.routes.get(path.split("?", 1)[0], not_found)
        try:
            route(Connection(sock, self.server.stopping))
        except OSError:
            pass  # the client hung up (reset, broken pipe, timeout): nothing to answer


def _read_head(sock: socket.socket, openings: list[bytes]) -> bytes | None:
    """The request head; its first bytes go to ``openings`` at once, whatever protocol
    they turn out to be (a gopher selector never ends in a blank line)."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(65536)
        except OSError:
            return None
        if not data:
            openings.append(chunk[:100])
        if not chunk or len(data) > 1 * MB:
            return None
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0]


def head(status: str, *headers: str) -> bytes:
    return ("".join(f"{line}\r\n" for line in (f"HTTP/1.1 {status}", *headers)) + "\r\n").encode(
        "latin-1"
    )


def page(
    body: bytes, ctype: str = "text/html; charset=utf-8", status: str = "200 OK", *extra: str
) -> Route:
    def route(conn: Connection) -> None:
        conn.send(
            head(status, f"Content-Type: {ctype}", f"Content-Length: {len(body)}",
                 "Connection: close", *extra) + body
        )  # fmt: skip

    return route


def raw(data: bytes, then_reset: bool = False) -> Route:
    def route(conn: Connection) -> None:
        conn.send(data)
        if then_reset:
            conn.reset()

    return route


def redirect(location: str) -> Route:
    return raw(head("302 Found", f"Location: {location}", "Content-Length: 0", "Connection: close"))


not_found = page(b"<p>no such page</p>", status="404 Not Found")


def streamed(chunks: Iterable[bytes], compressor: Callable[[bytes], bytes],
             flush: Callable[[], bytes]) -> bytes:  # fmt: skip
    """Compress ``chunks`` one by one, never holding the whole plain text."""
    return b"".join(compressor(chunk) for chunk in chunks) + flush()


def zeros(size: int) -> Iterator[bytes]:
    chunk = b"\0" * MB
    for _ in range(size // MB):
        yield chunk


def deflate_bomb(size: int) -> bytes:
    z = zlib.compressobj(9)  # HTTP "deflate" is the zlib format
    return streamed(zeros(size), z.compress, z.flush)


def brotli_bomb(size: int) -> bytes:
    b = brotlicffi.Compressor(quality=5)
    return streamed(zeros(size), b.process, b.finish)


def sitemap_bomb(size: int, loc: str) -> bytes:
    """A gzip file: a sitemap naming ``loc``, then ``size`` bytes of ``0`` in a comment."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    shell = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{loc}</loc></url><!-- "
    ).encode()
    chunk = b"0" * MB
    parts = [shell, *(chunk for _ in range(size // MB)), b" --></urlset>"]
    return streamed(parts, z.compress, z.flush)


def drip(server: HostileServer) -> Route:
    """Headers at once, then the body one byte a second until the client hangs up."""

    def route(conn: Connection) -> None:
        conn.send(head("200 OK", "Content-Type: text/html", f"Content-Length: {DRIP_LENGTH}",
                       "Connection: close"))  # fmt: skip
        with server.lock:
            server.dripping += 1
        try:
            for _ in range(DRIP_LENGTH):
                if conn.stopping.wait(1.0) or conn.hung_up():
                    return
                conn.send(b"x")
        finally:
            with server.lock:
                server.dripping -= 1

    return route


def no_length(conn: Connection) -> None:
    """No Content-Length, no chunking: HTML until the client gives up (or the limit)."""
    conn.send(head("200 OK", "Content-Type: text/html", "Connection: close"))
    conn.send(b"<!DOCTYPE html><html><head><title>Endless</title></head><body>")
    chunk = b"<p>more and more and more</p>\n" * (MB // 30)
    sent = 0
    while sent < NO_LENGTH_LIMIT and not conn.stopping.is_set():
        conn.send(chunk)  # raises once the client has closed its end
        sent += len(chunk)


def routes(server: HostileServer) -> dict[str, Route]:
    base = server.base_url
    deflate, brotli = deflate_bomb(BOMB_SIZE), brotli_bomb(BOMB_SIZE)
    bomb = sitemap_bomb(BOMB_SIZE, f"{base}/good/")
    one_line = (
        b"<!DOCTYPE html><html><head><title>One line</title></head><body>"
        + b"<span>one long line of words</span> " * (ONE_LINE_SIZE // 36)
        + b"</body></html>"
    )
    nested = b"<!DOCTYPE html><html><head><title>Nested</title></head><body>" + (
        b"<div>" * 1_000_000
    ) + b"deep</body></html>"  # fmt: skip
    percent = "".join(f'<a href="{href}">odd</a> ' for href in PERCENT_LINKS).encode()
    refresh = '<html><head><meta http-equiv="refresh" content="0; url={}"></head></html>'
    bad_body = b"<!DOCTYPE html><html><head><title>Truncated</title></head><body>" + b"x" * 500
    return {
        "/": page(
            "".join(f'<a href="{path}">{path}</a> ' for path in ["/good/", *LINKED]).encode()
        ),
        "/robots.txt": page(
            f"User-agent: *\nAllow: /\nSitemap: {base}{SITEMAP_BOMB}\n".encode(), "text/plain"
        ),
        "/good/": page(article("A lighthouse worth the wait")),
        "/drip/": drip(server),
        "/no-length/": no_length,
        "/short-length/": raw(
            head("200 OK", "Content-Type: text/html", "Content-Length: 5000", "Connection: close")
            + bad_body
        ),
        "/long-length/": raw(
            head("200 OK", "Content-Type: text/html", "Content-Length: 100") + bad_body * 4
        ),
        "/broken-chunked/": raw(
            head("200 OK", "Content-Type: text/html", "Transfer-Encoding: chunked")
            + b"5\r\n<html\r\nzz-not-a-size\r\nmore\r\n0\r\n\r\n"
        ),
        "/reset/": raw(
            head("200 OK", "Content-Type: text/html", "Content-Length: 1000") + bad_body,
            then_reset=True,
        ),
        "/dup-length/": raw(
            head(
                "200 OK",
                "Content-Type: text/html",
                "Content-Length: 5",
                "Content-Length: 50",
                "Connection: close",
            )
            + b"hello"
            + b"x" * 45
        ),
        "/many-headers/": raw(
            head(
                "200 OK",
                "Content-Type: text/html",
                "Content-Length: 11",
                "Connection: close",
                *(f"X-Header-{n}: value {n}" for n in range(10_000)),
            )
            + b"<p>many</p>"
        ),
        "/huge-header/": raw(
            head(
                "200 OK",
                "Content-Type: text/html",
                "Content-Length: 11",
                "Connection: close",
                "X-Huge: " + "h" * MB,
            )
            + b"<p>huge</p>"
        ),
        "/invalid-gzip/": page(
            b"this is not gzip at all\n" * 40, "text/html", "200 OK", "Content-Encoding: gzip"
        ),
        "/deflate-bomb/": page(deflate, "text/html", "200 OK", "Content-Encoding: deflate"),
        "/brotli-bomb/": page(brotli, "text/html", "200 OK", "Content-Encoding: br"),
        SITEMAP_BOMB: page(bomb, "application/gzip"),
        "/cr-location/": raw(
            b"HTTP/1.1 302 Found\r\nLocation: /good/\rX-Injected: 1\r\n"
            b"Content-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        "/file-redirect/": redirect("file:///etc/passwd"),
        # The server's own port: were gopher: ever fetched, this server would see it.
        "/gopher-redirect/": redirect(f"gopher://127.0.0.1:{server.port}/"),
        "/429/": page(b"<p>slow down</p>", "text/html", "429 Too Many Requests", "Retry-After: 1"),
        "/refresh-a/": page(refresh.format("/refresh-b/").encode()),
        "/refresh-b/": page(refresh.format("/refresh-a/").encode()),
        "/one-line/": page(one_line),
        "/nested/": page(nested),
        "/percent/": page(
            b"<!DOCTYPE html><html><head><title>Odd</title></head><body>"
            + percent
            + b"</body></html>"
        ),
    }


SITEMAP_BOMB = "/sitemap-bomb.xml.gz"  # named by robots.txt only
# Linked from the home page. /refresh-b/ is not: it is reached through /refresh-a/'s meta
# refresh, and a link of its own would let the duplicate filter end the loop instead.
LINKED = [
    "/drip/", "/no-length/", "/short-length/", "/long-length/", "/broken-chunked/", "/reset/",
    "/dup-length/", "/many-headers/", "/huge-header/", "/invalid-gzip/", "/deflate-bomb/",
    "/brotli-bomb/", "/cr-location/", "/file-redirect/", "/gopher-redirect/", "/429/",
    "/refresh-a/", "/one-line/", "/nested/", "/percent/",
]  # fmt: skip
PERCENT_LINKS = ["/a%zz/", "/%E9t%C3%A9/", "/a%00b/", "/%2e%2e/%2e%2e/etc/passwd"]
HOSTILE = [*LINKED, "/refresh-b/", SITEMAP_BOMB, *PERCENT_LINKS]

# What each hostile URL became where that is certain: the kinds of its failure row...
FAILED = {
    "/drip/": {"timeout"},
    "/no-length/": {"too_large"},
    "/deflate-bomb/": {"too_large"},
    "/brotli-bomb/": {"too_large"},
    SITEMAP_BOMB: {"too_large"},
    "/429/": {"http"},
    "/short-length/": {"data_loss"},
    # Malformed framing: how Twisted notices it (lost data or a refused head) may vary.
    "/broken-chunked/": {"data_loss", "connection"},
    "/reset/": {"data_loss", "connection"},
    "/dup-length/": {"data_loss", "connection"},
    "/huge-header/": {"data_loss", "connection"},
}
# ... and the status of its capture (archived as received).
CAPTURED = {
    "/long-length/": 200,  # the declared 100 bytes; the rest is not the body
    "/many-headers/": 200,
    "/invalid-gzip/": 200,  # archived as sent, and a failure (it cannot be decoded)
    "/cr-location/": 302,
    "/file-redirect/": 302,
    "/gopher-redirect/": 302,
    "/one-line/": 200,
    "/nested/": 200,
    "/percent/": 200,
    "/refresh-a/": 200,
}


# -- measuring the crawl ------------------------------------------------------------------


@dataclass
class PeakMemory:
    """The largest total PSS of this process's children (the crawl, its forkserver and
    extraction workers), sampled in a thread while the block runs. PSS, not RSS: the workers
    share most of their pages with the forkserver, and summed RSS would count those pages
    once per process (about 250 MB more than the tree really holds)."""

    peak: int = 0  # PSS, bytes
    peak_rss: int = 0  # summed RSS, bytes: reported only
    _done: threading.Event = field(default_factory=threading.Event)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._done.is_set():
            rss = pss = 0
            for child in me.children(recursive=True):
                try:
                    info = child.memory_full_info()
                except psutil.Error:
                    continue  # ended between listing and reading
                rss, pss = rss + info.rss, pss + info.pss
            self.peak_rss, self.peak = max(self.peak_rss, rss), max(self.peak, pss)
            self._done.wait(0.05)

    def __enter__(self) -> PeakMemory:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


@pytest.fixture
def server() -> Iterator[HostileServer]:
    server = HostileServer(routes)
    yield server
    server.stop()


def test_a_hostile_site_ends_in_rows_not_in_a_hang_a_crash_or_a_leak(
    server: HostileServer, tmp_path: Path
) -> None:
    base = server.base_url
    data = tmp_path / "data"
    started = time.monotonic()
    with PeakMemory() as memory:
        result = run_reviewarc(
            "crawl", base + "/", "--data", str(data),
            "--set", f"DOWNLOAD_TIMEOUT={TIMEOUT}", "--set", f"DOWNLOAD_MAXSIZE={CAP}",
            timeout=WALL_LIMIT,
        )  # fmt: skip
    wall = time.monotonic() - started
    peak_mb = memory.peak / MB
    print(f"crawl: {wall:.1f} s; peak of the process tree: PSS {peak_mb:.0f} MB, "
          f"summed RSS {memory.peak_rss / MB:.0f} MB")  # fmt: skip

    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-5000:]
    assert peak_mb < PEAK_LIMIT_MB, f"peak PSS {peak_mb:.0f} MB"
    # The drip stopped when the crawler hung up, long before its 1000 bytes.
    wait_until(lambda: server.dripping == 0, 5, "the drip loop ending")

    archive = ArchiveDB.open_readonly(DataDir(data).db_path)
    con = archive.db
    captured = dict(con.execute("select url, status from captures").fetchall())
    failures: dict[str, set[str]] = {}
    for url, kind in con.execute("select url, kind from failures").fetchall():
        failures.setdefault(url, set()).add(kind)
    # Nothing silently lost: each hostile URL was archived or recorded as failed.
    lost = [path for path in HOSTILE if base + path not in captured.keys() | failures.keys()]
    assert lost == [], (lost, sorted(failures.items()))
    for path, kinds in FAILED.items():
        assert failures.get(base + path, set()) & kinds, (path, failures.get(base + path))
    for path, status in CAPTURED.items():
        assert captured.get(base + path) == status, (path, captured.get(base + path))
    assert failures.get(base + "/invalid-gzip/"), "an undecodable body is a failure too"
    (long_length,) = con.execute(
        "select payload_length from captures where url = ?", [base + "/long-length/"]
    )
    assert long_length == (100,)

    (good,) = con.execute("select title from articles where url = ?", [base + "/good/"])
    assert good == ("A lighthouse worth the wait",)
    archive.close()

    # file: and gopher: redirect targets were never followed: no row, no connection.
    rows = captured.keys() | failures.keys()
    assert not [url for url in rows if url.startswith(("file:", "gopher:"))]
    for path in ("/file-redirect/", "/gopher-redirect/"):  # refused, and said so
        assert failures.get(base + path) == {"offsite"}, (path, failures.get(base + path))
    assert [o for o in server.openings if o and not o.startswith(b"GET /")] == []
    # The raw CR in a Location did not become a header of the next request.
    assert not any(
        line.lower().startswith("x-injected") for e in server.log for line in e.header_lines
    )
    warcs = sorted((data / "warcs").glob("*.warc.gz"))
    for path in warcs:
        assert b"root:" not in gzip.open(path).read(), path
    check = warcio_check(warcs)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
