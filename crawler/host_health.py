"""Dead hosts fail fast: a host that never answered and then could not be reached is not
tried again in this crawl.

Real review pages name hundreds of third-party hosts for their stylesheets, fonts, images
and scripts; some of those names no longer resolve, some hosts refuse connections or never
answer. Trying each of their requisites in turn (with Scrapy's retries and AutoThrottle's
start delay) took over a crawl of real pages. So a host is marked dead when a download from
it fails because its name did not resolve, its connection was refused or it timed out, and
it has not answered anything earlier in this crawl. From then on its requests fail at once,
without a lookup or a connection, each recorded as a failure of the same kind (``dns``,
``connection``, ``timeout``) whose reason says so. Remembering names that did not resolve is
the crawl's negative DNS cache; DNS failures are not retried at all (``RETRY_EXCEPTIONS`` in
``crawler/settings.py``).

The crawl's own hosts (its scope: the seeds' hosts) are never marked dead, so that one
failed lookup or connection never costs the site's other pages; their requests keep
Scrapy's retries. A host that has answered once stays alive: it is slow or flaky, not gone.

One :class:`HostHealth` per crawl (:meth:`HostHealth.of`). The download handler reports
each attempt's outcome and refuses a dead host's requests as they leave their slot's queue
(requests queued behind the failure); :class:`HostHealthMiddleware` refuses them before
robots.txt or the scope's address check would look the host up.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
)
from scrapy.http import Request
from twisted.internet.error import DNSLookupError, TCPTimedOutError, TimeoutError

from crawler.per_crawler import once

logger = logging.getLogger(__name__)

#: Attribute of a Scrapy crawler holding its host health.
_ATTRIBUTE = "_reviewarc_host_health"

#: What makes a host that never answered dead, and what its later requests raise.
_DEAD: list[tuple[tuple[type[BaseException], ...], type[Exception], str]] = [
    ((CannotResolveHostError, DNSLookupError), CannotResolveHostError, "did not resolve"),
    ((DownloadConnectionRefusedError,), DownloadConnectionRefusedError, "refused a connection"),
    (
        (DownloadTimeoutError, TimeoutError, TCPTimedOutError),
        DownloadTimeoutError,
        "did not answer in time",
    ),
]


def _host(url: str) -> str:
    """What a death is kept under: the name for DNS (every port of it), the host and port
    otherwise (another port of the same name may be served)."""
    return (urlsplit(url).netloc or "").rsplit("@", 1)[-1].lower()


def _name(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class HostHealth:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.answered: set[str] = set()  # host:port that sent a response
        self.dead: dict[str, tuple[type[Exception], str]] = {}  # name or host:port

    @classmethod
    def of(cls, crawler: Any) -> HostHealth:
        return once(crawler, _ATTRIBUTE, lambda: cls(crawler))

    def ok(self, url: str) -> None:
        """A response came from ``url``'s host."""
        self.answered.add(_host(url))

    def has_answered(self, url: str) -> bool:
        return _host(url) in self.answered

    def failed(self, url: str, exc: BaseException) -> None:
        """A download from ``url`` failed with ``exc``: the host may be dead now."""
        if _host(url) in self.answered or self._in_scope(url):
            return
        for causes, raises, what in _DEAD:
            if isinstance(exc, causes):
                key = _name(url) if raises is CannotResolveHostError else _host(url)
                if key not in self.dead:
                    self.dead[key] = (raises, what)
                    self.crawler.stats.inc_value("reviewarc/hosts/dead")
                    logger.info("%s %s: its other requests fail at once", key, what)
                return

    def refusal(self, url: str) -> Exception | None:
        """The failure a request to ``url`` gets without being sent, if its host is dead."""
        found = self.dead.get(_name(url)) or self.dead.get(_host(url))
        if found is None:
            return None
        raises, what = found
        return raises(f"{_host(url)} {what} earlier in this crawl: not tried again")

    def check(self, request: Request) -> None:
        """Raise for a request to a dead host (the same kind of failure, not retried)."""
        refusal = self.refusal(request.url)
        if refusal is not None:
            request.meta["dont_retry"] = True
            self.crawler.stats.inc_value("reviewarc/hosts/dead_requests")
            raise refusal

    def _in_scope(self, url: str) -> bool:
        scope = getattr(self.crawler.spider, "scope", None)
        return scope is not None and scope.allows(url)


class HostHealthMiddleware:
    """Downloader middleware (order 40, before the scope's address check and robots.txt):
    a request to a dead host fails here, before anything looks its host up."""

    def __init__(self, crawler: Any) -> None:
        self.health = HostHealth.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Any) -> HostHealthMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        self.health.check(request)

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> None:
        # The scope's address check resolves names itself, before any download.
        if isinstance(exception, CannotResolveHostError):
            self.health.failed(request.url, exception)
