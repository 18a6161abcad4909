"""Undo a response's Transfer-Encoding and Content-Encoding, with a cap on the output (no
decompression bombs).

Archives written by other tools keep what the server sent in different ways: wget, warcio's
``capture_http``, warcprox and jwarc store a chunked body with its chunk framing, as sent;
Nutch (ClueWeb09) stores the body already decoded under its ``Content-Encoding: gzip``. A
payload is read as it is actually stored: chunks are joined when they parse as chunks
(warcio's :class:`~warcio.bufferedreaders.ChunkedDataReader`, which gives the bytes as they
are otherwise), and a body that a coding does not fit but that is plainly not coded (no gzip
magic number, or markup) is taken as it is.
"""

from __future__ import annotations

import zlib
from io import BytesIO

import brotlicffi
from warcio.bufferedreaders import ChunkedDataReader

from archive.errors import ArchiveError

_CHUNK = 64 * 1024


class BodyTooLarge(ArchiveError):
    """The decoded body would pass the size cap."""


def _check(size: int, max_size: int) -> None:
    if max_size and size > max_size:
        raise BodyTooLarge(f"decoded body passes {max_size} bytes")


def _zlib(data: bytes, wbits: int, max_size: int) -> bytes:
    out = BytesIO()
    while data:
        decompressor = zlib.decompressobj(wbits)
        chunk = decompressor.decompress(data, _CHUNK)
        out.write(chunk)
        _check(out.tell(), max_size)
        while decompressor.unconsumed_tail and not decompressor.eof:
            chunk = decompressor.decompress(decompressor.unconsumed_tail, _CHUNK)
            out.write(chunk)
            _check(out.tell(), max_size)
        out.write(decompressor.flush())
        _check(out.tell(), max_size)
        data = decompressor.unused_data if decompressor.eof else b""  # concatenated members
    return out.getvalue()


def unbrotli(data: bytes, max_size: int = 0) -> bytes:
    decompressor = brotlicffi.Decompressor()
    out = BytesIO()
    chunk = decompressor.process(data, output_buffer_limit=_CHUNK)
    while True:
        out.write(chunk)
        _check(out.tell(), max_size)
        if decompressor.is_finished():
            break
        chunk = decompressor.process(b"", output_buffer_limit=_CHUNK)
        if not chunk:
            break
    return out.getvalue()


def dechunk(body: bytes) -> bytes:
    """``body`` with its chunked transfer coding removed, or as it is when it is not chunked
    (a tool that stored the joined body but kept the header)."""
    return ChunkedDataReader(BytesIO(body)).read()


def _plainly_uncoded(body: bytes, coding: str) -> bool:
    """A body sent as ``coding`` that holds no such thing: stored decoded by the archiver."""
    if coding in ("gzip", "x-gzip") and body[:2] != b"\x1f\x8b":
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"


def decode_payload(body: bytes, headers: dict[str, str], max_size: int = 0) -> bytes:
    """A stored HTTP payload as the page's bytes: the transfer coding undone (``chunked``,
    as some archivers store it), then its content codings (:func:`decode_body`). ``headers``
    has lower-case names."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = dechunk(body)
    return decode_body(body, headers.get("content-encoding"), max_size)


def decode_body(body: bytes, content_encoding: str | None, max_size: int = 0) -> bytes:
    """``body`` with its content codings removed (gzip, deflate, br; last applied first).
    Unknown codings are left as they are."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        try:
            if coding in ("gzip", "x-gzip"):
                body = _zlib(body, 16 + zlib.MAX_WBITS, max_size)
            elif coding == "deflate":
                try:
                    body = _zlib(body, zlib.MAX_WBITS, max_size)
                except zlib.error:
                    body = _zlib(body, -zlib.MAX_WBITS, max_size)  # raw deflate
            elif coding == "br":
                body = unbrotli(body, max_size)
            else:
                break
        except (zlib.error, brotlicffi.error) as e:
            if _plainly_uncoded(body, coding):
                break
            raise ArchiveError(f"cannot decode {coding} body: {e}") from e
    return body
