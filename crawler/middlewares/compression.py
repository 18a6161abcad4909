"""Decompression with a size cap, for every content coding Scrapy accepts.

Scrapy's :class:`HttpCompressionMiddleware` already stops decompressing once the output
passes ``DOWNLOAD_MAXSIZE`` (so gzip, deflate and zstd bombs are refused with bounded
memory). For ``br`` it imports the module named ``brotli``; when pywb is installed too, that
name belongs to the older *brotlipy*, whose decompressor cannot bound its output. This
subclass decodes ``br`` with *brotlicffi* in bounded steps, so a brotli bomb is refused the
same way whatever else is installed.
"""

from __future__ import annotations

from io import BytesIO

import brotlicffi
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.utils._compression import _check_max_size

_CHUNK = 64 * 1024


def unbrotli(data: bytes, *, max_size: int = 0) -> bytes:
    """Decode brotli ``data``; raise Scrapy's size error once output passes ``max_size``."""
    decompressor = brotlicffi.Decompressor()
    output = BytesIO()
    chunk = decompressor.process(data, output_buffer_limit=_CHUNK)
    size = len(chunk)
    _check_max_size(size, max_size)
    output.write(chunk)
    while not decompressor.is_finished():
        chunk = decompressor.process(b"", output_buffer_limit=_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        _check_max_size(size, max_size)
        output.write(chunk)
    return output.getvalue()


class BoundedDecompressionMiddleware(HttpCompressionMiddleware):
    @staticmethod
    def _decode(body: bytes, encoding: bytes, max_size: int) -> bytes:
        if encoding == b"br":
            return unbrotli(body, max_size=max_size)
        return HttpCompressionMiddleware._decode(body, encoding, max_size)
