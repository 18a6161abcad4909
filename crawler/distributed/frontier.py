"""One worker's side of a crawl shared through Redis (:mod:`crawler.distributed.state`).

:class:`SharedFrontier` stands where the one-machine crawl has its SQLite frontier
(:class:`archive.frontier.Frontier`, the same methods), and adds what many workers need:

- the requests the spider yields are queued in Redis (seen set and per-host queues) before
  the response that led to them is marked handled, as the SQLite frontier records them;
- requests are *taken* from the hosts this worker holds a lease on (or newly leases: at
  most its fair share of the hosts with queued work, so a worker that joins gets hosts), and
  stay in flight under this worker's name until handled;
- a heartbeat (every third of ``REVIEWARC_LEASE_TTL``) renews the worker's lease, requeues
  dead workers' requests, frees the hosts it has nothing left to do for (or more than its
  share of), and takes more work;
- a handled request stays *unsealed* until the WARC file holding its records is closed:
  a worker killed before that leaves a file that is never indexed, and its requests go back
  to the queue, so nothing is lost and nothing is archived twice;
- the crawl ends for every worker when nothing is queued, in flight or unsealed anywhere.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import task

from archive.frontier import Pending
from crawler.distributed.state import Queued, SharedState, Status

logger = logging.getLogger(__name__)

#: ``request.meta`` key: fingerprint of the shared request this one was taken as (a retry
#: keeps it; a redirect's request has another fingerprint, so it is a new request).
LEASE_META = "reviewarc_lease"
#: ``request.meta`` key: already queued in Redis by the spider (the scheduler drops it).
PUSHED_META = "reviewarc_pushed"
#: Meta keys never carried to another worker: this process's own objects and state.
_LOCAL_META = {LEASE_META, PUSHED_META, "reviewarc_capture", "download_slot",
               "download_latency", "download_timeout", "retry_times", "_"}  # fmt: skip
#: Requests queued in a batch before they are sent to Redis.
PUSH_BATCH = 200


def _portable(meta: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in meta.items():
        if key in _LOCAL_META or key.startswith("_"):
            continue
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        out[key] = value
    return out


def slot_of(request: Request) -> str:
    """The host a request is leased by: Scrapy's download slot key (the host name)."""
    return request.meta.get("download_slot") or urlparse_cached(request).hostname or ""


