"""Is a page an article (a review, a post) or a home, listing, tag, author, search,
calendar, about or forum page? The page's own word first, then the source's pattern; then
what rules a page out (its markup, URL or layout); then, for a page whose markup leans
against it without ruling it out, a dateline by its headline; then a fallback for pages that
say nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from courlan import is_navigation_page

#: Real length for a page that declares nothing: about 80 words of body text.
MIN_FALLBACK_TEXT = 400
#: Share of a page's text (without navigation, asides and footers) inside links from which
#: a page that declares nothing is a list of links (an index, an archive, a sitemap page),
#: whatever its length. Articles stay well under it: the most on the shared extraction
#: corpus is 0.61; a page of links is above 0.9.
MAX_LINK_SHARE = 0.8
_NOT_ARTICLE_URL = re.compile(
    r"/(?:tags?|categor(?:y|ies)|authors?|search|archives?|calendar|events?|about|contact|"
    r"page/\d+|feeds?|login|account|forums?|threads?|discussions?|viewtopic\.php|"
    r"showthread\.php)(?:/|$|\?)|[?&](?:s|q|query|search)=",
    re.IGNORECASE,
)
#: A page number in the query: a listing's page, or an article linked from one that kept the
#: listing's parameters (``news_view.html?idx=8576&page=1``). ``?p=`` is also WordPress's
#: plain permalink of a post (``/?p=123``).
_PAGED_URL = re.compile(r"[?&](?:page|p)=", re.IGNORECASE)
_OG_ARTICLE = {"article", "review", "blog", "blogposting", "video.movie"}
#: ``og:type`` values of things that are not articles. Other values (``website``, most sites'
#: default whatever the page; ``post``, ``news``, ``buying-guide``, ...) do not rule a page out.
_OG_NOT_ARTICLE = ("product", "profile", "music.", "video.other", "video.tv_show", "book",
                   "place", "business.", "restaurant.")  # fmt: skip


@dataclass(frozen=True)
class PageSignals:
    """What the page says it is and its layout: known before its body is extracted."""

    url: str
    structured_article: bool  # schema.org Article/Review/... on the page
    structured_not_article: bool  # CollectionPage, SearchResultsPage, ProfilePage, ...
    og_type: str | None
    matches_pattern: bool  # the source's article_pattern
    listing_shape: bool  # several linked headlines or <article> teasers
    link_share: float = 0.0  # share of the content text inside links
    dateline: bool = False  # a date or byline by the headline, or a declared publishing date


@dataclass(frozen=True)
class BodySignals:
    """What the extraction found: for pages that say nothing."""

    text_length: int
    has_title: bool
    has_date: bool  # a date, or at least a year, found on the page


def declared(s: PageSignals) -> str | None:
    """How the page (or its source's pattern) declares itself an article, if it does."""
    if s.structured_article:
        return "schema.org"
    if s.og_type in _OG_ARTICLE:
        return "og:type"
    if s.matches_pattern:
        return "article_pattern"
    return None


def why_not(s: PageSignals) -> str | None:
    """Why a page is not an article whatever its body says (its markup, URL or layout), so
    that its body need not be extracted at all; None when the body decides."""
    if declared(s):
        return None
    if s.structured_not_article:
        return "schema.org says it is not an article"
    if s.og_type and s.og_type.startswith(_OG_NOT_ARTICLE):
        return f"og:type is {s.og_type}"
    if _NOT_ARTICLE_URL.search(s.url) or is_navigation_page(s.url):
        return "navigation URL"
    if s.link_share >= MAX_LINK_SHARE:
        return "mostly links"
    doubt = doubts(s)
    if doubt and not s.dateline:
        return doubt
    return None


def doubts(s: PageSignals) -> str | None:
    """What makes an undeclared page look like something other than an article without
    ruling it out: an ``og:type`` other than an article's (``website`` is many sites' default
    on every page), a page number in its query, several linked headlines or ``<article>``
    teasers (a listing, or an article with related posts under it). Such a page is an
    article only with a dateline."""
    if declared(s):
        return None
    if s.og_type:
        return f"og:type is {s.og_type}"
    if _PAGED_URL.search(s.url):
        return "navigation URL"
    if s.listing_shape:
        return "listing layout"
    return None


def decide(page: PageSignals, body: BodySignals) -> tuple[str | None, str | None]:
    """``(how it was detected, None)`` for an article, ``(None, why not)`` otherwise."""
    if body.text_length == 0:
        return None, "no body text"
    detected_by = declared(page)
    if detected_by:
        return detected_by, None
    reason = why_not(page)
    if reason:
        return None, reason
    if doubts(page):  # with a dateline, or why_not would have given the doubt
        if body.text_length >= MIN_FALLBACK_TEXT:
            return "dateline", None
        return None, doubts(page)
    if body.text_length >= MIN_FALLBACK_TEXT and body.has_title and body.has_date:
        return "fallback", None
    return None, "no article signals"
