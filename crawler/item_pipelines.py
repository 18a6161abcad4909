"""Stores :class:`ArticleItem` items: article, version, site, author and tags at once."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import DropItem

from archive.articles import ArticleStore
from archive.database import ArchiveDB
from pipelines.config import ReviewarcConfig
from pipelines.failures import CRAWL_ID_STAT
from pipelines.items import ArticleItem

logger = logging.getLogger(__name__)

#: ``failures.kind`` of an article that was extracted but could not be stored.
STORE_FAILURE = "store"


class ArticlePipeline:
    def __init__(self, crawler: Any, db_path: str) -> None:
        self.crawler = crawler
        self.db_path = db_path
        self.archive: ArchiveDB | None = None
        self.store: ArticleStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArticlePipeline:
        config = ReviewarcConfig.from_settings(crawler.settings)
        return cls(crawler, str(config.data_dir / "archive.db"))

    def open_spider(self, spider: Any = None) -> None:
        self.archive = ArchiveDB.open(self.db_path)
        self.store = ArticleStore(self.archive.db)

    def close_spider(self, spider: Any = None) -> None:
        if self.store is not None:
            self.store.db.close()

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        if item.capture is None:
            raise DropItem(f"not archived, so not stored: {item.article.url}")
        assert self.store is not None
        stats = self.crawler.stats
        try:
            saved = self.store.save(item.article, item.capture.capture_id, item.capture.fetched_at)
        except Exception as e:  # whatever it is, it must not go unrecorded
            self._record_failure(item, e)
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
        return item

    def _record_failure(self, item: ArticleItem, error: Exception) -> None:
        """A ``failures`` row for an article that could not be stored (save() rolled back)."""
        assert self.archive is not None and item.capture is not None
        url = item.article.url
        reason = f"could not store the article: {type(error).__name__}: {error}"
        logger.warning("%s: %s", url, reason)
        logger.debug("Storing %s failed", url, exc_info=error)
        try:
            self.archive.add_failure(
                url,
                STORE_FAILURE,
                reason,
                status=None,
                capture_id=item.capture.capture_id,
                crawl_id=self.crawler.stats.get_value(CRAWL_ID_STAT),
            )
        except Exception as e:  # the database itself refuses writes (a full disk, say)
            logger.error("Could not record the failure to store %s either: %s", url, e)
            return
        self.crawler.stats.inc_value(f"reviewarc/failures/{STORE_FAILURE}")
