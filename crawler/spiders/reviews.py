"""The ``reviews`` spider: seeds, robots.txt sitemaps, /sitemap.xml, feeds and in-scope links.

    scrapy crawl reviews -a url=https://reviews.example/ -s REVIEWARC_DATA=DIR

``url`` takes one URL or several separated by commas or spaces. Every response is archived
by the capture (:mod:`crawler.capture`, which owns the crawl's archive and frontier) before
it reaches this spider. Here the spider finds more URLs,
hands HTML pages to the extraction pool (links and article come back from one parse), and
records what failed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import scrapy
from scrapy import signals
from scrapy.http import Request, Response
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from archive.frontier import Frontier
from crawler.capture import WarcCapture
from crawler.config import ReviewarcConfig
from crawler.failure_kinds import classify
from crawler.from_archive import as_async, captured_response, unchanged_page
from crawler.frontier import FrontierDupeFilter, crawl_key
from crawler.host_health import HostHealth
from crawler.item_pipelines import store_item
from crawler.items import CAPTURE_META, ArticleItem, FetchFailure
from crawler.middlewares.scope import ANY_HOST_META
from crawler.scope import Scope, TrapGuard, clean_link, strip_userinfo
from pipelines.ad_filter import AdFilter
from pipelines.canonical import CanonicalWaits, canonical_elsewhere
from pipelines.page import PageInput, is_html_page, xml_root
from pipelines.pool import ExtractionFailed, ExtractionPool, ExtractionTimeout
from pipelines.requisites import MAX_REQUISITES, css_urls

logger = logging.getLogger(__name__)

#: ``response.meta`` key: the page's article waits on its canonical URL (page not done yet).
DEFERRED_META = "reviewarc_canonical_wait"

#: Entries read from one sitemap or sitemap index: the protocol's limit (sitemaps.org).
SITEMAP_MAX_URLS = 50_000


def split_urls(value: str | Iterable[str] | None) -> list[str]:
    if not value:
        return []
    items = re.split(r"[\s,]+", value) if isinstance(value, str) else list(value)
    return [u for u in (i.strip() for i in items) if u]


def _moment(value: str | None) -> datetime | None:
    """An aware datetime from a W3C date (``2026-10-31``, ``2026-10-31T08:00:00Z``)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _header(response: Response, name: bytes) -> str | None:
    """A header's first value, as the capture row and ``reprocess`` read it (Scrapy's
    ``Headers.get`` gives the last one)."""
    values = response.headers.getlist(name)
    return values[0].decode("latin-1") if values and values[0] else None


class NoSeedError(ValueError):
    """The spider was started without a seed URL: a user's mistake, told in one line."""


def _report_in_one_line(error: Exception) -> None:
    """Log ``error`` as one line. Scrapy leaves an error raised while the spider is built on
    the crawl's asyncio task, for asyncio to report with its traceback ("Task exception was
    never retrieved"); the error is retrieved here instead. The crawl fails all the same
    (``scrapy crawl`` exits 1)."""
    logger.error("%s", error)
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop running: nothing will report it but the caller
        return
    if task is not None:
        task.add_done_callback(lambda done: done.cancelled() or done.exception())


