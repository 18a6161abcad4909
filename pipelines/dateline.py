"""The dateline: the date or byline an article states by its headline.

A post, a review or a news story says who wrote it and when right under (or just over) its
headline: "By Mara Quinlan · 12 March 2026", "Posted on 2025-11-08 by admin", "Oct 11, 2023
- 2 min read". Service, product, documentation and listing pages do not. For a page whose
markup says nothing or leans the other way (``og:type`` website, related-posts teasers) that
is the evidence left, and it is read from the few hundred characters around the headline, not
from the whole page (a copyright year or a calendar in the footer says nothing about the page).
"""

from __future__ import annotations

import re

import lxml.html
from htmldate.extractors import YMD_PATTERN, regex_parse

#: Characters of text read after the headline, and before it (a date above the title).
AFTER = 300
BEFORE = 120
#: "By" and its kin, then a name of two capitalised words: "Reviewed by Ada Okonkwo", "Words
#: by The Spotter Team", "Author: Tracey Bible", "von Jana Berg" (not "Find an agent by Zip").
_BYLINE = re.compile(
    r"(?:^|[\s|·•,(])(?:[Bb]y|BY|[Aa]uthor|[Vv]on|[Pp]ar|[Pp]or|[Dd]oor):?\s+"
    r"[A-ZÀ-ÞĀ-Ž](?:[\w'\u2019-]+|\.)\s+[A-ZÀ-ÞĀ-Ž]"
)
_AUTHOR_MARK = re.compile(r"author|byline", re.IGNORECASE)
#: Korean, Japanese and Chinese dates: 2018년 8월, 2018年8月.
_CJK_DATE = re.compile(r"(?:19|20)\d\d\s*[년年]\s*\d{1,2}\s*[월月]")
_HEADINGS = frozenset({"h1", "h2", "h3", "h4"})
_WORD = re.compile(r"\w+")
_SEPARATORS = re.compile(r"\s+[-–—|·:»]\s+")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def title_candidates(*titles: str | None, site: str | None = None) -> set[str]:
    """The strings a headline may read: each title, and each part of it between separators
    ("Salt and Lanterns | Marginalia Reviews" -> also "Salt and Lanterns"); never the site's
    name (a logo reads it on every page, a home page's title is nothing else)."""
    out: set[str] = set()
    for title in titles:
        if title and title.strip():
            out.add(_norm(title))
            out.update(_norm(p) for p in _SEPARATORS.split(title) if len(p.strip()) >= 10)
    out.discard(_norm(site or ""))
    return out


def _reads(text: str, titles: set[str], loosely: bool = False) -> bool:
    """Does the heading ``text`` read one of ``titles``, a good part of one, or one with a
    word or two more ("The ...")? ``loosely``: or hold two thirds of a title's words (a
    headline reworded for the ``<title>``)."""
    norm = _norm(text)
    if norm in titles:
        return True
    for title in titles:
        if len(norm) >= 20 and norm in title:
            return True
        if len(title) >= 20 and title in norm and len(norm) <= 1.5 * len(title):
            return True
    if loosely and norm:
        words = set(_WORD.findall(norm))
        for title in titles:
            wanted = set(_WORD.findall(title))
            if len(wanted) >= 3 and len(wanted & words) >= 2 * len(wanted) / 3:
                return True
    return False


def headline(body: lxml.html.HtmlElement, titles: set[str]) -> lxml.html.HtmlElement | None:
    """The page's headline in its ``<body>``: the first ``<h1>`` or ``<h2>`` that reads
    its title, else the first element outside links whose own text does (a title in a
    ``<dt>`` or a ``<div>``), else the first ``<h1>`` or ``<h2>`` close to it. None when
    nothing is: a first ``<h1>`` that is not the title ("Trending", "What's On") heads a
    listing or a section, not a story."""
    if not titles:
        return None
    headings = list(body.iter("h1", "h2"))
    for element in headings:
        if _reads(element.text_content(), titles):
            return element
    for element in body.iter():
        text = element.text
        if (
            text
            and len(text) >= 10
            and isinstance(element.tag, str)
            and element.tag != "title"  # misplaced in the body
            and _norm(text) in titles
            and next(element.iterancestors("a"), None) is None  # a logo, a teaser
        ):
            return element
    for element in headings:
        if _reads(element.text_content(), titles, loosely=True):
            return element
    return None


def _marks_author(element: lxml.html.HtmlElement) -> bool:
    """``rel=author``, ``itemprop=author``, or a class or id naming an author or byline."""
    if "author" in (element.get("rel") or "") or element.get("itemprop") == "author":
        return True
    return bool(_AUTHOR_MARK.search(f"{element.get('class') or ''} {element.get('id') or ''}"))


def _around(body: lxml.html.HtmlElement, head: lxml.html.HtmlElement) -> tuple[str, str, bool]:
    """The text just before ``head`` and just after it (``datetime`` attributes included),
    and whether an element marked as the author's is among those after it. What follows
    stops at a linked headline: a dateline comes before the story, not in the teasers of a
    listing under its title."""
    before: list[str] = []
    after: list[str] = []
    inside = set(head.iter())
    size = 0
    seen = marked = False
    for element in body.iter():
        if element is head:
            seen = True
            after.append(element.tail or "")
            continue
        if element in inside:  # the headline's own text
            continue
        if not isinstance(element.tag, str):
            piece = element.tail or ""
        else:
            piece = f"{element.text or ''} {element.get('datetime') or ''} {element.tail or ''}"
        if not seen:
            before.append(piece)
            continue
        if element.tag in _HEADINGS and element.find(".//a") is not None:
            break  # a linked headline: a teaser, the listing goes on below a section title
        marked = marked or (isinstance(element.tag, str) and _marks_author(element))
        after.append(piece)
        size += len(piece.strip())
        if size > AFTER:
            break
    text_before = " ".join(" ".join(before).split())[-BEFORE:]
    return text_before, " ".join(" ".join(after).split())[:AFTER], marked


def is_date(text: str) -> bool:
    """Does ``text`` hold a whole date (a year alone is not one)? htmldate's patterns:
    2025-11-08, 08.11.2025, 8 November 2025, Nov 8th, 2025, and their kin in other languages."""
    return bool(YMD_PATTERN.search(text) or regex_parse(text) or _CJK_DATE.search(text))


def dateline(content: lxml.html.HtmlElement, titles: set[str]) -> bool:
    """Is there a date or a byline by the page's headline?"""
    body = content.find("body")
    if body is None:
        return False
    head = headline(body, titles)
    if head is None:
        return False
    before, after, marked = _around(body, head)
    return marked or is_date(f"{before} | {after}") or bool(_BYLINE.search(after))
