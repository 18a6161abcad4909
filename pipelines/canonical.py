"""rel=canonical without losing a review.

A page that names another in-scope URL as its canonical one is, most often, a print view,
an AMP copy or a tracking variant of that URL: the article is stored from the canonical URL
alone, so it is not stored twice. But the canonical URL may give no article: a 404, a
listing, a server that fails, or a page that names the first one back. So the first page's
article is held, not dropped, until the canonical URL has been handled: if that gave an
article, the held one is dropped; otherwise it is stored after all, from its own page.

:class:`CanonicalWaits` is that bookkeeping, for one crawl run; the spider calls it when a
page defers to its canonical URL (:meth:`decide`, :meth:`wait`) and when any page has been
handled (:meth:`settle`); ``reprocess`` calls it the same way as it reads a WARC file's
pages in order, so that a rebuilt database keeps the crawl's choice. URLs are compared as
the spider compares links (``clean_link``); :func:`canonical_elsewhere` says when a page
defers at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from pipelines.urls import clean_link

#: What waits: the crawl's article items, reprocess's pages.
T = TypeVar("T")


def canonical_elsewhere(
    canonical: str | None, here: Iterable[str], allowed: Callable[[str], bool]
) -> str | None:
    """The URL the article of the page at ``here`` (its URL and those it was redirected
    from) is to be stored from instead: its rel=canonical ``canonical``, cleaned, when that
    is another URL that ``allowed`` (the crawl's scope) takes; else None (stored here)."""
    if not canonical or not allowed(canonical):
        return None
    target = clean_link(canonical)
    return None if target in {clean_link(url) for url in here} else target


@dataclass
class CanonicalWaits(Generic[T]):
    #: Did an earlier run of this crawl handle the URL, and did that store an article there?
    #: (``(handled, stored)``; the frontier and the database know, this run does not.)
    earlier: Callable[[str], tuple[bool, bool]] = lambda url: (False, False)
    _waiting: dict[str, list[T]] = field(default_factory=lambda: defaultdict(list))
    _deferring: set[str] = field(default_factory=set)
    _handled: set[str] = field(default_factory=set)
    _stored: set[str] = field(default_factory=set)
    #: Redirects seen: source URL to target URL.
    _redirects: dict[str, str] = field(default_factory=dict)

    def decide(self, canonical: str) -> Literal["drop", "store", "wait"]:
        """What to do with an article whose page names ``canonical``: ``drop`` it (stored
        from there already), ``store`` it here (there gave none, or there defers back to a
        page that defers: a loop), or ``wait`` for ``canonical`` to be handled."""
        canonical = self._resolved(canonical)
        if canonical in self._stored:
            return "drop"
        if canonical in self._deferring or canonical in self._handled:
            return "store"
        handled, stored = self.earlier(canonical)
        if handled:
            return "drop" if stored else "store"
        return "wait"

    def wait(self, canonical: str, item: T, here: Iterable[str]) -> None:
        """Hold ``item`` (from the page at the URLs ``here``) until ``canonical`` is handled.
        Articles already waiting on this page wait on ``canonical`` with it (a chain)."""
        canonical = self._resolved(canonical)
        self._waiting[canonical].append(item)
        for url in here:
            self._deferring.add(url)
            self._waiting[canonical].extend(self._waiting.pop(url, []))

    def settle(self, urls: Iterable[str], stored: bool) -> tuple[list[T], list[T]]:
        """The page at ``urls`` has been handled, and gave an article or not: the articles
        waiting on it to store now (none if it gave one), and those to drop."""
        urls = set(urls)
        self._handled |= urls
        if stored:
            self._stored |= urls
        waiting = [item for url in urls for item in self._waiting.pop(url, [])]
        return ([], waiting) if stored else (waiting, [])

    def redirect(self, source: str, target: str) -> tuple[list[T], list[T]]:
        """``source`` redirects to ``target``: what waits on ``source`` waits on ``target``
        (the redirected request may never come back on its own: a duplicate of one already
        made). If ``target`` was handled already, those are settled now: the articles to
        store and those to drop, as :meth:`settle` gives them."""
        if source == target:
            return [], []
        self._redirects[source] = target
        target = self._resolved(target)
        moved = self._waiting.pop(source, [])
        if target not in self._handled:
            if moved:
                self._waiting[target].extend(moved)
            return [], []
        return ([], moved) if target in self._stored else (moved, [])

    def _resolved(self, url: str) -> str:
        """``url`` through the redirects seen (a loop ends where it closes)."""
        seen = {url}
        while (url := self._redirects.get(url, url)) not in seen:
            seen.add(url)
        return url

    def unsettled(self) -> list[T]:
        """Everything still waiting (its canonical URL was never handled): to store from its
        own page, as after a failure there. Forgets them."""
        waiting = [item for items in self._waiting.values() for item in items]
        self._waiting.clear()
        return waiting
