"""Downloader middleware that keeps every request (redirect targets too) in scope.

Replaces Scrapy's OffsiteMiddleware: scope here is the seeds' exact hosts and ports over
http(s) (:class:`crawler.scope.Scope`), read from the spider's ``scope`` attribute.
Requests the spider marks with ``meta["reviewarc_any_host"]`` (none yet; page requisites
will be) may leave the seeds' hosts but are still http(s) only.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request

from crawler.scope import Scope, origin

logger = logging.getLogger(__name__)


class ScopeMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> ScopeMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        spider = self.crawler.spider
        if origin(request.url) is None:
            self.crawler.stats.inc_value("reviewarc/scope/not_http")
            raise IgnoreRequest(f"Not an http(s) URL: {request.url}")
        scope: Scope | None = getattr(spider, "scope", None)
        if scope is None or request.meta.get("reviewarc_any_host"):
            return None
        if not scope.allows(request.url):
            self.crawler.stats.inc_value("reviewarc/scope/offsite")
            logger.debug("Offsite, not fetched: %s", request.url)
            raise IgnoreRequest(f"Offsite: {request.url}")
        return None
