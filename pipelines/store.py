"""Stores :class:`ArticleItem` items: article, version, site, author and tags at once."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import DropItem

from archive.articles import ArticleStore
from archive.database import ArchiveDB
from pipelines.config import ReviewarcConfig
from pipelines.items import ArticleItem

logger = logging.getLogger(__name__)


class ArticlePipeline:
    def __init__(self, crawler: Any, db_path: str) -> None:
        self.crawler = crawler
        self.db_path = db_path
        self.store: ArticleStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArticlePipeline:
        config = ReviewarcConfig.from_settings(crawler.settings)
        return cls(crawler, str(config.data_dir / "archive.db"))

    def open_spider(self, spider: Any = None) -> None:
        self.store = ArticleStore(ArchiveDB.open(self.db_path).db)

    def close_spider(self, spider: Any = None) -> None:
        if self.store is not None:
            self.store.db.close()

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        if item.capture is None:
            raise DropItem(f"not archived, so not stored: {item.article.url}")
        assert self.store is not None
        saved = self.store.save(item.article, item.capture.capture_id, item.capture.fetched_at)
        stats = self.crawler.stats
        stats.inc_value(
            "reviewarc/articles/new" if saved.new_article else "reviewarc/articles/seen"
        )
        if saved.new_version and not saved.new_article:
            stats.inc_value("reviewarc/articles/changed")
        if item.on_stored is not None:
            item.on_stored()
        return item
