"""robots.txt as RFC 9309 reads it, for every request that waits on it.

Scrapy's middleware parses whatever body the robots.txt request returned. Here the status
decides first: a 5xx (after retries) means the site is unreachable, so the whole host is
disallowed; a 4xx means there is no robots.txt, so everything is allowed; 2xx is parsed,
its first 500 KiB only. The robots.txt exchange itself is archived like any other, whole.

Requests that arrive while their host's robots.txt is being fetched all wait for it. In
Scrapy 2.13-2.19 only the first of them gets the parser: the others are handed ``None``
(the robots.txt Deferred's result, once the first waiter's callback has returned), which
Scrapy reads as "no robots.txt", so they were fetched whatever it said. A resumed crawl,
which starts many requests to one host at once, fetched pages robots.txt disallows. Here
every waiter reads the parser the middleware stored for the host once the fetch settled.

Page requisites follow ``REVIEWARC_REQUISITES_ROBOTS``: ``ignore`` (the default) fetches
them as a browser showing an allowed page would, without asking their hosts' robots.txt;
``obey`` asks it, as Heritrix does for every URI.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from crawler.capture import WarcCapture
from crawler.config import ReviewarcConfig

logger = logging.getLogger(__name__)

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"
#: What of a robots.txt is parsed. RFC 9309 (2.5) lets crawlers stop at a limit of at least
#: 500 KiB, and Google reads the first 500 KiB; parsing a 24 MB one whole took over a
#: gigabyte of memory.
MAX_PARSED = 500 * 1024


def parsed_part(body: bytes, limit: int = MAX_PARSED) -> bytes:
    """``body`` up to ``limit`` bytes, cut after the last line break before it so that no
    rule is read half (``Disallow: /private/`` cut to ``Disallow: /`` would shut a site)."""
    if len(body) <= limit:
        return body
    head = body[:limit]
    return head[: max(head.rfind(b"\n"), head.rfind(b"\r")) + 1]


class StatusAwareRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.requisites_obey = ReviewarcConfig.of(crawler).requisites_robots == "obey"
        #: A shared crawl's state: robots.txt files fetched by any worker.
        self._shared: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StatusAwareRobotsTxtMiddleware:
        middleware = super().from_crawler(crawler)
        worker = WarcCapture.of(crawler).worker
        middleware._shared = worker.state if worker is not None else None
        return middleware

    async def process_request(self, request: Request, spider: Any = None) -> None:
        if request.meta.get("found_by") == "requisite" and not self.requisites_obey:
            self._stats.inc_value("reviewarc/robots/requisite_not_asked")
            return
        await super().process_request(request)

    async def robot_parser(self, request: Request) -> Any:
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers and self._shared is not None:
            # Fetched by another worker of a shared crawl: read, not fetched again.
            found = self._shared.robots(netloc)
            if found is not None:
                self._parsers[netloc] = build_from_crawler(self._parserimpl, self.crawler,
                                                           found[1])  # fmt: skip
                self._stats.inc_value("reviewarc/robots/shared")
        parser = await super().robot_parser(request)
        # The parser stored for the host once its fetch settled (None: no robots.txt could
        # be read), not what the shared Deferred handed this waiter.
        settled = self._parsers.get(urlparse_cached(request).netloc, parser)
        return parser if isinstance(settled, Deferred) else settled

    async def _parse_robots(self, response: Response, netloc: str, request: Any) -> None:
        if response.status >= 500:
            self._stats.inc_value("robotstxt/unavailable_disallow_all")
            response = response.replace(body=DISALLOW_ALL)
        elif response.status >= 400:
            response = response.replace(body=b"")
        elif len(response.body) > MAX_PARSED:
            logger.info(
                "%s is %d bytes: only its first %d KiB are obeyed",
                response.url,
                len(response.body),
                MAX_PARSED // 1024,
            )
            self._stats.inc_value("robotstxt/truncated")
            response = response.replace(body=parsed_part(response.body))
        if self._shared is not None:
            self._shared.remember_robots(netloc, response.status, response.body)
        await super()._parse_robots(response, netloc, request)
