"""Decompression with a size cap, for every content coding Scrapy accepts.

Scrapy's :class:`HttpCompressionMiddleware` already stops decompressing once the output
passes ``DOWNLOAD_MAXSIZE`` (so gzip, deflate and zstd bombs are refused with bounded
memory). For ``br`` it imports the module named ``brotli``; when pywb is installed too, that
name belongs to the older *brotlipy*, whose decompressor cannot bound its output. This
subclass decodes ``br`` with *brotlicffi* in bounded steps, so a brotli bomb is refused the
same way whatever else is installed.
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.utils._compression import _DecompressionMaxSizeExceeded

from archive.decoding import BodyTooLarge
from archive.decoding import unbrotli as bounded_unbrotli


def unbrotli(data: bytes, *, max_size: int = 0) -> bytes:
    """Decode brotli ``data``; raise Scrapy's size error once output passes ``max_size``."""
    try:
        return bounded_unbrotli(data, max_size)
    except BodyTooLarge as e:
        raise _DecompressionMaxSizeExceeded(max_size + 1, max_size) from e


class BoundedDecompressionMiddleware(HttpCompressionMiddleware):
    @staticmethod
    def _decode(body: bytes, encoding: bytes, max_size: int) -> bytes:
        if encoding == b"br":
            return unbrotli(body, max_size=max_size)
        return HttpCompressionMiddleware._decode(body, encoding, max_size)
