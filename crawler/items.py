"""Items the spider hands to the pipelines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from archive.articles import Article
from archive.capture_store import CaptureRef

#: ``request.meta`` key where the capture extension puts the response's CaptureRef
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
