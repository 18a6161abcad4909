"""robots.txt as RFC 9309 reads it.

Scrapy's middleware parses whatever body the robots.txt request returned. Here the status
decides first: a 5xx (after retries) means the site is unreachable, so the whole host is
disallowed; a 4xx means there is no robots.txt, so everything is allowed; 2xx is parsed.
The robots.txt exchange itself is archived like any other.
"""

from __future__ import annotations

from typing import Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Response

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class StatusAwareRobotsTxtMiddleware(RobotsTxtMiddleware):
    async def _parse_robots(self, response: Response, netloc: str, request: Any) -> None:
        if response.status >= 500:
            self._stats.inc_value("robotstxt/unavailable_disallow_all")
            response = response.replace(body=DISALLOW_ALL)
        elif response.status >= 400:
            response = response.replace(body=b"")
        await super()._parse_robots(response, netloc, request)
