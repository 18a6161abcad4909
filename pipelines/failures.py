"""Stores :class:`FetchFailure` items in the ``failures`` table."""

from __future__ import annotations

import logging
from typing import Any

from archive.database import ArchiveDB
from pipelines.config import ReviewarcConfig
from pipelines.items import FetchFailure

logger = logging.getLogger(__name__)

CRAWL_ID_STAT = "reviewarc/crawl_id"


class FailurePipeline:
    def __init__(self, crawler: Any, db_path: str) -> None:
        self.crawler = crawler
        self.db_path = db_path
        self.db: ArchiveDB | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> FailurePipeline:
        config = ReviewarcConfig.from_settings(crawler.settings)
        return cls(crawler, str(config.data_dir / "archive.db"))

    def open_spider(self, spider: Any = None) -> None:
        self.db = ArchiveDB.open(self.db_path)

    def close_spider(self, spider: Any = None) -> None:
        if self.db is not None:
            self.db.close()

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, FetchFailure):
            return item
        assert self.db is not None
        crawl_id = self.crawler.stats.get_value(CRAWL_ID_STAT)
        self.db.add_failure(
            item.url,
            item.kind,
            item.reason,
            status=item.status,
            capture_id=item.capture_id,
            crawl_id=crawl_id,
        )
        self.crawler.stats.inc_value(f"reviewarc/failures/{item.kind}")
        logger.info("Recorded failure %s (%s): %s", item.url, item.kind, item.reason)
        return item
