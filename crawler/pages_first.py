"""The request scheduler: the site's pages first, page requisites on a budget of their own.

Scrapy's scheduler hands the downloader whatever comes next, and the downloader holds at
most ``CONCURRENT_REQUESTS`` requests, counting those that only wait: for a robots.txt, for
their host's download delay, for a host that never answers. On real review pages most
requests are requisites of third-party hosts (CDNs, ad servers, trackers), and they took the
slots the site's own pages needed: a crawl of 181 real pages that takes 3 s without
requisites had not ended after 300 s with them.

Here requisites (``meta["found_by"] == "requisite"``) wait in queues of their own, one per
download slot (host), and go to the downloader only when

- fewer than ``REVIEWARC_REQUISITE_CONCURRENCY`` requisites are in the downloader,
- fewer than the host's concurrency (``CONCURRENT_REQUESTS_PER_DOMAIN``) of them are, or
  none at all while the host has not answered yet (its first answer shows it is alive: the
  requisites of a dead host are failed at once, unsent, instead of each waiting for the
  host's download delay to fail again) or has pages downloading (the site's own host keeps
  the rest of its connections for its pages), and
- nothing is waiting in that host's slot (a page of the site's own host goes first; a
  throttled host gets its next requisite when its delay has passed, not a backlog).

Hosts take turns, so one host with many requisites does not keep the others waiting. A
requisite host's name is looked up as soon as its first requisite arrives, outside the
budget (up to ``DNS_PREFETCH`` lookups at once; some resolvers take seconds to say a name
does not exist), and its requisites wait until the answer is in Scrapy's DNS cache: a name
that did not resolve fails them all at once, unsent, and a budget slot never waits on DNS.
Everything else (pages, sitemaps, feeds) goes as in Scrapy's scheduler (priority, then
first in, first out), up to ``CONCURRENT_REQUESTS`` in the downloader, so requisites
never take a page's place (robots.txt fetches come on top, as in Scrapy). Per-host
politeness (AutoThrottle, the per-host concurrency, robots.txt) is the downloader's, the
same for every host. Requests the spider yields are in the frontier before they get here,
so these in-memory queues lose nothing when a crawl is killed.
"""

from __future__ import annotations

import ipaddress
import logging
from collections import OrderedDict, deque
from typing import Any
from urllib.parse import urlsplit

from scrapy.core.scheduler import Scheduler
from scrapy.exceptions import CannotResolveHostError
from scrapy.http import Request

from crawler.config import ReviewarcConfig
from crawler.host_health import HostHealth

logger = logging.getLogger(__name__)

#: Requisite host names looked up at once, ahead of their requests.
DNS_PREFETCH = 32


def is_requisite(request: Request) -> bool:
    return request.meta.get("found_by") == "requisite"


