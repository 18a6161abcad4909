"""The WARC capture extension: every downloaded response, as received, into the archive.

Wiring only. ``response_downloaded`` marks the responses that came from the network; the
outermost downloader middleware (:class:`crawler.middlewares.capture.CaptureMiddleware`,
before any other has decoded the body) awaits :meth:`WarcCapture.capture`, which hands the
exchange to :class:`archive.capture_store.CaptureStore`: its writer thread writes and
flushes the WARC records, then the ``captures`` row is committed. The resulting
:class:`~archive.capture_store.CaptureRef` is put in ``request.meta["reviewarc_capture"]``
(None when nothing was archived), so that later stages can refuse to store anything that
has no capture behind it.

A WARC that cannot be written stops the crawl with the finish reason ``warc_write_failed``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import weakref
from importlib.metadata import version
from typing import Any

import scrapy
from scrapy import signals
from scrapy.http import Request, Response
from scrapy.utils.defer import deferred_from_coro

import crawler as reviewarc_pkg
from archive.capture_store import CaptureStore, recover
from archive.database import ArchiveDB
from archive.datadir import DataDir
from archive.errors import ArchiveError, WARCWriteError
from archive.warc_writer import WARCFileWriter
from crawler.exchange_adapter import exchange_from_scrapy
from crawler.middlewares.conditional import CONDITIONAL_META
from pipelines.config import ReviewarcConfig
from pipelines.failures import CRAWL_ID_STAT
from pipelines.items import CAPTURE_META
from pipelines.reprocess import ARTICLE_PATTERN_FIELD

logger = logging.getLogger(__name__)


WARC_WRITE_FAILED = "warc_write_failed"


def warcinfo_fields(settings: Any, crawler: Any) -> dict[str, str]:
    return {
        "software": f"reviewarc/{reviewarc_pkg.__version__} (Scrapy/{scrapy.__version__}; "
        f"warcio/{version('warcio')})",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "http-header-user-agent": settings.get("USER_AGENT"),
        "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        "hostname": os.uname().nodename,
        "isPartOf": settings.get("REVIEWARC_SOURCE") or "",
    }


class WarcCapture:
    def __init__(self, crawler: Any, config: ReviewarcConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.datadir = DataDir(config.data_dir).create()
        self.datadir.lock()
        self.db = ArchiveDB.open(self.datadir.db_path)
        recover(self.datadir, self.db)
        self.datadir.check_writable()
        self.writer = WARCFileWriter(
            self.datadir.warc_dir,
            prefix=config.warc_prefix,
            max_size=config.warc_max_size,
            gzip_level=config.warc_gzip_level,
            warcinfo=warcinfo_fields(crawler.settings, crawler),
            fsync=config.warc_fsync,
        )
        self.store: CaptureStore | None = None
        self.error: Exception | None = None
        self._downloaded: weakref.WeakSet[Response] = weakref.WeakSet()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> WarcCapture:
        return cls(crawler, ReviewarcConfig.from_settings(crawler.settings))

    def spider_opened(self, spider: scrapy.Spider) -> None:
        crawl_id = self.db.start_crawl(
            getattr(spider, "seeds", []), self.config.source, getattr(spider, "crawl_key", None)
        )
        self.crawler.stats.set_value(CRAWL_ID_STAT, crawl_id)
        self.store = CaptureStore(self.writer, self.db, crawl_id)
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

    async def capture(self, request: Request, response: Response) -> None:
        """Archive ``response`` if it came from the network (not made by a middleware)."""
        if response not in self._downloaded:
            return
        self._downloaded.discard(response)
        if self.error is not None or self.store is None:
            return
        try:
            conditional = request.meta.get(CONDITIONAL_META) is not None
            exchange = exchange_from_scrapy(request, response)
            ref = await self.store.capture_async(exchange, conditional)
        except (ArchiveError, OSError, sqlite3.Error) as e:
            self._fail(e)
            return
        request.meta[CAPTURE_META] = ref
        self.crawler.stats.inc_value(f"reviewarc/captures/{ref.record_type}")

    def spider_closed(self, spider: Any, reason: str) -> None:
        try:
            if self.store is not None:
                self.store.close()  # drains the writer thread
            self.writer.close()
        except OSError as e:
            logger.error("Could not close WARC file: %s", e)
            self.error = self.error or WARCWriteError(str(e))
        if self.error is not None:
            reason = WARC_WRITE_FAILED
            self.crawler.stats.set_value("finish_reason", reason)
        crawl_id = self.crawler.stats.get_value(CRAWL_ID_STAT)
        try:
            if crawl_id is not None:
                pages = self.crawler.stats.get_value("response_received_count", 0)
                self.db.finish_crawl(crawl_id, reason, pages=pages)
        except sqlite3.Error as e:
            logger.error("Could not record the end of crawl %s: %s", crawl_id, e)
        finally:
            self.db.close()
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
