"""Downloader middleware that keeps every request (redirect targets too) in scope.

Replaces Scrapy's OffsiteMiddleware: scope here is the seeds' exact hosts and ports over
http(s) (:class:`crawler.scope.Scope`), read from the spider's ``scope`` attribute.
Requests the spider marks with ``meta["reviewarc_any_host"]`` (page requisites) may leave
the seeds' hosts, but are still http(s) only, and never reach a loopback or private address
unless the seeds themselves are on one.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request

from crawler.scope import Scope, origin, private_host

logger = logging.getLogger(__name__)


ANY_HOST_META = "reviewarc_any_host"


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
        if scope is None or scope.allows(request.url):
            return None
        if request.meta.get("found_by") == "seed" and request.meta.get("redirect_urls"):
            # A seed redirected to its site's real host: that host is the site.
            if private_host(request.url) and not scope.private:
                raise IgnoreRequest(f"Offsite: private address refused: {request.url}")
            logger.info("Seed redirected to %s: adding its host to the scope", request.url)
            scope.adopt(request.url)
            return None
        if request.meta.get(ANY_HOST_META):
            # Page requisites may come from any host, but a public site cannot send the
            # crawler into this machine or its private network.
            if private_host(request.url) and not scope.private:
                self.crawler.stats.inc_value("reviewarc/scope/private")
                raise IgnoreRequest(f"Offsite: private address refused: {request.url}")
            return None
        self.crawler.stats.inc_value("reviewarc/scope/offsite")
        logger.debug("Offsite, not fetched: %s", request.url)
        raise IgnoreRequest(f"Offsite: {request.url}")
