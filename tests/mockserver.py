"""A local fixture web site for tests: ``tests/site/`` plus routes with HTTP behaviours.

Runs in a thread on 127.0.0.1, port chosen at run time. Every request is logged (path and
headers) and the exact body bytes of each response are kept, so tests can compare what
the server sent with what the archive holds.
"""

from __future__ import annotations

import base64
import gzip
import random
import re
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import brotlicffi

SITE = Path(__file__).parent / "site"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".pdf": "application/pdf",
    ".css": "text/css",
    ".png": "image/png",
    ".woff2": "font/woff2",
}
_MANY = re.compile(r"^/many/(\d+)/$")
_BIG = re.compile(r"^/big/(\d+)/$")
_CALENDAR = re.compile(r"^/calendar/(\d{4})/(\d{2})/$")


@dataclass
class Logged:
    method: str
    path: str  # with query string
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def gzip_bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * (1 << 20)
    out = [compressor.compress(chunk) for _ in range(size >> 20)]
    return b"".join(out) + compressor.flush()


def brotli_bomb(size: int) -> bytes:
    compressor = brotlicffi.Compressor(quality=5)
    chunk = b"\0" * (1 << 20)
    out = [compressor.process(chunk) for _ in range(size >> 20)]
    return b"".join(out) + compressor.finish()


class FixtureHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FixtureServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    # -- helpers ---------------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str = "text/html; charset=utf-8",
        headers: list[tuple[str, str]] | None = None,
        reason: str | None = None,
    ) -> None:
        self.send_response(status, reason)
        self.send_header("Content-Type", ctype)
        for k, v in headers or []:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.server.sent[self.path] = body

    def _redirect(self, status: int, location: str) -> None:
        self._send(status, b"", headers=[("Location", location)])

    def _page(self, title: str, body_html: str, head: str = "") -> bytes:
        return (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}'
            f"</title>{head}</head><body>{body_html}</body></html>"
        ).encode()

    def _template(self, data: bytes) -> bytes:
        host, port = self.server.server_address[:2]
        return (
            data.replace(b"{BASE}", self.server.base_url.encode())
            .replace(b"{OFFSITE}", f"http://localhost:{port}".encode())
            .replace(b"{HOST}", f"{host}".encode())
        )

    # -- routes ----------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: C901
        self.server.log.append(Logged(self.command, self.path, list(self.headers.items())))
        url = urlsplit(self.path)
        path = url.path
        if path == "/robots.txt" and self.server.mode == "robots503":
            return self._send(503, b"Service Unavailable", "text/plain")
        if self.server.mode == "tree":
            return self._tree(path)
        if path == "/gzip/":
            html = self._page("Gzip – Fixture Reviews", "<h1>Compressed</h1><p>" + "gz " * 300)
            self.server.sent_decoded[self.path] = html
            return self._send(
                200, gzip.compress(html, mtime=0), headers=[("Content-Encoding", "gzip")]
            )
        if path == "/chunked/":
            return self._chunked()
        if path == "/cookies/":
            return self._send(
                200,
                self._page("Cookies", "<p>Two cookies set.</p>"),
                headers=[
                    ("Set-Cookie", "session=abc123; Path=/"),
                    ("Set-Cookie", "theme=dark; Path=/"),
                ],
            )
        if path == "/search":
            q = parse_qs(url.query)
            return self._send(
                200, self._page("Search", f"<p>Results for {q.get('q')} page {q.get('page')}</p>")
            )
        if path.startswith("/cond/") or path.startswith("/plain/"):
            return self._revisitable(path)
        if path == "/changing/":
            self.server.changes += 1
            body = f"<p>Edition {self.server.changes} of a changing page.</p>"
            return self._send(200, self._page("Changing", body))
        if path == "/elsewhere":  # another host of this server: the site lives on 127.0.0.1
            return self._redirect(301, self.server.base_url + "/reviews/one/")
        if path == "/articles/old-critic":
            return self._redirect(301, "/articles/critic/")
        if path == "/old-review":
            return self._redirect(301, "/moved-once")
        if path == "/moved-once":
            return self._redirect(302, "/reviews/two/")
        if path == "/loop-a":
            return self._redirect(302, "/loop-b")
        if path == "/loop-b":
            return self._redirect(302, "/loop-a")
        if path == "/broken":
            return self._send(500, self._page("Error", "<p>Something broke.</p>"))
        if path == "/reason/":
            return self._send(
                200, self._page("Reason", "<p>Custom reason.</p>"), reason="Fine Thanks"
            )
        if path.startswith("/bomb/"):
            kind = path.split("/")[2]
            body = self.server.bomb(kind)
            encoding = "gzip" if kind == "gzip" else "br"
            return self._send(200, body, headers=[("Content-Encoding", encoding)])
        if path == "/slow/":
            time.sleep(self.server.slow_seconds)
            return self._send(200, self._page("Slow", "<p>Finally.</p>"))
        if path.startswith("/repeat/"):
            return self._send(200, self._page("Repeat", '<a href="repeat/">deeper</a>'))
        if m := _BIG.match(path):
            n = int(m.group(1))
            filler = base64.b64encode(random.Random(n).randbytes(90_000)).decode()
            link = f'<a href="/big/{n + 1}/">next</a>' if n < 60 else ""
            return self._send(200, self._page(f"Big {n}", f"{link}<!-- {filler} -->"))
        if m := _CALENDAR.match(path):
            year, month = int(m.group(1)), int(m.group(2))
            prev = (year, month - 1) if month > 1 else (year - 1, 12)
            nxt = (year, month + 1) if month < 12 else (year + 1, 1)
            links = "".join(
                f'<a href="/calendar/{y:04d}/{mo:02d}/">{y}-{mo:02d}</a> ' for y, mo in (prev, nxt)
            )
            return self._send(200, self._page(f"Events {year}-{month:02d}", links))
        return self._static(path)

    def do_HEAD(self) -> None:
        self.do_GET()

    def _static(self, path: str) -> None:
        target = (SITE / path.lstrip("/")).resolve()
        if SITE.resolve() not in target.parents and target != SITE.resolve():
            return self._send(404, b"not found", "text/plain")
        if target.is_dir():
            if not path.endswith("/"):
                return self._redirect(301, path + "/")
            target = target / "index.html"
        if not target.is_file():
            return self._send(404, self._page("Not found", "<p>No such page.</p>"))
        data = target.read_bytes()
        if target.suffix in (".html", ".xml", ".txt"):
            data = self._template(data)
        ctype = _TYPES.get(target.suffix, "application/octet-stream")
        if target.name.endswith(".euc-kr.html"):
            ctype = "text/html; charset=euc-kr"
        elif target.name.endswith(".latin1.html"):
            ctype = "text/html; charset=iso-8859-1"
        elif target.suffix == ".html" and target.is_relative_to(SITE / "articles"):
            ctype = "text/html"  # these pages declare their charset themselves, or not at all
        self._send(200, data, ctype)

    def _tree(self, path: str) -> None:
        """Mode "tree": ``/many/1/`` to ``/many/{tree_size}/``, each linking to its two
        children, a little slow; nothing else exists. Every page's text names
        ``server.edition`` (edit the whole site by changing it)."""
        m = _MANY.match(path)
        if not m or not 1 <= int(m.group(1)) <= self.server.tree_size:
            return self._send(404, b"not found", "text/plain")
        n = int(m.group(1))
        time.sleep(0.01)
        links = "".join(
            f'<a href="/many/{c}/">page {c}</a> ' for c in (2 * n, 2 * n + 1)
            if c <= self.server.tree_size
        )  # fmt: skip
        edition = self.server.edition
        return self._send(200, self._page(
            f"Page {n}", f"<article><h1>Page {n}</h1><p>Review number {n}, edition {edition}. "
            + "Words about it. " * 40 + f"</p></article>{links}",
            head='<meta property="og:type" content="article">',
        ))  # fmt: skip

    def _revisitable(self, path: str) -> None:
        """Pages for incremental crawls. ``/cond/...`` supports ETag and Last-Modified;
        ``/plain/...`` has no validators. Pages named ``edited`` change with
        ``server.edition``; ``/cond/`` and ``/plain/`` link to their siblings."""
        name = path.strip("/").split("/")[-1]
        section = path.split("/")[1]
        edition = self.server.edition if name == "edited" else 1
        siblings = "".join(f'<a href="/{section}/{n}/">{n}</a> ' for n in ("a", "b", "edited"))
        body = self._page(
            f"{name} – Fixture Reviews",
            f"<article><h1>{name}</h1><p>Review {name}, edition {edition}. "
            + "A steady paragraph of text. " * 30
            + f"</p></article>{siblings}",
            head='<meta property="og:type" content="article">',
        )
        if section == "plain":
            return self._send(200, body)
        etag = f'"{name}-{edition}"'
        modified = f"Mon, 0{edition} Jun 2026 10:00:00 GMT"
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            self.server.sent[self.path] = b""
            return None
        return self._send(200, body, headers=[("ETag", etag), ("Last-Modified", modified)])

    def _chunked(self) -> None:
        parts = [b"<!DOCTYPE html><html><head><title>Chunked</title></head><body>"]
        parts += [f"<p>chunk {i}</p>".encode() for i in range(20)]
        parts.append(b"</body></html>")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for part in parts:
            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")
        self.server.sent[self.path] = b"".join(parts)


class FixtureServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        mode: str = "site",
        bomb_size: int = 64 << 20,
        slow_seconds: float = 4.0,
        tree_size: int = 300,
    ):
        super().__init__(("127.0.0.1", 0), FixtureHandler)
        self.mode = mode
        self.tree_size = tree_size
        self.bomb_size = bomb_size
        self.slow_seconds = slow_seconds
        self.log: list[Logged] = []
        self.changes = 0
        self.edition = 1
        self.sent: dict[str, bytes] = {}
        self.sent_decoded: dict[str, bytes] = {}
        self._bombs: dict[str, bytes] = {}
        self._lock = threading.Lock()
        host, port = self.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that time out and hang up are part of the tests

    def bomb(self, kind: str) -> bytes:
        with self._lock:
            if kind not in self._bombs:
                make = gzip_bomb if kind == "gzip" else brotli_bomb
                self._bombs[kind] = make(self.bomb_size)
            return self._bombs[kind]

    def requested(self, path: str) -> list[Logged]:
        return [entry for entry in self.log if entry.path == path]

    def start(self) -> FixtureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


Page = tuple[int, dict[str, str], str | bytes]


class PagesServer(ThreadingHTTPServer):
    """A site made of a dict: path (without query) -> (status, headers, body), or a function
    of the path giving one (``routes``, tried when ``pages`` has no entry). Starts at once on
    127.0.0.1, port chosen at run time; logs each request's path and headers. A page with an
    ``ETag`` answers 304 to a request whose ``If-None-Match`` names it."""

    daemon_threads = True

    def __init__(
        self,
        pages: dict[str, Page],
        routes: Callable[[str], Page | None] | None = None,
    ) -> None:
        super().__init__(("127.0.0.1", 0), _PagesHandler)
        self.pages = pages
        self.routes = routes
        self.log: list[tuple[str, dict[str, str]]] = []
        self.port = self.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def paths(self) -> list[str]:
        return [path for path, _ in self.log]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _PagesHandler(BaseHTTPRequestHandler):
    server: PagesServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.log.append((self.path, dict(self.headers)))
        path = self.path.split("?")[0]
        page = self.server.pages.get(path)
        if page is None and self.server.routes is not None:
            page = self.server.routes(path)
        status, headers, body = page or (404, {}, "<p>no such page</p>")
        etag = headers.get("ETag")
        if status == 200 and etag is not None and self.headers.get("If-None-Match") == etag:
            status, body = 304, b""  # a conditional request for a page that did not change
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