class PagesFirstScheduler(Scheduler):
    def __init__(self, *args: Any, crawler: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, crawler=crawler, **kwargs)
        settings = crawler.settings
        self.page_budget = settings.getint("CONCURRENT_REQUESTS")
        self.requisite_budget = max(1, ReviewarcConfig.of(crawler).requisite_concurrency)
        self.per_host = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") or 1
        #: Waiting requisites by download slot (host); hosts take turns in this order.
        self.requisites: OrderedDict[str, deque[Request]] = OrderedDict()
        self.waiting_requisites = 0
        self.health = HostHealth.of(crawler)
        #: Requisite host names: True once looked up (or not a name), False while looking up.
        self.names: dict[str, bool] = {}
        #: Requisites waiting for their host's name to be looked up, by name.
        self.unresolved: dict[str, list[Request]] = {}
        self.to_look_up: deque[str] = deque()
        self.looking_up = 0

    def open(self, spider: Any) -> Any:
        opened = super().open(spider)
        # The budgets are kept here; the downloader's own limit would count a waiting
        # requisite against the pages. 0 is Scrapy's "no limit".
        self.crawler.engine.downloader.total_concurrency = 0
        return opened

    def __len__(self) -> int:
        return super().__len__() + self.waiting_requisites

    def enqueue_request(self, request: Request) -> bool:
        if not is_requisite(request):
            return super().enqueue_request(request)
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.waiting_requisites += 1
        self.stats.inc_value("scheduler/enqueued/requisite")
        self.stats.inc_value("scheduler/enqueued")
        name = urlsplit(request.url).hostname or ""
        self._look_up(name)
        if self.names[name]:
            self._queue(request)
        else:
            self.unresolved.setdefault(name, []).append(request)
        return True

    def _queue(self, request: Request) -> None:
        key = self.crawler.engine.downloader.get_slot_key(request)
        self.requisites.setdefault(key, deque()).append(request)

    def next_request(self) -> Request | None:
        downloader = self.crawler.engine.downloader
        requisites_by_host: dict[str, int] = {}
        pages_by_host: dict[str, int] = {}
        for active in downloader.active:
            if is_requisite(active):
                counts = requisites_by_host
            elif "found_by" in active.meta:  # not a robots.txt fetch
                counts = pages_by_host
            else:
                continue
            key = downloader.get_slot_key(active)
            counts[key] = counts.get(key, 0) + 1
        if sum(pages_by_host.values()) < self.page_budget:
            request = super().next_request()
            if request is not None:
                return request
        if sum(requisites_by_host.values()) < self.requisite_budget:
            return self._next_requisite(downloader, requisites_by_host, pages_by_host)
        return None

    def _next_requisite(
        self, downloader: Any, active: dict[str, int], pages: dict[str, int]
    ) -> Request | None:
        """The next requisite of the first host, in turn, that has room for one: one at a
        time while the host has not answered yet or is busy with pages (the site's own host:
        its pages keep the rest of its connections), else up to the host's concurrency."""
        for key in list(self.requisites):
            if self.health.refusal(self.requisites[key][0].url) is not None:
                self._fail_dead(key)
                if key not in self.requisites:
                    continue
            slot = downloader.slots.get(key)
            answered = self.health.has_answered(self.requisites[key][0].url)
            room = self.per_host if answered and not pages.get(key) else 1
            if active.get(key, 0) >= room or (slot is not None and slot.queue):
                continue
            queue = self.requisites[key]
            request = queue.popleft()
            if queue:
                self.requisites.move_to_end(key)  # the other hosts' turn first
            else:
                del self.requisites[key]
            self.waiting_requisites -= 1
            self._dequeued(1)
            return request
        return None

    def _look_up(self, name: str) -> None:
        if name in self.names:
            return
        try:
            ipaddress.ip_address(name.strip("[]"))
        except ValueError:
            self.names[name] = False
            self.to_look_up.append(name)
            self._next_lookups()
        else:
            self.names[name] = True  # an address: nothing to look up

    def _next_lookups(self) -> None:
        from twisted.internet import reactor

        while self.to_look_up and self.looking_up < DNS_PREFETCH:
            name = self.to_look_up.popleft()
            self.looking_up += 1
            looked_up = reactor.resolve(name)  # the crawl's caching resolver
            looked_up.addCallbacks(lambda _, n=name: self._looked_up(n, None),
                                   lambda f, n=name: self._looked_up(n, f.value))  # fmt: skip

    def _looked_up(self, name: str, error: BaseException | None) -> None:
        """The name's requisites go to their host's queue, or fail now if it is dead."""
        self.looking_up -= 1
        self.names[name] = True
        if error is not None:
            self.health.failed(f"http://{name}/", CannotResolveHostError(str(error)))
        dead = []
        for request in self.unresolved.pop(name, []):
            if self.health.refusal(request.url) is None:
                self._queue(request)
            else:
                dead.append(request)
        self._fail(dead)
        self._next_lookups()
        slot = getattr(self.crawler.engine, "_slot", None)  # wake the engine: may dispatch
        if slot is not None:
            slot.nextcall.schedule()

    def _fail_dead(self, key: str) -> None:
        """The host died while its requisites waited: they fail now, unsent (the spider
        records them, as it does requisites of a dead host it finds on a page)."""
        dead, alive = [], deque()
        for request in self.requisites.pop(key):
            (alive if self.health.refusal(request.url) is None else dead).append(request)
        if alive:  # another port of the same name
            self.requisites[key] = alive
        self._fail(dead)

    def _fail(self, dead: list[Request]) -> None:
        if dead:
            self.waiting_requisites -= len(dead)
            self._dequeued(len(dead))
            self.spider.fail_unsent(dead)

    def _dequeued(self, count: int) -> None:
        self.stats.inc_value("scheduler/dequeued/requisite", count)
        self.stats.inc_value("scheduler/dequeued", count)
