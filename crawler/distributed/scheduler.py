"""The scheduler of a worker of a shared crawl: requests come from Redis, by host lease.

A request the crawl makes (a seed, a link, a sitemap, a redirect's target) goes to the
shared frontier (:class:`crawler.distributed.frontier.SharedFrontier`), not to this
worker's queues: whichever worker holds its host's lease takes it. What this worker takes
goes through :class:`crawler.pages_first.PagesFirstScheduler` as in a one-machine crawl
(pages first, requisites on their own budget), so per-host politeness is the downloader's,
now with one worker per host. A retry is the same request, kept here.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy.http import Request

from crawler.capture import WarcCapture
from crawler.distributed.frontier import LEASE_META, PUSHED_META, SharedFrontier
from crawler.pages_first import PagesFirstScheduler

logger = logging.getLogger(__name__)

#: Seconds between two takes from Redis while this worker has requests queued.
TAKE_INTERVAL = 0.1


class SharedScheduler(PagesFirstScheduler):
    def __init__(self, *args: Any, crawler: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, crawler=crawler, **kwargs)
        self._taken_at = 0.0

    @property
    def shared(self) -> SharedFrontier:
        frontier = WarcCapture.of(self.crawler).frontier
        assert isinstance(frontier, SharedFrontier)
        return frontier

    def open(self, spider: Any) -> Any:
        opened = super().open(spider)
        self.shared.start(self.refill)
        return opened

    def enqueue_request(self, request: Request) -> bool:
        fingerprint = self.crawler.request_fingerprinter.fingerprint(request).hex()
        lease = request.meta.get(LEASE_META)
        if lease == fingerprint:  # taken from the shared queue, or a retry of such
            request.dont_filter = True
            return super().enqueue_request(request)
        if request.meta.get(PUSHED_META):
            return True  # queued in Redis by the spider
        new = self.shared.queue_now(request, fingerprint)
        if lease is not None:  # a redirect: the request it answers is handled
            self.shared.handled([lease])
        if not new:
            self.df.log(request, self.spider)
        return new

    def next_request(self) -> Request | None:
        if len(self) < self.page_budget and time.monotonic() - self._taken_at > TAKE_INTERVAL:
            self._take(wake=False)
        return super().next_request()

    def refill(self) -> int:
        """Take more work from Redis and wake the engine (the heartbeat and the idle
        check call this); how many requests were taken."""
        return self._take(wake=True)

    def _take(self, wake: bool) -> int:
        self._taken_at = time.monotonic()
        room = 2 * self.page_budget - len(self)
        taken = self.shared.take(room)
        spider = self.crawler.spider
        for queued in taken:
            request = self.shared.to_request(queued, spider)
            if wake:
                self.crawler.engine.crawl(request)  # enqueued here, and the engine woken
            else:
                super().enqueue_request(request)
        return len(taken)
