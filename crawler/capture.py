"""The WARC capture: every downloaded response, as received, into the archive.

One component per crawl, listed once in ``DOWNLOADER_MIDDLEWARES`` (order 950, the
outermost: Scrapy calls ``process_response`` from the highest order down, so it sees each
body as it came off the wire, before decompression, and sets the request's capture meta
before the spider or any other middleware gets the response). It owns the crawl's handle on
the archive: built once per crawler (:meth:`WarcCapture.of`), it takes the data directory's
lock, opens the database (:class:`~archive.database.ArchiveDB`), repairs what a crash
left, and opens the frontier; the spider, the item pipelines, the dupe filter and the other
middlewares ask it for them instead of opening their own. It connects its own signals:
``spider_opened`` starts the crawl's row and the WARC file, ``response_downloaded`` marks
the responses that came from the network (not made by a middleware), ``spider_closed``
drains the writer, records the crawl's end and closes everything.

Each response goes to :class:`archive.capture_store.CaptureStore`: its writer thread writes
and flushes the WARC records, then the ``captures`` row is committed. The resulting
:class:`~archive.capture_store.CaptureRef` is put in ``request.meta["reviewarc_capture"]``
(None when nothing was archived), so that later stages refuse to store anything that has no
capture behind it. A WARC that cannot be written stops the crawl with the finish reason
``warc_write_failed``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import weakref
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.http import Request, Response
from scrapy.utils.defer import deferred_from_coro

import crawler as reviewarc_pkg
from archive.capture_store import CaptureStore, recover
from archive.database import ArchiveDB, LastResponse, completes
from archive.datadir import DataDir
from archive.errors import ArchiveError, WARCWriteError
from archive.frontier import Frontier
from archive.warc_writer import WARCFileWriter
from crawler.config import ReviewarcConfig
from crawler.download_handler import take_raw_head
from crawler.exchange_adapter import exchange_from_scrapy
from crawler.items import CAPTURE_META, CONDITIONAL_META, CRAWL_ID_STAT
from crawler.per_crawler import once

if TYPE_CHECKING:
    from crawler.distributed.frontier import SharedFrontier
    from crawler.distributed.worker import Worker
from pipelines.reprocess import ARTICLE_PATTERN_FIELD
from pipelines.store import PageStore

logger = logging.getLogger(__name__)

WARC_WRITE_FAILED = "warc_write_failed"
#: Attribute of a Scrapy crawler holding its capture.
_ATTRIBUTE = "_reviewarc_capture"


def crawl_warcinfo(settings: Any, config: ReviewarcConfig) -> dict[str, str]:
    """The warcinfo fields that open each WARC file of a crawl (read back with
    :func:`archive.warc_reader.warcinfo_fields`)."""
    return {
        "software": f"reviewarc/{reviewarc_pkg.__version__} (Scrapy/{scrapy.__version__}; "
        f"warcio/{version('warcio')})",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "http-header-user-agent": settings.get("USER_AGENT"),
        "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        "hostname": os.uname().nodename,
        "isPartOf": config.source or "",
    }


class WarcCapture:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.config = config = ReviewarcConfig.of(crawler)
        spider = crawler.spider
        # A worker of a shared crawl writes its own directory, DATA/workers/NAME/.
        self.datadir = DataDir(config.crawl_dir).create()
        self.datadir.lock()
        #: This crawl as one worker of a shared crawl (``--redis``), else None.
        self.worker: Worker | None = None
        try:
            self.archive = ArchiveDB.open(self.datadir.db_path)
            repaired = recover(self.datadir, self.archive)
            self.datadir.check_writable()
            if config.worker:
                from crawler.distributed.worker import Worker

                self.worker = Worker(crawler, self, repaired)
        except BaseException:
            self.datadir.unlock()
            raise
        #: What a killed run of this crawl left to do (see :mod:`archive.frontier`).
        self.frontier: Frontier | SharedFrontier = (
            self.worker.frontier
            if self.worker is not None
            else Frontier(
                self.datadir.state_dir / "frontier.db",
                getattr(spider, "crawl_key", spider.name),
            )
        )
        warcinfo = crawl_warcinfo(crawler.settings, config)
        if self.worker is not None:
            warcinfo.update(self.worker.warcinfo())
        self.writer = WARCFileWriter(
            self.datadir.warc_dir,
            prefix=config.warc_prefix,
            max_size=config.warc_max_size,
            gzip_level=config.warc_gzip_level,
            warcinfo=warcinfo,
            fsync=config.warc_fsync,
            name_suffix=config.worker,
        )
        self.crawl_id: int | None = None
        self.store: CaptureStore | None = None
        #: The one path from an archived page to its rows (shared with ``reprocess``).
        self.pages: PageStore | None = None
        self.error: Exception | None = None
        self._downloaded: weakref.WeakSet[Response] = weakref.WeakSet()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        if self.worker is not None:
            self.writer.on_closed = self.worker.frontier.sealed_file
            crawler.signals.connect(self.worker.spider_idle, signal=signals.spider_idle)

    @classmethod
    def of(cls, crawler: Any) -> WarcCapture:
        """The capture of ``crawler``, built (and the archive opened) on first use."""
        return once(crawler, _ATTRIBUTE, lambda: cls(crawler))

    @classmethod
    def from_crawler(cls, crawler: Any) -> WarcCapture:
        return cls.of(crawler)

    def spider_opened(self, spider: scrapy.Spider) -> None:
        self.crawl_id = self.archive.start_crawl(
            getattr(spider, "seeds", []), self.config.source, getattr(spider, "crawl_key", None)
        )
        self.crawler.stats.set_value(CRAWL_ID_STAT, self.crawl_id)
        self.store = CaptureStore(self.writer, self.archive, self.crawl_id)
        self.store.last_response = self.last_response
        self.pages = PageStore(self.archive, self.crawl_id)
        pattern = getattr(spider, "article_pattern", None)
        if pattern is not None:
            # Read back by `reviewarc reprocess`, which has only the WARC files to go by.
            self.writer.warcinfo[ARTICLE_PATTERN_FIELD] = pattern.pattern
        try:
            self.writer.open()
        except WARCWriteError as e:
            self._fail(e)

    def response_downloaded(self, response: Response, request: Request, spider: Any) -> None:
        request.meta[CAPTURE_META] = None
        self._downloaded.add(response)

    async def process_response(self, request: Request, response: Response) -> Response:
        """Archive ``response`` if it came from the network (not made by a middleware)."""
        if response not in self._downloaded:
            return response
        self._downloaded.discard(response)
        if self.error is not None or self.store is None:
            take_raw_head(request)  # not carried on to a redirect's request
            return response
        try:
            conditional = request.meta.get(CONDITIONAL_META) is not None
            exchange = exchange_from_scrapy(request, response)
            ref = await self.store.capture_async(exchange, conditional)
        except (ArchiveError, OSError, sqlite3.Error) as e:
            self._fail(e)
            return response
        request.meta[CAPTURE_META] = ref
        self.crawler.stats.inc_value(f"reviewarc/captures/{ref.record_type}")
        if self.worker is not None:
            self.worker.remember(
                ref, exchange.response.status, _first(response, b"ETag"),
                _first(response, b"Last-Modified"), exchange.content_type,
                len(exchange.body),
            )  # fmt: skip
        return response

    def last_response(self, url: str) -> LastResponse | None:
        """The URL's latest full response (its validators, the record a revisit refers
        to): in the archive, or in a shared crawl wherever it was captured."""
        if self.worker is not None:
            return self.worker.last_response(url)
        return self.archive.last_response(url)

    def record_failure(self, url: str, kind: str, reason: str, status: int | None = None,
                       capture_id: int | None = None) -> None:  # fmt: skip
        """A failure of this crawl, also written into the WARC in a shared crawl (the
        indexer builds the failures table from it)."""
        if self.worker is not None:
            self.worker.record_failure(url, kind, reason, status, capture_id)

    @property
    def warc_dirs(self) -> tuple[Path, ...]:
        """Where an earlier capture's WARC file may be."""
        if self.worker is not None:
            return self.worker.warc_dirs
        return (self.datadir.warc_dir,)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.worker is not None:
            self.worker.closing(reason)
        try:
            if self.store is not None:
                self.store.close()  # drains the writer thread
            self.writer.close()
        except OSError as e:
            logger.error("Could not close WARC file: %s", e)
            self.error = self.error or WARCWriteError(str(e))
        if self.worker is not None:
            self.worker.closed(reason, files_closed=self.error is None)
        if self.error is not None:
            reason = WARC_WRITE_FAILED
            self.crawler.stats.set_value("finish_reason", reason)
        try:
            if self.crawl_id is not None:
                pages = self.crawler.stats.get_value("response_received_count", 0)
                self.archive.finish_crawl(self.crawl_id, reason, pages=pages)
            if completes(reason):
                self.frontier.clear()  # done: the next crawl starts afresh
        except sqlite3.Error as e:
            logger.error("Could not record the end of crawl %s: %s", self.crawl_id, e)
        finally:
            self.frontier.close()
            self.archive.close()
            self.datadir.unlock()

    def _fail(self, error: Exception) -> None:
        if self.error is not None:
            return
        self.error = error
        logger.error("Stopping the crawl: %s", error)
        self.crawler.stats.set_value("reviewarc/warc_write_error", str(error) or repr(error))
        from twisted.internet import reactor

        reactor.callLater(
            0,
            lambda: deferred_from_coro(
                self.crawler.engine.close_spider_async(reason=WARC_WRITE_FAILED)
            ),
        )


def _first(response: Response, name: bytes) -> str | None:
    values = response.headers.getlist(name)
    return values[0].decode("latin-1").strip() if values and values[0] else None
