"""Scrapy side of the persistent frontier (:mod:`archive.frontier`).

:class:`FrontierDupeFilter` is the crawl's duplicate filter: a request is new when its
fingerprint is not in this crawl's frontier yet, and it is recorded there as queued. The
spider marks requests done and, at start, picks up what a killed run left (see
``ReviewsSpider.resume``).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from scrapy.dupefilters import BaseDupeFilter
from scrapy.http import Request

from archive.frontier import Frontier
from crawler.capture import WarcCapture

logger = logging.getLogger(__name__)

#: Attribute of a Scrapy crawler holding its dupe filter (the scheduler builds it).
_ATTRIBUTE = "_reviewarc_dupefilter"


def crawl_key(source: str | None, seeds: list[str]) -> str:
    """What makes two runs "the same crawl": the source, or else the seeds."""
    if source:
        return f"source:{source}"
    return "seeds:" + hashlib.sha1("\n".join(sorted(seeds)).encode()).hexdigest()


class FrontierDupeFilter(BaseDupeFilter):
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.frontier: Frontier | None = None
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierDupeFilter:
        dupefilter = cls(crawler)
        setattr(crawler, _ATTRIBUTE, dupefilter)
        return dupefilter

    @classmethod
    def of(cls, crawler: Any) -> FrontierDupeFilter:
        """The dupe filter the crawl's scheduler uses."""
        return getattr(crawler, _ATTRIBUTE)

    def fingerprint(self, request: Request) -> str:
        return self.crawler.request_fingerprinter.fingerprint(request).hex()

    def open(self) -> None:
        self.frontier = WarcCapture.of(self.crawler).frontier
        self.seen = self.frontier.known()

    def request_seen(self, request: Request) -> bool:
        fingerprint = self.fingerprint(request)
        if fingerprint in self.seen:
            return True
        self.seen.add(fingerprint)
        if self.frontier is not None:
            kind = request.meta.get("found_by", "link")
            self.frontier.add(fingerprint, request.url, kind, request.meta.get("depth", 0))
            # On disk before it can be downloaded: were it captured while its row waited for
            # its parent's "done", a resumed run would not know it and fetch it twice.
            self.frontier.commit()
        return False

    def seen_before(self, fingerprint: str) -> bool:
        """Whether a request was seen, marking it seen, for a request that is handled
        without being scheduled (the caller records it in the frontier)."""
        if fingerprint in self.seen:
            return True
        self.seen.add(fingerprint)
        if getattr(self.frontier, "shared", False):  # seen by any worker of a shared crawl
            return self.frontier.mark_seen(fingerprint)  # type: ignore[union-attr]
        return False

    def log(self, request: Request, spider: Any) -> None:
        self.crawler.stats.inc_value("dupefilter/filtered")
