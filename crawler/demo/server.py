"""Serve the bundled demo site on loopback, from the package data.

``{BASE}`` in robots.txt, sitemaps and feeds becomes the server's own base URL, since
those formats need absolute URLs.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from importlib.resources.abc import Traversable
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

SITE = files("crawler.demo") / "site"
_TEMPLATED = (".xml", ".txt")
_TYPES = {".xml": "application/xml", ".svg": "image/svg+xml", ".txt": "text/plain"}


def _resolve(path: str) -> Traversable | None:
    node: Traversable = SITE
    for part in [p for p in unquote(path).split("/") if p]:
        if part in (".", "..") or part.startswith("."):
            return None
        node = node / part
    if node.is_dir():
        node = node / "index.html"
    return node if node.is_file() else None


class DemoHandler(BaseHTTPRequestHandler):
    server_version = "reviewarc-demo/1"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        node = _resolve(path)
        if node is None and not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
            if _resolve(path + "/") is not None:
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        status = HTTPStatus.OK
        if node is None:
            status, node = HTTPStatus.NOT_FOUND, SITE / "404.html"
        body = node.read_bytes()
        suffix = "." + node.name.rsplit(".", 1)[-1]
        if suffix in _TEMPLATED:
            body = body.replace(b"{BASE}", self.server.base_url.encode())  # type: ignore[attr-defined]
        ctype = (
            _TYPES.get(suffix) or mimetypes.guess_type(node.name)[0] or "application/octet-stream"
        )
        if ctype.startswith("text/") or ctype.endswith("xml"):
            ctype += "; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("demo server: " + format, *args)


class DemoServer:
    """``with DemoServer() as server:`` serves the site at ``server.base_url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        try:
            self.httpd = ThreadingHTTPServer((host, port), DemoHandler)
        except OSError:
            self.httpd = ThreadingHTTPServer((host, 0), DemoHandler)
        self.httpd.daemon_threads = True
        host, port = self.httpd.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self.httpd.base_url = self.base_url  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> DemoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
