"""What the crawl's components hand each other: the items the spider gives the item
pipelines (:mod:`crawler.item_pipelines`), and the ``request.meta`` and stats keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from archive.articles import Article
from archive.capture_store import CaptureRef

#: Stats key: the ``crawls.id`` of this run.
CRAWL_ID_STAT = "reviewarc/crawl_id"
#: ``request.meta`` key: record id of the capture whose validators a conditional request carries
#: (:mod:`crawler.middlewares.conditional`).
CONDITIONAL_META = "reviewarc_conditional_on"
#: ``request.meta`` key where the capture (:mod:`crawler.capture`) puts the response's CaptureRef
#: (None when it could not be archived).
CAPTURE_META = "reviewarc_capture"


@dataclass
class FetchFailure:
    """A URL that could not be archived or came back with an error status."""

    url: str
    kind: str  # http, timeout, dns, connection, too_large, robots, data_loss, extraction, ...
    reason: str
    status: int | None = None
    capture_id: int | None = None


@dataclass
class ArticleItem:
    """An article extracted from an archived page, and the capture it came from."""

    article: Article
    capture: CaptureRef | None
    #: Called once the article is stored (the crawl frontier marks its page done).
    on_stored: Callable[[], None] | None = None
