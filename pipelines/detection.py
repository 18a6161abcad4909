"""Is a page an article (a review, a post) or a home, listing, tag, author, search,
calendar or about page? The page's own word first, then the source's pattern, then a
fallback for pages that say nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from courlan import is_navigation_page

#: Real length for a page that declares nothing: about 80 words of body text.
MIN_FALLBACK_TEXT = 400
_NOT_ARTICLE_URL = re.compile(
    r"/(?:tags?|categor(?:y|ies)|authors?|search|archives?|calendar|events?|about|contact|"
    r"page/\d+|feeds?|login|account)(?:/|$|\?)|[?&](?:s|q|query|search|page|p)=",
    re.IGNORECASE,
)
_OG_ARTICLE = {"article", "review", "blog", "blogposting", "video.movie"}


@dataclass(frozen=True)
class ArticleSignals:
    url: str
    structured_article: bool  # schema.org Article/Review/... on the page
    structured_not_article: bool  # CollectionPage, SearchResultsPage, ProfilePage, ...
    og_type: str | None
    matches_pattern: bool  # the source's article_pattern
    text_length: int
    has_title: bool
    has_date: bool
    listing_shape: bool  # several linked headlines or <article> teasers


def decide(s: ArticleSignals) -> tuple[str | None, str | None]:
    """``(how it was detected, None)`` for an article, ``(None, why not)`` otherwise."""
    if s.text_length == 0:
        return None, "no body text"
    if s.structured_article:
        return "schema.org", None
    if s.og_type in _OG_ARTICLE:
        return "og:type", None
    if s.matches_pattern:
        return "article_pattern", None
    if s.structured_not_article:
        return None, "schema.org says it is not an article"
    if s.og_type:
        return None, f"og:type is {s.og_type}"
    if _NOT_ARTICLE_URL.search(s.url) or is_navigation_page(s.url):
        return None, "navigation URL"
    if s.listing_shape:
        return None, "listing layout"
    if s.text_length >= MIN_FALLBACK_TEXT and s.has_title and s.has_date:
        return "fallback", None
    return None, "no article signals"
