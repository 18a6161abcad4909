"""The outermost downloader middleware: responses are archived before any other sees them.

Scrapy calls ``process_response`` from the highest order number down, so at
``DOWNLOADER_MIDDLEWARES`` 950 this runs first, on the body as it came off the wire (before
decompression), and the request's ``reviewarc_capture`` meta is set before the spider and
the other middlewares get the response. The work is :meth:`WarcCapture.capture`; this
middleware only awaits it.
"""

from __future__ import annotations

from typing import Any

from scrapy.http import Request, Response

from crawler.extensions.capture import WarcCapture


class CaptureMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self._capture: WarcCapture | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CaptureMiddleware:
        return cls(crawler)

    def _extension(self) -> WarcCapture | None:
        if self._capture is None:
            for extension in self.crawler.extensions.middlewares:
                if isinstance(extension, WarcCapture):
                    self._capture = extension
        return self._capture

    async def process_response(self, request: Request, response: Response) -> Response:
        capture = self._extension()
        if capture is not None:
            await capture.capture(request, response)
        return response
