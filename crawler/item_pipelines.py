"""The crawl's item pipelines: failures and articles into the archive.

Both write through the crawl's one handle on the archive, which the capture owns
(:class:`crawler.capture.WarcCapture`); articles go through :class:`pipelines.store.
PageStore`, the path ``reprocess`` stores them by too.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import DropItem

from crawler.capture import WarcCapture
from crawler.items import ArticleItem, FetchFailure
from pipelines.store import STORE_FAILURE, NotStored

logger = logging.getLogger(__name__)


class FailurePipeline:
    """Stores :class:`FetchFailure` items in the ``failures`` table."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.capture = WarcCapture.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Any) -> FailurePipeline:
        return cls(crawler)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, FetchFailure):
            return item
        self.capture.archive.add_failure(
            item.url,
            item.kind,
            item.reason,
            status=item.status,
            capture_id=item.capture_id,
            crawl_id=self.capture.crawl_id,
        )
        self.capture.record_failure(item.url, item.kind, item.reason, item.status,
                                    item.capture_id)  # fmt: skip
        self.crawler.stats.inc_value(f"reviewarc/failures/{item.kind}")
        logger.info("Recorded failure %s (%s): %s", item.url, item.kind, item.reason)
        return item


class ArticlePipeline:
    """Stores :class:`ArticleItem` items: article, version, site, author and tags at once."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.capture = WarcCapture.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArticlePipeline:
        return cls(crawler)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        if item.capture is None:
            raise DropItem(f"not archived, so not stored: {item.article.url}")
        store_item(self.crawler, self.capture, item)
        return item


def store_item(crawler: Any, capture: WarcCapture, item: ArticleItem) -> None:
    """Store the article of ``item`` (through :class:`pipelines.store.PageStore`), count
    it, and mark its page handled."""
    if item.capture is not None:
        pages = capture.pages
        assert pages is not None  # set when the spider opened
        stats = crawler.stats
        saved = pages.save(item.article, item.capture.capture_id, item.capture.fetched_at)
        if isinstance(saved, NotStored):
            stats.inc_value(f"reviewarc/failures/{STORE_FAILURE}")
        else:
            stats.inc_value(
                "reviewarc/articles/new" if saved.new_article else "reviewarc/articles/seen"
            )
            if saved.changed:
                stats.inc_value("reviewarc/articles/changed")
    # The page is handled either way: its WARC records and a row saying what became of
    # its article are stored (``reviewarc reprocess`` stores it again from the WARC).
    if item.on_stored is not None:
        item.on_stored()
