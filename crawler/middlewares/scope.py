"""Downloader middleware that keeps every request (redirect targets too) in scope, and off
this machine and private networks.

Replaces Scrapy's OffsiteMiddleware: scope here is the seeds' exact hosts and ports over
http(s) (:class:`crawler.scope.Scope`), read from the spider's ``scope`` attribute.
Requests the spider marks with ``meta["reviewarc_any_host"]`` (page requisites) may leave
the seeds' hosts, but are still http(s) only.

Which hosts may be on a loopback, private, link-local or other non-public address
(``REVIEWARC_PRIVATE_ADDRESSES``) is decided by the address the connection will go to, not
by how the URL spells it: a host written as an address in any form (``127.1``,
``2130706433``, ``0x7f000001``, ``[::ffff:127.0.0.1]``) is read as that address, and a name
is resolved first, through the crawl's own caching resolver, whose answer the connection
then uses. Only the seeds' own hosts are exempt, unless the seeds themselves are local.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.http import Request
from scrapy.utils.defer import maybe_deferred_to_future

from crawler.config import ReviewarcConfig
from crawler.scope import (
    IPAddress,
    Scope,
    forbidden_address,
    literal_address,
    origin,
    strip_userinfo,
)

logger = logging.getLogger(__name__)


ANY_HOST_META = "reviewarc_any_host"


class ScopeMiddleware:
    def __init__(self, crawler: Any, private_addresses: str = "auto") -> None:
        self.crawler = crawler
        self.private_addresses = private_addresses

    @classmethod
    def from_crawler(cls, crawler: Any) -> ScopeMiddleware:
        config = ReviewarcConfig.of(crawler)
        return cls(crawler, config.private_addresses)

    async def process_request(self, request: Request, spider: Any = None) -> Request | None:
        if "@" in urlsplit(request.url).netloc:
            # Credentials are never sent (the spider strips them from links; this catches
            # any other way in). The clean request goes back through the scheduler.
            return request.replace(url=strip_userinfo(request.url))
        scope: Scope | None = getattr(self.crawler.spider, "scope", None)
        self._check_scope(request, scope)
        if scope is not None:
            await self._check_address(request, scope)
        return None

    def _check_scope(self, request: Request, scope: Scope | None) -> None:
        if origin(request.url) is None:
            self.crawler.stats.inc_value("reviewarc/scope/not_http")
            raise IgnoreRequest(f"Not an http(s) URL: {request.url}")
        if scope is None or scope.allows(request.url):
            return
        if request.meta.get("found_by") == "seed" and request.meta.get("redirect_urls"):
            # A seed redirected to its site's real host: that host is the site.
            logger.info("Seed redirected to %s: adding its host to the scope", request.url)
            scope.adopt(request.url)
            return
        if request.meta.get(ANY_HOST_META):
            return  # page requisites may come from any host
        if request.meta.get("dont_obey_robotstxt") and urlsplit(request.url).path == "/robots.txt":
            return  # asked for a host a request already in scope goes to (a requisite's)
        self.crawler.stats.inc_value("reviewarc/scope/offsite")
        logger.debug("Offsite, not fetched: %s", request.url)
        raise IgnoreRequest(f"Offsite: {request.url}")

    async def _check_address(self, request: Request, scope: Scope) -> None:
        """Refuse a request whose host is on a non-public address, unless it may be."""
        if scope.is_seed_host(request.url):
            return  # the user's own choice of site
        if self.private_addresses == "auto" and scope.private:
            return  # a local site: its requisites and redirects are local too
        host = urlsplit(request.url).hostname or ""
        address = literal_address(host) or await self._resolve(host)
        if forbidden_address(address):
            self.crawler.stats.inc_value("reviewarc/scope/private")
            raise IgnoreRequest(f"Offsite: private address refused: {host} is {address}")

    async def _resolve(self, host: str) -> IPAddress:
        """The address a connection to ``host`` will use: the reactor's resolver caches
        its answer (``DNSCACHE_ENABLED``), and the download asks the same resolver. A name
        that does not resolve raises CannotResolveHostError (a ``dns`` failure, not retried),
        as a download from it would."""
        from twisted.internet import reactor
        from twisted.internet.error import DNSLookupError

        try:
            address = await maybe_deferred_to_future(reactor.resolve(host))
        except DNSLookupError as e:
            raise CannotResolveHostError(str(e)) from e
        return ipaddress.ip_address(address)
