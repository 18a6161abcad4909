"""Undo a response's Content-Encoding with a cap on the output (no decompression bombs)."""

from __future__ import annotations

import zlib
from io import BytesIO

import brotlicffi

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
            raise ArchiveError(f"cannot decode {coding} body: {e}") from e
    return body