class SharedFrontier:
    shared = True

    def __init__(
        self,
        crawler: Any,
        state: SharedState,
        current_file: Callable[[], str | None],
        lease_ttl: float,
    ) -> None:
        self.crawler = crawler
        self.state = state
        self.current_file = current_file
        self.lease_ttl = lease_ttl
        settings = crawler.settings
        self.per_host = max(1, settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") or 1)
        #: Own requests in flight: fingerprint → host.
        self.outstanding: dict[str, str] = {}
        self.by_host: Counter[str] = Counter()
        self.held: set[str] = set()
        self.draining: set[str] = set()
        self.fair_share = 1
        self._push: list[tuple[str, str, int, dict[str, Any]]] = []
        self._loop: task.LoopingCall | None = None
        self._idle_strikes = 0
        self.stats = crawler.stats
        self.run_id, self.left_inflight, self.left_unsealed = state.register()
        self.held = state.held_hosts()
        if self.left_unsealed:
            # Handled by this worker's killed run, their files closed since (recover()).
            state.seal(None)
        self._reclaimed = state.own("inflight") if self.left_inflight else {}
        for fingerprint, queued in self._reclaimed.items():
            assert isinstance(queued, Queued)
            self._lease(fingerprint, queued.host)

    # -- the SQLite frontier's interface ----------------------------------------------

    def known(self) -> set[str]:
        return set()

    def add(self, fingerprint: str, url: str, kind: str, depth: int) -> None:
        """Requests are queued by :meth:`queue` (the spider) or by the scheduler."""

    def commit(self) -> None:
        self.flush()

    def pending(self) -> Iterator[Pending]:
        """Requests a killed run of this worker had taken: it takes them back."""
        for fingerprint, queued in self._reclaimed.items():
            assert isinstance(queued, Queued)
            meta = {**queued.data.get("m", {}), LEASE_META: fingerprint}
            yield Pending(fingerprint, queued.data["u"], meta.get("found_by", "link"),
                          meta.get("depth", 0), meta)  # fmt: skip
        self._reclaimed = {}

    def is_done(self, fingerprint: str) -> bool:
        return False

    def done(self, fingerprint: str) -> None:
        self.handled([fingerprint])

    def done_many(self, requests: Iterable[tuple[str, str, str, int]]) -> None:
        self.handled([request[0] for request in requests])

    def clear(self) -> None:
        """The last worker out deletes the crawl's keys (:meth:`leave`)."""

    def close(self) -> None:
        self.stop()
        self.state.close()

    # -- queueing and taking ----------------------------------------------------------

    def mark_seen(self, fingerprint: str) -> bool:
        """Whether ``fingerprint`` was seen before, marking it seen crawl-wide."""
        return not self.state.mark_seen([fingerprint])[0]

    def queue(self, request: Request, fingerprint: str, depth: int) -> None:
        """Queue a request the spider yields (sent with the next batch, before any request
        is marked handled); the scheduler then drops the local copy."""
        request.meta[PUSHED_META] = True
        meta = _portable(request.meta)
        meta["depth"] = depth
        self._push.append((fingerprint, slot_of(request), request.priority,
                           self._data(request, meta)))  # fmt: skip
        if len(self._push) >= PUSH_BATCH:
            self.flush()

    def queue_now(self, request: Request, fingerprint: str) -> bool:
        """Queue a request that did not come from a spider callback (a seed, a robots.txt
        sitemap, a redirect); True if it was new."""
        meta = _portable(request.meta)
        self.flush()
        data = self._data(request, meta)
        return self.state.push([(fingerprint, slot_of(request), request.priority, data)])[0]

    @staticmethod
    def _data(request: Request, meta: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {"u": request.url, "m": meta}
        for key, method in (("c", request.callback), ("e", request.errback)):
            if method is not None and getattr(method, "__name__", None):
                data[key] = method.__name__
        return data

    def flush(self) -> None:
        batch, self._push = self._push, []
        if batch:
            queued = self.state.push(batch)
            self.stats.inc_value("reviewarc/shared/queued", sum(queued))

    def handled(self, fingerprints: Iterable[str]) -> None:
        """Requests handled here: unsealed until their WARC file is closed."""
        own = [fp for fp in fingerprints if fp in self.outstanding]
        if not own:
            return
        self.flush()  # the requests they led to are queued first
        self.state.handled(own, self.current_file())
        for fingerprint in own:
            self.by_host[self.outstanding.pop(fingerprint)] -= 1

    def _lease(self, fingerprint: str, host: str) -> None:
        if fingerprint not in self.outstanding:
            self.outstanding[fingerprint] = host
            self.by_host[host] += 1
            self.held.add(host)

    def take(self, room: int) -> list[Queued]:
        """Up to about ``room`` requests from the hosts held here (two per-host
        concurrency's worth each at most) and from new hosts, up to the fair share."""
        if room <= 0:
            return []
        wants = {}
        for host in self.held - self.draining:
            want = 2 * self.per_host - self.by_host[host]
            if want > 0:
                wants[host] = min(want, room)
        new_hosts = max(0, self.fair_share - len(self.held - self.draining))
        if not self.held:
            new_hosts = max(1, new_hosts)
        taken = self.state.take(wants, new_hosts, min(room, 2 * self.per_host))
        for queued in taken:
            self._lease(queued.fingerprint, queued.host)
        if taken:
            self.stats.inc_value("reviewarc/shared/taken", len(taken))
        return taken

    def to_request(self, queued: Queued, spider: Any) -> Request:
        data = queued.data
        callback = getattr(spider, data.get("c") or "parse")
        errback = getattr(spider, data["e"]) if data.get("e") else None
        meta = {**data.get("m", {}), LEASE_META: queued.fingerprint}
        return Request(data["u"], callback=callback, errback=errback, meta=meta,
                       dont_filter=True)  # fmt: skip

    # -- heartbeat, idle and end -------------------------------------------------------

    def start(self, refill: Callable[[], int]) -> None:
        """Start the heartbeat (``refill`` takes more work into the scheduler)."""
        self._refill = refill
        self._loop = task.LoopingCall(self.beat)
        self._loop.start(max(0.2, min(1.0, self.lease_ttl / 3)), now=False)

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None

    def beat(self) -> None:
        try:
            self.flush()
            reaped = self.state.heartbeat()
            if reaped:
                logger.warning("Worker(s) %s stopped answering: their requests are queued"
                               " again", ", ".join(reaped))  # fmt: skip
                self.stats.inc_value("reviewarc/shared/workers_reaped", len(reaped))
            status = self.state.status()
            self._rebalance(status)
            self._refill()
        except Exception as e:  # a Redis hiccup must not stop the heartbeat
            logger.warning("Heartbeat to Redis failed: %s: %s", type(e).__name__, e)

    def _rebalance(self, status: Status) -> None:
        """Free the hosts with nothing in flight here that have nothing queued, or that
        are more than this worker's fair share of the hosts with work."""
        self.fair_share = max(1, math.ceil(status.ready_hosts / max(1, status.workers)))
        active = sorted(self.held, key=lambda h: self.by_host[h])
        self.draining = set(active[: max(0, len(active) - self.fair_share)])
        idle_hosts = [h for h in self.held if self.by_host[h] <= 0]
        if not idle_hosts:
            return
        queued = self._queued(idle_hosts)
        free = [h for h in idle_hosts if h in self.draining or not queued.get(h)]
        for host in self.state.release(free):
            self.held.discard(host)
            self.draining.discard(host)
            self.by_host.pop(host, None)

    def _queued(self, hosts: list[str]) -> dict[str, int]:
        pipe = self.state.client.pipeline(transaction=False)
        for host in hosts:
            pipe.zcard(self.state.key(f"q:{host}"))
        return dict(zip(hosts, (int(n) for n in pipe.execute()), strict=True))

    def spider_idle(self, seal: Callable[[], str | None]) -> None:
        """Nothing left here: take more, or wait while others work, or (the whole crawl
        done) let the spider close. ``seal`` closes the current WARC file."""
        self.flush()
        if self._refill():
            self._idle_strikes = 0
            raise DontCloseSpider
        if self.outstanding:
            # Idle with requests still leased: none of them can be handled any more (a
            # request dropped on its way). Twice in a row: they count as handled.
            self._idle_strikes += 1
            if self._idle_strikes >= 2:
                logger.warning("%d taken request(s) were never handled: marked handled",
                               len(self.outstanding))  # fmt: skip
                self.stats.inc_value("reviewarc/shared/orphaned", len(self.outstanding))
                self.handled(list(self.outstanding))
            raise DontCloseSpider
        status = self.state.status()
        if status.idle:
            self.seal_all(seal)
            status = self.state.status()
            if status.finished:
                return
        raise DontCloseSpider

    def seal_all(self, seal: Callable[[], str | None]) -> None:
        """Close the current WARC file: every request handled here is done for good."""
        closed = seal()
        sealed = self.state.seal(None)
        if sealed:
            logger.debug("Sealed %d request(s) with %s", sealed, closed)

    def sealed_file(self, name: str) -> None:
        """A WARC file was closed (rotated): its requests are done for good."""
        self.state.seal(name)

    def leave(self, finished: bool) -> bool:
        """Leave the crawl; True when this was the last worker and the keys are gone."""
        self.stop()
        self.flush()
        last = self.state.leave(finished)
        if last:
            logger.info("Last worker out: the crawl's shared state is cleared")
        return last
