"""Conditional requests: ask for a page only if it changed since its last full capture.

For a GET of a URL archived before, the validators of its latest 200 response are sent
(``If-None-Match`` from its ETag, ``If-Modified-Since`` from its Last-Modified). A 304 answer
is archived as a revisit record by the capture (:mod:`crawler.capture`).
``REVIEWARC_INCREMENTAL = False`` turns this off.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import NotConfigured
from scrapy.http import Request

from crawler.capture import WarcCapture
from crawler.config import ReviewarcConfig
from crawler.items import CONDITIONAL_META

logger = logging.getLogger(__name__)

_VALIDATORS = (b"If-None-Match", b"If-Modified-Since")


class ConditionalRequestMiddleware:
    def __init__(self, crawler: Any, capture: WarcCapture) -> None:
        self.crawler = crawler
        self.capture = capture

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalRequestMiddleware:
        if not ReviewarcConfig.of(crawler).incremental:
            raise NotConfigured
        return cls(crawler, WarcCapture.of(crawler))

    def process_request(self, request: Request, spider: Any = None) -> None:
        if request.meta.pop(CONDITIONAL_META, None) is not None:
            for name in _VALIDATORS:  # copied along from the URL this one redirects from
                request.headers.pop(name, None)
        if request.method != "GET" or any(name in request.headers for name in _VALIDATORS):
            return
        last = self.capture.last_response(request.url)
        if last is None or not (last.etag or last.last_modified):
            return
        if last.etag:
            request.headers[b"If-None-Match"] = last.etag
        if last.last_modified:
            request.headers[b"If-Modified-Since"] = last.last_modified
        request.meta[CONDITIONAL_META] = last.warc_record_id
        self.crawler.stats.inc_value("reviewarc/conditional_requests")