class ReviewsSpider(scrapy.Spider):
    name = "reviews"

    def __init__(
        self,
        url: str | Iterable[str] | None = None,
        article_pattern: str | None = None,
        source: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.seeds = [strip_userinfo(seed) for seed in split_urls(url)]
        if not self.seeds:
            raise NoSeedError("no seed URL: pass -a url=https://site.example/")
        self.article_pattern = re.compile(article_pattern) if article_pattern else None
        self.source = source
        self.scope = Scope.from_seeds(self.seeds)
        self._sitemaps = 0  # sitemap files requested by this run
        #: Articles released by a redirect, to leave with the next output.
        self._released: list[ArticleItem] = []

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ReviewsSpider:
        try:
            spider = super().from_crawler(crawler, *args, **kwargs)
        except NoSeedError as e:
            _report_in_one_line(e)
            raise
        config = ReviewarcConfig.of(crawler)
        spider.config = config
        spider.guard = TrapGuard(
            max_url_length=crawler.settings.getint("URLLENGTH_LIMIT", 2048),
            max_path_segments=config.trap_max_path_segments,
            max_per_pattern=config.trap_max_per_pattern,
            max_query_variants=config.trap_max_query_variants,
        )
        spider.extraction = None  # started once the crawl holds the data directory
        spider.crawl_key = crawl_key(config.source or spider.source, spider.seeds)
        spider.canonical = CanonicalWaits(earlier=spider.handled_before)
        spider.health = HostHealth.of(crawler)
        lists = [Path(p.strip()) for p in (config.adblock_lists or "").split(",") if p.strip()]
        spider.ads = AdFilter.load(lists) if config.block_ads else None
        crawler.signals.connect(spider.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(spider.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        return spider

    @property
    def capture(self) -> WarcCapture:
        """The crawl's capture, which holds its archive and frontier (built with the
        engine, after this spider)."""
        return WarcCapture.of(self.crawler)

    @property
    def frontier(self) -> Frontier:
        return self.capture.frontier

    @property
    def warc_dirs(self) -> tuple[Path, ...]:
        """Where an earlier capture's WARC file may be (a shared crawl's other workers')."""
        return self.capture.warc_dirs

    @property
    def max_body(self) -> int:
        return self.crawler.settings.getint("DOWNLOAD_MAXSIZE")

    def spider_opened(self, spider: Any) -> None:
        """Start the extraction workers (from the forkserver the CLI started early) only now:
        the capture extension has taken the data directory's lock, so a crawl that loses it
        to another never starts workers that its exit would leave half started."""
        self.extraction = ExtractionPool(self.config.extract_workers, self.config.extract_timeout)
        worker = self.capture.worker
        if worker is not None:  # trap counts crawl-wide
            from crawler.distributed.traps import SharedTrapGuard

            guard = self.guard
            self.guard = SharedTrapGuard(
                max_url_length=guard.max_url_length, max_path_segments=guard.max_path_segments,
                max_per_pattern=guard.max_per_pattern,
                max_query_variants=guard.max_query_variants, state=worker.state,
            )  # fmt: skip

    def spider_closed(self, spider: Any, reason: str = "finished") -> None:
        if self.extraction is not None:
            self.extraction.close()

    def recorded(self, output: Any, response: Response) -> Any:
        """Put a request in the frontier before it leaves the callback, so that the
        response is never marked done before the requests it led to are on disk."""
        if isinstance(output, Request):
            fingerprint = self.crawler.request_fingerprinter.fingerprint(output).hex()
            depth = output.meta.get("depth", response.meta.get("depth", 0) + 1)
            worker = self.capture.worker
            if worker is not None:  # a shared crawl: queued for whichever worker takes it
                worker.frontier.queue(output, fingerprint, depth)
            else:
                kind = output.meta.get("found_by", "link")
                self.frontier.add(fingerprint, output.url, kind, depth)
        return output

    def mark_done(self, request: Request | None) -> None:
        """The request (and the redirects that led to it) is handled, children recorded."""
        if request is None:
            return
        fingerprint = self.crawler.request_fingerprinter.fingerprint
        for url in request.meta.get("redirect_urls", []):
            self.frontier.add(fingerprint(Request(url)).hex(), url, "redirect", 0)
            self.frontier.done(fingerprint(Request(url)).hex())
        self.frontier.done(fingerprint(request).hex())

    # -- discovery ---------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        async for output in self.resume():
            yield output
        for seed in self.seeds:
            yield self.page_request(seed, "seed")
        origins = dict.fromkeys(f"{p.scheme}://{p.netloc}" for p in map(urlsplit, self.seeds))
        for request in self.sitemap_requests([o + "/sitemap.xml" for o in origins], 0):
            yield request

    def page_request(self, url: str, found_by: str, **meta: Any) -> Request:
        return Request(
            strip_userinfo(url), callback=self.parse, errback=self.on_error,
            meta={"found_by": found_by, **meta},
        )  # fmt: skip

    async def resume(self) -> AsyncIterator[Any]:
        """Pick up what an earlier run of this crawl left when it was killed: requests it
        had captured are handled from their WARC records (not fetched twice), the others
        are requested again."""
        pending = list(self.frontier.pending())
        if not pending:
            return
        logger.info("Resuming %s: %d requests left by an earlier run", self.crawl_key, len(pending))
        self.crawler.stats.set_value("reviewarc/resumed", len(pending))
        archive = self.capture.archive
        for item in pending:
            found = archive.unfinished_capture(self.crawl_key, item.url)
            meta = {"found_by": item.kind, "depth": item.depth, **(item.meta or {})}
            callback = self.parse_requisite if item.kind == "requisite" else self.parse
            if item.kind == "requisite":
                meta.update({ANY_HOST_META: True, "depth_reset": True})
            if found is None:
                yield Request(item.url, callback=callback, errback=self.on_error, meta=meta,
                              dont_filter=True)  # fmt: skip
                continue
            response = captured_response(archive, *found, meta, self.warc_dirs, self.max_body)
            if response is None:
                self.frontier.done(item.fingerprint)
                continue
            async for output in as_async(callback(response)):
                yield output  # the callback marks the request done

    def sitemap_requests(self, urls: Iterable[str], depth: int) -> Iterator[Request]:
        """Requests for sitemaps (``depth``: how many sitemap indexes led to them), within
        ``REVIEWARC_SITEMAP_MAX_DEPTH`` and ``REVIEWARC_SITEMAP_MAX_FILES``, so that a chain
        or a flood of sitemap indexes ends."""
        if depth > self.config.sitemap_max_depth:
            self.crawler.stats.inc_value("reviewarc/sitemap/too_deep")
            logger.warning("Sitemap indexes nested deeper than %d: not followed",
                           self.config.sitemap_max_depth)  # fmt: skip
            return
        for url in urls:
            if self._sitemaps >= self.config.sitemap_max_files:
                self.crawler.stats.inc_value("reviewarc/sitemap/over_budget")
                if self._sitemaps == self.config.sitemap_max_files:
                    logger.warning("%d sitemaps requested: no more are followed in this crawl",
                                   self._sitemaps)  # fmt: skip
                    self._sitemaps += 1
                continue
            self._sitemaps += 1
            yield self.page_request(url, "sitemap", sitemap_depth=depth)

    def requisite_requests(self, urls: Iterable[str], page_url: str) -> Iterator[Request]:
        """Requests for the requisites of the page (or stylesheet) at ``page_url``; those of
        hosts found dead are failed at once, without a request (see
        :mod:`crawler.host_health`), and with ``--block-ads`` ads and trackers are left out."""
        unsent = []
        fingerprint = self.crawler.request_fingerprinter.fingerprint
        dupefilter = FrontierDupeFilter.of(self.crawler)
        for url in urls:
            if self.ads is not None and self.ads.blocks(url, page_url):
                self.crawler.stats.inc_value("reviewarc/requisites/blocked")
                logger.debug("Blocked as an ad or tracker: %s", url)
                continue
            request = self.requisite_request(url)
            if self.health.refusal(request.url) is None:
                yield request
            elif not dupefilter.seen_before(fingerprint(request).hex()):
                unsent.append(request)
        self.fail_unsent(unsent)

    def fail_unsent(self, requests: list[Request]) -> None:
        """Record failures for requests to dead hosts that are not sent (from here, or
        from the scheduler's queue), in one transaction, and mark those in the frontier
        handled: thousands of a real page set's requisites can go this way."""
        failures, handled = [], []
        fingerprint = self.crawler.request_fingerprinter.fingerprint
        for request in requests:
            refusal = self.health.refusal(request.url)
            if refusal is None:  # only requests to dead hosts come here
                continue
            handled.append((fingerprint(request).hex(), request.url, "requisite", 0))
            kind = classify(refusal)
            failures.append((request.url, kind, f"{type(refusal).__name__}: {refusal}"))
            self.crawler.stats.inc_value(f"reviewarc/failures/{kind}")
            self.crawler.stats.inc_value("reviewarc/hosts/dead_requests")
            logger.debug("Not sent to a dead host: %s", request.url)
        if failures:
            self.capture.archive.add_failures(failures, self.capture.crawl_id)
            for url, kind, reason in failures:
                self.capture.record_failure(url, kind, reason)
            self.frontier.done_many(handled)

    def requisite_request(self, url: str) -> Request:
        """A stylesheet, image, script or font a page needs: fetched whatever its host, not
        counted as a hop, and read only for the URLs a stylesheet refers to."""
        return Request(
            strip_userinfo(url),
            callback=self.parse_requisite,
            errback=self.on_error,
            meta={"found_by": "requisite", ANY_HOST_META: True, "depth_reset": True},
        )

    def parse_requisite(self, response: Response) -> Iterator[Any]:
        for output in self._parse_requisite(response):
            yield self.recorded(output, response)
        self.mark_done(response.request)

    def _parse_requisite(self, response: Response) -> Iterator[Any]:
        if response.status >= 400:
            yield self.http_failure(response)
            return
        ctype = (_header(response, b"Content-Type") or "").lower()
        if "text/css" in ctype or (not ctype and response.url.lower().endswith(".css")):
            css = response.body[:5_000_000].decode("utf-8", "replace")
            urls = css_urls(css, response.url)[:MAX_REQUISITES]
            yield from self.requisite_requests(urls, response.url)

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        """Follow the sitemaps a robots.txt names (Scrapy's ``robots_parsed`` signal)."""
        rp = getattr(robotparser, "rp", None)
        urls = [url for url in getattr(rp, "sitemaps", None) or [] if self.scope.allows(url)]
        for sitemap in self.sitemap_requests(urls, 0):
            self.crawler.engine.crawl(sitemap)

    async def parse(self, response: Response) -> AsyncIterator[Any]:
        article = None
        async for output in self._parse(response):
            if isinstance(output, ArticleItem):
                article = output
            yield self.recorded(output, response)
        if article is not None:  # done once the article is stored, not before
            article.on_stored = partial(self.mark_done, response.request)
        elif not response.meta.get(DEFERRED_META):  # else done when the canonical URL is
            self.mark_done(response.request)
        for output in self.settle_canonical(response.request, article is not None):
            yield output

    def settle_canonical(self, request: Request | None, stored: bool) -> Iterator[ArticleItem]:
        """The articles that waited on this page as their canonical URL: stored now if the
        page gave no article, else dropped (their pages are done either way)."""
        if request is not None:
            release, drop = self.canonical.settle(self._urls_of(request), stored)
            self._drop(drop)
            self._released += release
        released, self._released = self._released, []
        yield from released

    def _drop(self, items: Iterable[ArticleItem]) -> None:
        for item in items:
            self.crawler.stats.inc_value("reviewarc/articles/not_canonical")
            if item.on_stored is not None:
                item.on_stored()

    def redirected(self, source: str, target: str) -> None:
        """``source`` redirects to ``target`` (from :mod:`crawler.middlewares.redirects`):
        articles waiting on ``source`` as their canonical URL wait on ``target``, or are
        settled now if ``target`` was handled already; stored ones leave with this
        spider's next output (or when the crawl goes idle)."""
        release, drop = self.canonical.redirect(clean_link(source), clean_link(target))
        self._drop(drop)
        self._released += release

    def spider_idle(self, spider: Any = None) -> None:
        """Nothing more will be handled: articles still waiting on a canonical URL (one
        that never came back: a duplicate request, say) are stored from their own pages,
        through the item pipeline's own path, so that rel=canonical never loses a review."""
        leftovers = [*self._released, *self.canonical.unsettled()]
        self._released = []
        for item in leftovers:
            store_item(self.crawler, self.capture, item)

    def handled_before(self, url: str) -> tuple[bool, bool]:
        """For :class:`CanonicalWaits`: did an earlier run of this crawl handle ``url``
        (resuming), and is an article stored for it?"""
        if not self.frontier.is_done(self.crawler.request_fingerprinter.fingerprint(
            Request(url)).hex()):  # fmt: skip
            return False, False
        return True, self.capture.archive.has_article(url)

    async def _parse(self, response: Response) -> AsyncIterator[Any]:
        if response.status == 304:
            unchanged = unchanged_page(response, self.warc_dirs, self.max_body)
            if unchanged is None:
                return
            response = unchanged
        if response.status >= 400:
            yield self.http_failure(response)
            return
        body = self._body(response)
        if isinstance(body, FetchFailure):
            yield body
            return
        async for output in self._parse_body(response, body):
            yield output

    async def _parse_body(self, response: Response, body: bytes) -> AsyncIterator[Any]:
        """A sitemap, a feed or an HTML page; anything else leads nowhere."""
        root = xml_root(body)
        if root in ("urlset", "sitemapindex"):
            for request in self.parse_sitemap(response, body):
                yield request
        elif root in ("rss", "feed", "RDF"):
            for request in self.parse_feed(response, body):
                yield request
        elif is_html_page(_header(response, b"Content-Type"), body):
            async for output in self.parse_html(response):
                yield output

    def _body(self, response: Response) -> bytes | FetchFailure:
        """The body, un-gzipped if it is a gzip file (a ``.xml.gz`` sitemap)."""
        if not gzip_magic_number(response):
            return response.body
        try:
            return gunzip(response.body, max_size=self.max_body)
        except (OSError, ValueError) as e:
            kind = "too_large" if "max" in str(e) else "error"
            return FetchFailure(response.url, kind, f"cannot gunzip: {e}", response.status)

    async def parse_html(self, response: Response) -> AsyncIterator[Any]:
        """Links, feeds and the article of a page, from one parse in a worker process."""
        page = PageInput(
            url=response.url,
            body=response.body,
            content_type=_header(response, b"Content-Type"),
            content_language=_header(response, b"Content-Language"),
            matches_article_pattern=bool(
                self.article_pattern and self.article_pattern.search(response.url)
            ),
            extract=not self.config.archive_only,
            requisites=self.config.requisites,
        )
        try:
            assert self.extraction is not None  # spider_opened comes first
            analysis = await self.extraction.analyze(page)
        except (ExtractionTimeout, ExtractionFailed) as e:
            yield FetchFailure(response.url, "extraction", str(e), response.status)
            return
        for request in self._followed(response, analysis):
            yield request
        article = analysis.article
        if self.config.requisites and (article is not None or self.config.archive_only):
            for request in self.requisite_requests(analysis.requisites, response.url):
                yield request
        if article is not None:
            for output in self._article(response, ArticleItem(article, response.meta.get(
                    CAPTURE_META))):  # fmt: skip
                yield output
        elif page.extract:
            logger.debug("Not an article: %s (%s)", response.url, analysis.not_article)

    def _followed(self, response: Response, analysis: Any) -> Iterator[Request]:
        """Requests for the in-scope links and feeds of a page (within the hop limit)."""
        if not self._may_hop(response):
            return
        urls = [u for u in dict.fromkeys(map(clean_link, analysis.links)) if self.scope.allows(u)]
        for url, refused in zip(urls, self.guard.refusals(urls), strict=True):
            if refused is None:
                yield self.page_request(url, "link")
            else:
                self.crawler.stats.inc_value("reviewarc/trap_refused")
                logger.debug("Not following %s: %s", url, refused)
        for url in analysis.feeds:
            if self.scope.allows(url):
                yield self.page_request(url, "feed")

    def _article(self, response: Response, item: ArticleItem) -> Iterator[Any]:
        """The article item, unless its page names another URL as the article's own: then
        it is stored from there, unless that gives none (see :mod:`pipelines.canonical`)."""
        here = [response.url, *response.meta.get("redirect_urls", [])]
        canonical = canonical_elsewhere(item.article.canonical_url, here, self.scope.allows)
        if canonical is None:
            yield item
            return
        decision = self.canonical.decide(canonical)
        if decision == "store":
            yield item
        elif decision == "drop":
            self.crawler.stats.inc_value("reviewarc/articles/not_canonical")
        else:
            item.on_stored = partial(self.mark_done, response.request)
            self.canonical.wait(canonical, item, self._urls_of(response.request))
            response.meta[DEFERRED_META] = True
            yield self.page_request(item.article.canonical_url, "canonical")

    @staticmethod
    def _urls_of(request: Request) -> list[str]:
        """The URLs a request's response answers: its own and those it was redirected from."""
        return [clean_link(u) for u in (request.url, *request.meta.get("redirect_urls", []))]

    def _may_hop(self, response: Response) -> bool:
        """May links found on ``response`` be followed (``REVIEWARC_MAX_DEPTH`` hops)?"""
        return response.meta.get("depth", 0) < self.config.max_depth

    def parse_sitemap(self, response: Response, body: bytes) -> Iterator[Request]:
        try:
            sitemap = Sitemap(body)
        except Exception as e:  # lxml raises several types on broken XML
            logger.warning("Unreadable sitemap %s: %s", response.url, e)
            return
        depth = response.meta.get("sitemap_depth", 0)
        children: list[str] = []
        for entry in islice(sitemap, SITEMAP_MAX_URLS):
            loc = entry.get("loc")
            if not loc:
                continue
            url = urljoin(response.url, loc.strip())
            if not self.scope.allows(url):
                continue
            if sitemap.type == "sitemapindex":
                children.append(url)
            elif self._may_hop(response):
                freshness = self.freshness(url, entry.get("lastmod"))
                if freshness == "unchanged":
                    self.crawler.stats.inc_value("reviewarc/sitemap/unchanged_skipped")
                    continue
                request = self.page_request(url, "sitemap", lastmod=entry.get("lastmod"))
                # New and changed pages first.
                yield request.replace(priority=10) if freshness else request
        yield from self.sitemap_requests(children, depth + 1)

    def freshness(self, url: str, lastmod: str | None) -> str | None:
        """``"new"``, ``"changed"`` or ``"unchanged"`` (a sitemap's lastmod against the
        URL's last full capture); None when it cannot be told."""
        if not self.config.incremental:
            return None
        last = self.capture.last_response(url)
        if last is None:
            return "new"
        modified, fetched = _moment(lastmod), _moment(last.fetched_at)
        if modified is None or fetched is None:
            return None
        return "unchanged" if modified <= fetched else "changed"

    def parse_feed(self, response: Response, body: bytes) -> Iterator[Request]:
        feed = feedparser.parse(body, response_headers={"content-location": response.url})
        for entry in feed.entries if self._may_hop(response) else []:
            link = entry.get("link")
            if not link:
                continue
            url = urljoin(response.url, link.strip())
            if self.scope.allows(url):
                yield self.page_request(url, "feed")

    # -- failures ----------------------------------------------------------------------

    def http_failure(self, response: Response) -> FetchFailure:
        capture = response.meta.get(CAPTURE_META)
        return FetchFailure(
            url=response.url,
            kind="http",
            reason=f"HTTP {response.status}",
            status=response.status,
            capture_id=capture.capture_id if capture is not None else None,
        )

    def on_error(self, failure: Failure) -> Iterator[FetchFailure]:
        request = failure.request  # type: ignore[attr-defined]
        exc = failure.value
        kind = classify(exc)
        reason = f"{type(exc).__name__}: {exc}".strip()
        # A requisite that failed (real pages name many dead third-party hosts) is worth a
        # row, not a warning.
        quiet = kind == "robots" or request.meta.get("found_by") == "requisite"
        level = logging.INFO if quiet else logging.WARNING
        logger.log(level, "Failed %s (%s): %s", request.url, kind, reason)
        yield FetchFailure(url=request.url, kind=kind, reason=reason)
        self.mark_done(request)
        yield from self.settle_canonical(request, stored=False)
