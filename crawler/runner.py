"""Run crawls in this process: Scrapy settings built in one place, one crawl after another."""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from twisted.internet import defer

from crawler.sources import Source
from crawler.spiders.reviews import ReviewsSpider

logger = logging.getLogger(__name__)

#: The scheduler of a worker of a shared crawl (``REVIEWARC_REDIS_URL``).
SHARED_SCHEDULER = "crawler.distributed.scheduler.SharedScheduler"


@dataclass(frozen=True)
class CrawlJob:
    seeds: tuple[str, ...]
    source: str | None = None
    article_pattern: str | None = None
    max_depth: int | None = None

    @classmethod
    def from_source(cls, source: Source) -> CrawlJob:
        return cls(source.seeds, source.name, source.article_pattern, source.max_depth)


@dataclass
class CrawlResult:
    job: CrawlJob
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and "reviewarc/warc_write_error" not in self.stats


def build_settings(
    data_dir: Path,
    *,
    depth: int | None = None,
    max_pages: int | None = None,
    user_agent: str | None = None,
    log_level: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("REVIEWARC_DATA", str(data_dir), priority="cmdline")
    if depth is not None:
        settings.set("REVIEWARC_MAX_DEPTH", depth, priority="cmdline")
    if max_pages:
        settings.set("CLOSESPIDER_PAGECOUNT", max_pages, priority="cmdline")
    if user_agent:
        settings.set("USER_AGENT", user_agent, priority="cmdline")
    if log_level:
        settings.set("LOG_LEVEL", log_level.upper(), priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    if settings.get("REVIEWARC_REDIS_URL"):
        # A worker of a shared crawl: requests come from Redis, by host lease.
        settings.set("SCHEDULER", SHARED_SCHEDULER, priority="cmdline")
    return settings


def _job_settings(job: CrawlJob, settings: Settings) -> Settings:
    job_settings = settings.copy()
    if job.source:
        job_settings.set("REVIEWARC_SOURCE", job.source, priority="cmdline")
    if job.max_depth is not None:
        job_settings.set("REVIEWARC_MAX_DEPTH", job.max_depth, priority="cmdline")
    return job_settings


def _storage_full(error: BaseException | None) -> bool:
    """Is ``error`` (or what caused it) a full disk?"""
    while error is not None:
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(error, sqlite3.Error) and (
            getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or "disk is full" in str(error)
        ):
            return True
        error = error.__cause__ or error.__context__
    return False


class _OneLineAfterWriteFailure(logging.Filter):
    """Once the archive cannot be written (a full disk), every page still in flight fails
    the same way, each logged by Scrapy with its whole traceback. This filter, on the log
    handlers while a crawl runs, logs such errors as one line each, the error at its end:
    errors of a full disk, and any error once the crawl has stopped for a failed write (a
    follow-on of it)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__()
        self.crawler = crawler

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None:
            return True
        stats = _stats_of(self.crawler)
        failed = stats is not None and stats.get_value("reviewarc/warc_write_error") is not None
        if failed or _storage_full(error):
            record.msg = f"{record.getMessage()}: {type(error).__name__}: {error}"
            record.args = None
            record.exc_info = record.exc_text = None
        return True


def _one_line_after_write_failure(crawler: Crawler) -> None:
    """Put :class:`_OneLineAfterWriteFailure` on the log handlers while ``crawler`` runs
    (from ``spider_opened``: Scrapy replaces its root handler as each crawl starts)."""
    log_filter = _OneLineAfterWriteFailure(crawler)

    def attach() -> None:
        for handler in logging.getLogger().handlers:
            handler.addFilter(log_filter)

    def detach() -> None:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(log_filter)

    crawler.signals.connect(attach, signal=signals.spider_opened, weak=False)
    crawler.signals.connect(detach, signal=signals.engine_stopped, weak=False)


def _stats_of(crawler: Crawler) -> Any:
    """The crawler's stats, or None for a crawl that failed before Scrapy made them (a bad
    setting in a component's ``from_crawler``): Scrapy raises rather than answer None."""
    try:
        return crawler.stats
    except RuntimeError:
        return None


def run_crawls(jobs: Iterable[CrawlJob], settings: Settings) -> list[CrawlResult]:
    """Crawl each job in turn (they share the data directory, so never at once)."""
    results = [CrawlResult(job) for job in jobs]
    process = CrawlerProcess(settings)
    # The first crawler installs the reactor that the settings ask for.
    crawlers = [
        Crawler(ReviewsSpider, _job_settings(r.job, settings), init_reactor=(i == 0))
        for i, r in enumerate(results)
    ]
    for crawler in crawlers:
        _one_line_after_write_failure(crawler)
    done = False

    @defer.inlineCallbacks
    def sequence() -> Any:
        nonlocal done
        try:
            for crawler, result in zip(crawlers, results, strict=True):
                job = result.job
                try:
                    yield process.crawl(
                        crawler,
                        url=list(job.seeds),
                        article_pattern=job.article_pattern,
                        source=job.source,
                    )
                except Exception as e:  # bootstrap errors: data dir locked, not writable, ...
                    result.error = str(e) or type(e).__name__
                    logger.error("Crawl of %s could not start: %s", ", ".join(job.seeds), e)
                stats = _stats_of(crawler)
                if stats is not None:
                    result.stats = dict(stats.get_stats())
                if result.stats.get("finish_reason") == "shutdown":
                    break  # Ctrl-C or SIGTERM: no further sources
        finally:
            done = True
            process._stop_reactor()

    sequence()
    if not done:
        process.start(stop_after_crawl=False)
    return results
