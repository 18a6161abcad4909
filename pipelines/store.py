"""One path from an archived page to its rows, for the crawl and for ``reprocess``.

The crawl's item pipeline and ``reprocess`` both store an extracted article through
:class:`PageStore`: the article, its version (one per distinct body), site, author and
tags in one transaction (:class:`archive.articles.ArticleStore`), and, when that fails, a
``failures`` row of kind ``store`` saying why, so that nothing extracted goes unrecorded.
The other shared parts of the path: the ``captures`` row (:func:`archive.capture_store.
capture_row`), the page a revisit shows (:func:`archive.shown.shown_page`) and the
rel=canonical rule (:mod:`pipelines.canonical`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from archive.articles import Article, Saved
from archive.database import ArchiveDB

logger = logging.getLogger(__name__)

#: ``failures.kind`` of an article that was extracted but could not be stored.
STORE_FAILURE = "store"


@dataclass(frozen=True)
class NotStored:
    """Why an article was not stored (its ``failures`` row says the same)."""

    reason: str


class PageStore:
    def __init__(
        self, archive: ArchiveDB, crawl_id: int | None = None, *, in_transaction: bool = False
    ) -> None:
        self.archive = archive
        self.articles = archive.articles()
        self.crawl_id = crawl_id
        #: The caller holds a transaction around many saves (``reprocess``: one per WARC
        #: file); an error that ends it is raised rather than recorded.
        self.in_transaction = in_transaction

    def save(self, article: Article, capture_id: int, fetched_at: str) -> Saved | NotStored:
        """Store ``article``, extracted from capture ``capture_id`` (fetched at
        ``fetched_at``); on any error the save is rolled back and recorded instead."""
        try:
            return self.articles.save(article, capture_id, fetched_at)
        except Exception as e:  # whatever it is, it must not go unrecorded
            if self.in_transaction and not self.archive.in_transaction:
                raise  # the whole transaction is gone: half a file must not look indexed
            reason = f"could not store the article: {type(e).__name__}: {e}"
            logger.warning("%s: %s", article.url, reason)
            logger.debug("Storing %s failed", article.url, exc_info=e)
            self._record(article.url, reason, capture_id)
            return NotStored(reason)

    def _record(self, url: str, reason: str, capture_id: int) -> None:
        try:
            self.archive.add_failure(
                url, STORE_FAILURE, reason, capture_id=capture_id, crawl_id=self.crawl_id
            )
        except Exception as e:  # the database itself refuses writes (a full disk, say)
            logger.error("Could not record the failure to store %s either: %s", url, e)
