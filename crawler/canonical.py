"""rel=canonical without losing a review.

A page that names another in-scope URL as its canonical one is, most often, a print view,
an AMP copy or a tracking variant of that URL: the article is stored from the canonical URL
alone, so it is not stored twice. But the canonical URL may give no article: a 404, a
listing, a server that fails, or a page that names the first one back. So the first page's
article is held, not dropped, until the canonical URL has been handled: if that gave an
article, the held one is dropped; otherwise it is stored after all, from its own page.

:class:`CanonicalWaits` is that bookkeeping, for one crawl run; the spider calls it when a
page defers to its canonical URL (:meth:`decide`, :meth:`wait`) and when any page has been
handled (:meth:`settle`). URLs are compared as the spider compares links (``clean_link``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from pipelines.items import ArticleItem


@dataclass
class CanonicalWaits:
    #: Did an earlier run of this crawl handle the URL, and did that store an article there?
    #: (``(handled, stored)``; the frontier and the database know, this run does not.)
    earlier: Callable[[str], tuple[bool, bool]] = lambda url: (False, False)
    _waiting: dict[str, list[ArticleItem]] = field(default_factory=lambda: defaultdict(list))
    _deferring: set[str] = field(default_factory=set)
    _handled: set[str] = field(default_factory=set)
    _stored: set[str] = field(default_factory=set)

    def decide(self, canonical: str) -> Literal["drop", "store", "wait"]:
        """What to do with an article whose page names ``canonical``: ``drop`` it (stored
        from there already), ``store`` it here (there gave none, or there defers back to a
        page that defers: a loop), or ``wait`` for ``canonical`` to be handled."""
        if canonical in self._stored:
            return "drop"
        if canonical in self._deferring or canonical in self._handled:
            return "store"
        handled, stored = self.earlier(canonical)
        if handled:
            return "drop" if stored else "store"
        return "wait"

    def wait(self, canonical: str, item: ArticleItem, here: Iterable[str]) -> None:
        """Hold ``item`` (from the page at the URLs ``here``) until ``canonical`` is handled.
        Articles already waiting on this page wait on ``canonical`` with it (a chain)."""
        self._waiting[canonical].append(item)
        for url in here:
            self._deferring.add(url)
            self._waiting[canonical].extend(self._waiting.pop(url, []))

    def settle(
        self, urls: Iterable[str], stored: bool
    ) -> tuple[list[ArticleItem], list[ArticleItem]]:
        """The page at ``urls`` has been handled, and gave an article or not: the articles
        waiting on it to store now (none if it gave one), and those to drop."""
        urls = set(urls)
        self._handled |= urls
        if stored:
            self._stored |= urls
        waiting = [item for url in urls for item in self._waiting.pop(url, [])]
        return ([], waiting) if stored else (waiting, [])
