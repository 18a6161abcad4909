"""Redirect loops end as a recorded failure, not in silence.

Scrapy follows a redirect by scheduling a new request; when the chain comes back to a URL it
has already passed through, the duplicate filter drops that request and the chain just stops,
leaving no trace of why the page never arrived. Just outside Scrapy's RedirectMiddleware (600),
this sees the 3xx first: a ``Location`` that leads back into the chain raises
``IgnoreRequest``, which reaches the spider's errback and becomes a ``redirect`` failure row.
The 3xx itself is already archived (the capture middleware is outermost).

Every redirect followed is told to the spider (``redirected``), which moves what waits on
the source URL as a rel=canonical target to the redirect's target: the redirected request
may be a duplicate, dropped by the scheduler, and never come back on its own.

A ``Location`` that is not http(s) (``file:``, ``gopher:``) is a failure of kind ``offsite``
too (Scrapy would drop it without a word). A ``Location`` with credentials
(``http://user:password@host/``) is handed on without them, so that RedirectMiddleware
neither sends nor logs them. A ``Location`` no URL can be made of (``http://[x/``) is a
``redirect`` failure that says so.

:class:`SafeMetaRefreshMiddleware` is Scrapy's MetaRefreshMiddleware on pages whose
``<base href>`` or refresh URL is no URL: Scrapy's raises ``ValueError`` (from w3lib), and the
page, archived already, would be a failure and never read; here it is read as a page without
a refresh.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from crawler.scope import origin, strip_userinfo
from pipelines.urls import absolute_url

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class RedirectLoopMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> RedirectLoopMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in REDIRECT_STATUSES or not location:
            return response
        raw = location.decode("latin-1").strip()
        target = absolute_url(request.url, raw)
        if not target:
            raise IgnoreRequest(f"Bad redirect: Location {raw!r} is not a URL")
        if strip_userinfo(target) != target:
            target = strip_userinfo(target)
            response = response.replace(headers={**response.headers, b"Location": target})
        if origin(target) is None:  # file:, gopher:, ...: RedirectMiddleware would drop it
            raise IgnoreRequest(f"Not an http(s) URL: redirect to {target}")
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if target.split("#", 1)[0] in {url.split("#", 1)[0] for url in chain}:
            raise IgnoreRequest(f"Redirect loop: {' -> '.join([*chain, target])}")
        redirected = getattr(self.crawler.spider, "redirected", None)
        if redirected is not None:
            redirected(request.url, target)
        return response


class SafeMetaRefreshMiddleware(MetaRefreshMiddleware):
    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        try:
            return super().process_response(request, response)
        except ValueError as e:  # w3lib on a <base href> or refresh URL that is no URL
            logger.debug("No meta refresh read on %s: %s", response.url, e)
            return response
