"""One HTTP exchange as it went over the wire, ready to be written as WARC records.

This module knows nothing of Scrapy: the crawler fills an :class:`Exchange` from its
request and response objects, and :mod:`archive.warc_writer` writes it.
"""

from __future__ import annotations

import http
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

Header = tuple[bytes, bytes]

#: Request headers that carry credentials. They never reach a WARC file.
REDACTED_REQUEST_HEADERS = frozenset({b"authorization", b"cookie", b"proxy-authorization"})


def reason_phrase(status: int) -> bytes:
    """The standard reason phrase of a status code, for when the real one is unknown."""
    try:
        return http.HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b""


def _has(headers: Iterable[Header], name: bytes) -> bool:
    return any(k.lower() == name for k, _ in headers)


def redact(headers: Iterable[Header]) -> list[Header]:
    """Drop credential headers (Authorization, Cookie, Proxy-Authorization)."""
    return [(k, v) for k, v in headers if k.lower() not in REDACTED_REQUEST_HEADERS]


def dechunked(headers: Sequence[Header], body_length: int) -> list[Header]:
    """Headers for a body stored de-chunked.

    HTTP clients remove the chunked transfer coding before the body reaches us, so the
    stored body is the plain (still content-coded) entity. ``Transfer-Encoding: chunked``
    is dropped and a ``Content-Length`` that matches the stored body is put in its place,
    as warcprox and Heritrix do, so that every reader agrees on where the body ends.
    """
    if not any(k.lower() == b"transfer-encoding" and b"chunked" in v.lower() for k, v in headers):
        return list(headers)
    out: list[Header] = []
    for k, v in headers:
        lk = k.lower()
        if lk == b"transfer-encoding":
            if not _has(out, b"content-length") and not _has(headers, b"content-length"):
                out.append((b"Content-Length", str(body_length).encode("ascii")))
            continue
        if lk == b"content-length":
            v = str(body_length).encode("ascii")
        out.append((k, v))
    return out


@dataclass(frozen=True)
class RequestHead:
    method: bytes
    url: str
    headers: Sequence[Header]
    body: bytes = b""

    @property
    def target(self) -> bytes:
        """The request target: path and query string, as sent in the request line."""
        parts = urlsplit(self.url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        return target.encode("ascii", "backslashreplace")

    @property
    def host(self) -> bytes:
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        default = {"http": 80, "https": 443}.get(parts.scheme)
        if parts.port and parts.port != default:
            host = f"{host}:{parts.port}"
        return host.encode("idna") if host and not host.isascii() else host.encode("ascii")

    def to_bytes(self) -> bytes:
        """The request head as an HTTP/1.1 client sends it, credentials removed."""
        headers = redact(self.headers)
        if not _has(headers, b"host"):
            headers.insert(0, (b"Host", self.host))
        lines = [self.method + b" " + self.target + b" HTTP/1.1"]
        lines += [k + b": " + v for k, v in headers]
        return b"\r\n".join(lines) + b"\r\n\r\n"


@dataclass(frozen=True)
class ResponseHead:
    status: int
    headers: Sequence[Header]
    protocol: bytes = b"HTTP/1.1"
    reason: bytes | None = None
    #: True when ``headers`` are the lines as received (name case and order kept);
    #: False when they were rebuilt from a client's parsed header map.
    raw: bool = False

    def status_line(self) -> bytes:
        reason = reason_phrase(self.status) if self.reason is None else self.reason
        line = self.protocol + b" " + str(self.status).encode("ascii")
        return line + b" " + reason if reason else line

    def to_bytes(self, body_length: int) -> bytes:
        headers = dechunked(self.headers, body_length)
        lines = [self.status_line()] + [k + b": " + v for k, v in headers]
        return b"\r\n".join(lines) + b"\r\n\r\n"

    def get(self, name: bytes) -> bytes | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


@dataclass(frozen=True)
class Exchange:
    """A request and the response it got, with when and from where."""

    url: str
    date: datetime
    request: RequestHead
    response: ResponseHead
    body: bytes
    ip_address: str | None = None
    extra_warc_headers: dict[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str | None:
        value = self.response.get(b"content-type")
        return value.decode("latin-1").strip() if value is not None else None
