"""AutoThrottle, except for servers on this machine.

Politeness protects other people's servers. A site served from loopback (a test fixture,
the demo, a local mirror) is the user's own, so by default its requests go out without a
delay (a millisecond: see :data:`LOOPBACK_DELAY`); set ``REVIEWARC_THROTTLE_LOOPBACK = True``
to throttle it like any other host.
"""

from __future__ import annotations

from typing import Any

from scrapy.extensions.throttle import AutoThrottle

from crawler.config import ReviewarcConfig

#: The delay of a loopback host's slot: next to none, but not 0. Scrapy 2.19's downloader
#: starts every queued request of a slot with no delay at once, whatever its concurrency
#: (each download starts in a task of its own, after the loop that counts the free
#: transfer slots): with 0, a local site got 7 to 11 requests at once under
#: CONCURRENT_REQUESTS_PER_DOMAIN = 1. With a delay, one request starts per turn.
LOOPBACK_DELAY = 0.001


class PoliteThrottle(AutoThrottle):
    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.throttle_loopback = ReviewarcConfig.of(crawler).throttle_loopback

    def _response_downloaded(self, response: Any, request: Any, spider: Any) -> None:
        ip = response.ip_address
        if not self.throttle_loopback and ip is not None and ip.is_loopback:
            _, slot = self._get_slot(request, spider)
            if slot is not None:
                slot.delay = LOOPBACK_DELAY
                if slot.latercall is not None:
                    # Requests queued behind the start delay go now: the downloader processes
                    # this slot's queue again as soon as this download is done.
                    slot.latercall.cancel()
                    slot.latercall = None
            return
        super()._response_downloaded(response, request, spider)
