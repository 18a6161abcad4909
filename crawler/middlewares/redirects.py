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
neither sends nor logs them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from w3lib.url import safe_url_string

from crawler.scope import origin, strip_userinfo

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
        target = safe_url_string(urljoin(request.url, location.decode("latin-1").strip()))
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
