"""Conditional requests: ask for a page only if it changed since its last full capture.

For a GET of a URL archived before, the validators of its latest 200 response are sent
(``If-None-Match`` from its ETag, ``If-Modified-Since`` from its Last-Modified). A 304 answer
is archived as a revisit record by the capture extension. ``REVIEWARC_INCREMENTAL = False``
turns this off.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Request

from archive.database import last_response
from pipelines.config import ReviewarcConfig

logger = logging.getLogger(__name__)

#: ``request.meta`` key: id of the capture whose validators the request carries.
CONDITIONAL_META = "reviewarc_conditional_on"
_VALIDATORS = (b"If-None-Match", b"If-Modified-Since")


class ConditionalRequestMiddleware:
    def __init__(self, crawler: Any, config: ReviewarcConfig) -> None:
        if not config.incremental:
            raise NotConfigured
        self.crawler = crawler
        self.db_path = config.data_dir / "archive.db"
        self.con: sqlite3.Connection | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalRequestMiddleware:
        return cls(crawler, ReviewarcConfig.from_settings(crawler.settings))

    def spider_closed(self, spider: Any = None) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def process_request(self, request: Request, spider: Any = None) -> None:
        if request.meta.pop(CONDITIONAL_META, None) is not None:
            for name in _VALIDATORS:  # copied along from the URL this one redirects from
                request.headers.pop(name, None)
        if request.method != "GET" or any(name in request.headers for name in _VALIDATORS):
            return
        if self.con is None:
            if not self.db_path.exists():
                return
            self.con = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        last = last_response(self.con, request.url)
        if last is None or not (last.etag or last.last_modified):
            return
        if last.etag:
            request.headers[b"If-None-Match"] = last.etag
        if last.last_modified:
            request.headers[b"If-Modified-Since"] = last.last_modified
        request.meta[CONDITIONAL_META] = last.capture_id
        self.crawler.stats.inc_value("reviewarc/conditional_requests")
