"""The body text of a page: trafilatura's extraction, checked against the page it came from,
and readability's where the page gives trafilatura little to go by.

Measured on 1,111 real pages nobody here tuned for (``benchmarks/corpus.py``) and on the 181
of the extraction benchmark (``benchmarks/extraction.py``); docs/extraction.md has the figures.

1. trafilatura in fast mode, leaning to recall (long reviews keep their sections).
2. Its full comparison with readability and jusText (``fast=False``) when that result is a
   small part of the page's text (:data:`WEAK_SHARE`): it may have taken one box for the
   page. Its result is taken when twice as long and other text, not the same text with more
   around it (related posts, teasers: there the fast result was the article), unless that
   more is not readability's choice (trafilatura's own recall found the rest of the article).
3. readability's text (the fork trafilatura ships) when the page has no ``<article>`` and no
   ``<main>`` and trafilatura's result has few headings (:data:`FEW_HEADINGS`): a page in the
   markup of the 2000s, where trafilatura's best anchors are missing and readability's
   density scoring reads it better, unless readability's text is far shorter or far longer
   (:data:`READABILITY_RANGE`; no limit when trafilatura's is a small part of the page,
   :data:`WEAK_SHARE`: there a short readability text was a short post's, a long one the
   article trafilatura missed).
"""

from __future__ import annotations

import re
from copy import copy
from functools import cached_property

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.external import sanitize_tree, try_readability
from trafilatura.settings import Document, Extractor, use_config
from trafilatura.xml import xmltotxt

#: trafilatura gives up on trees with more elements than this.
MAX_TREE_SIZE = 500_000
#: trafilatura's fast result under this share of the page's text (furniture left out) may
#: have taken one box for the page: a note beside a long guide, a list of dates for the post.
WEAK_SHARE = 0.3
#: Step 3 is for trafilatura results with at most this many headings (little structure).
FEW_HEADINGS = 3
#: readability's text is taken (step 3) when its length is within this range of trafilatura's
#: (whatever its length when trafilatura's is under :data:`WEAK_SHARE` of the page).
READABILITY_RANGE = (0.25, 3.0)

CONFIG = use_config()
CONFIG.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))
_SANITIZE = Extractor(config=CONFIG, fast=False, comments=False, tables=True)
_SEMANTIC = etree.XPath("boolean(//article | //main)")
_WORD = re.compile(r"\w+")
#: Tables with paragraphs or line breaks in their cells: layout, not data.
_LAYOUT_TABLES = etree.XPath("//table[.//td//p or .//td//br]")
_STRAY_CELLS = etree.XPath("//*[self::td or self::th or self::tr][not(ancestor::table)]")


def body_text(content: lxml.html.HtmlElement, url: str) -> str:
    """The body text of a content tree (the page without its furniture); "" when none.
    Reader comments are left out. ``content`` is not changed."""
    page = len(" ".join(content.text_content().split()))
    readability = _Readability(content)
    doc = trafilatura_body(content, url, page, readability)
    text = (doc.text or "") if doc is not None else ""
    if text and not _SEMANTIC(content) and _headings(doc) <= FEW_HEADINGS:
        other = readability.text
        low, high = READABILITY_RANGE
        weak = len(text) < WEAK_SHARE * page
        if other and (weak or low * len(text) < len(other) < high * len(text)):
            return other
    return text


def trafilatura_body(
    content: lxml.html.HtmlElement, url: str, page: int, readability: _Readability
) -> Document | None:
    """Steps 1 and 2: trafilatura's result, checked against the page's text (``page``
    characters, whitespace collapsed)."""
    doc = _trafilatura(content, url, fast=True, favor_recall=True)
    text = (doc.text or "") if doc is not None else ""
    if len(text) >= WEAK_SHARE * page:
        return doc
    full = _trafilatura(content, url, fast=False)
    other = (full.text or "") if full is not None else ""
    if len(other) < 2 * len(text):
        return doc
    if len(other) >= 10 * len(text) or not _within(text, other):
        return full
    # The same text with more around it: related posts and teasers when the comparison took
    # readability's choice, the rest of the article when it found it itself.
    return full if _similarity(other, readability.text) < 0.4 else doc


class _Readability:
    """readability's text of a page, found once when first asked for."""

    def __init__(self, content: lxml.html.HtmlElement) -> None:
        self.content = content

    @cached_property
    def text(self) -> str:
        return readability_text(self.content)


def readability_text(content: lxml.html.HtmlElement) -> str:
    """readability's choice of the page's main text, cleaned as trafilatura cleans it."""
    found = try_readability(copy(content))
    if found is None or not len(found):
        return ""
    # The page's layout as readability keeps it (a cell of a layout table, or the table):
    # unwrapped, or its paragraphs would become the cells of one table row.
    for table in _LAYOUT_TABLES(found):
        etree.strip_tags(table, "tbody", "thead", "tfoot", "tr", "td", "th")
        if table.getparent() is not None:
            table.drop_tag()
    for cell in _STRAY_CELLS(found):
        cell.drop_tag()
    body, _ = sanitize_tree(found, _SANITIZE)
    return xmltotxt(body, include_formatting=False)


def _trafilatura(
    tree: lxml.html.HtmlElement, url: str, fast: bool, favor_recall: bool = False
) -> Document | None:
    return trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
        favor_recall=favor_recall,
        include_comments=False,
        include_tables=True,
        with_metadata=False,
        config=CONFIG,
    )


def _headings(doc: Document | None) -> int:
    body = doc.body if doc is not None else None
    return len(body.findall(".//head")) if body is not None else 0


def _runs(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text)
    return {tuple(words[i : i + 4]) for i in range(max(1, len(words) - 3))}


def _within(text: str, other: str) -> bool:
    """Are nine in ten of ``text``'s four-word runs in ``other``?"""
    mine = _runs(text)
    return len(mine & _runs(other)) >= 0.9 * len(mine)


def _similarity(text: str, other: str) -> float:
    """Shared four-word runs over the two texts' (Dice): 1 for the same text."""
    a, b = _runs(text), _runs(other)
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 1.0
