"""What goes into the extraction pool and what comes back, and which responses are pages.

Kept apart from :mod:`pipelines.extraction` so that a process which only hands pages to the
pool (``reviewarc reprocess``) does not load trafilatura, extruct and their parsers itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from archive.articles import Article


@dataclass(frozen=True)
class PageInput:
    url: str  # final URL, after redirects
    body: bytes  # decoded content coding (not gzip), any charset
    content_type: str | None = None
    content_language: str | None = None
    matches_article_pattern: bool = False
    extract: bool = True  # False: links only (archive-only crawls)
    links: bool = True  # False: the article only (reprocess)
    requisites: bool = True  # False: no page requisites wanted (--no-requisites)


@dataclass
class PageAnalysis:
    links: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    requisites: list[str] = field(default_factory=list)  # stylesheets, images, scripts, fonts
    article: Article | None = None
    not_article: str | None = None  # why the page is not an article
    encoding: str | None = None


_XML_ROOT = re.compile(rb"<(?:[\w-]+:)?(urlset|sitemapindex|rss|feed|RDF)\b")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_VAGUE_TYPES = ("", "text/plain", "application/octet-stream", "unk")


def xml_root(body: bytes) -> str | None:
    """``urlset``, ``sitemapindex``, ``rss``, ``feed`` or ``RDF`` when ``body`` is one."""
    match = _XML_ROOT.search(body[:4096])
    return match.group(1).decode() if match else None


def is_html_page(content_type: str | None, body: bytes) -> bool:
    """Is this response an HTML page to analyze (not a sitemap, feed, image, script...)?"""
    if xml_root(body) is not None:
        return False
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in _HTML_TYPES:
        return True
    head = body[:1024].lstrip().lower()
    return ctype in _VAGUE_TYPES and head.startswith((b"<!doctype html", b"<html"))
