"""One page in, links and (if it is one) an article out: the work done off the reactor.

:func:`analyze_page` decodes the HTML (HTTP header, BOM, meta charset), parses it once with
lxml, takes the links and feeds from that tree, reads its structured metadata, and runs
trafilatura on it for the body text and the rest of the metadata. It is a plain function of
plain data so that it runs in worker processes (:mod:`pipelines.pool`) and in
``reviewarc reprocess`` alike.
"""

from __future__ import annotations

import codecs
import logging
import re
from copy import copy
from dataclasses import dataclass, field, replace
from datetime import datetime
from importlib.metadata import version
from typing import Any
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import lxml.html
from htmldate import find_date
from htmldate.extractors import try_date_expr
from lxml import etree
from trafilatura.metadata import (
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
)
from trafilatura.settings import Document, set_date_params
from w3lib.encoding import html_to_unicode

from archive.articles import Article
from pipelines.body import body_text
from pipelines.dateline import dateline, title_candidates
from pipelines.detection import BodySignals, PageSignals, decide, doubts, why_not
from pipelines.normalize import (
    cjk_share,
    clean_author,
    clean_tags,
    clean_title,
    detect_language,
    iso_date,
    language_code,
)
from pipelines.page import PageAnalysis, PageInput
from pipelines.requisites import base_url, requisites
from pipelines.reviews import page_reviews
from pipelines.structured import Structured, first_text, names, read_structured
from pipelines.urls import absolute_url

logger = logging.getLogger(__name__)

EXTRACTOR = f"trafilatura/{version('trafilatura')}"
#: Pages above this size (decoded characters) are archived but not extracted.
MAX_HTML_CHARS = 8_000_000

_FEED_TYPES = ("application/rss+xml", "application/atom+xml")
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "#")


_SINGLE_BYTE_LATIN = frozenset(
    {"cp1250", "cp1252", "latin_1", "iso8859_2", "iso8859_15", "cp1257", "mac_roman"}
)


def _fits(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def decode(body: bytes, content_type: str | None) -> tuple[str, str]:
    """(encoding, text): the HTTP charset, then a BOM, then ``<meta charset>``, then a guess.

    A page whose bytes do not fit the charset it declares (Windows-1252 labelled UTF-8 is
    the common case) is decoded with the charset its bytes fit, found by charset_normalizer.
    """
    encoding, text = html_to_unicode(content_type, body)
    if "\ufffd" in text:
        try:
            fits = _fits(body, codecs.lookup(encoding).name)
        except LookupError:
            fits = False
        if not fits:
            best = charset_normalizer.from_bytes(body[:1_000_000]).best()
            if best is not None and "\ufffd" not in str(best)[:1000]:
                encoding = best.encoding
                if encoding in _SINGLE_BYTE_LATIN and _fits(body, "cp1252"):
                    encoding = "cp1252"  # the web's usual legacy charset, as browsers assume
                text = body.decode(encoding, "replace")
    return encoding, text.replace("\x00", "")


def _parser() -> lxml.html.HTMLParser:
    """lxml.html's parser with its element classes looked up in C: lxml.html's own lookup is a
    Python method called for every element Python touches (a tenth of trafilatura's time).
    Every element is an ``HtmlElement``; only the form-specific subclasses are given up."""
    parser = lxml.html.HTMLParser(remove_comments=True, huge_tree=False)
    parser.set_element_class_lookup(
        etree.ElementDefaultClassLookup(
            element=lxml.html.HtmlElement,
            comment=lxml.html.HtmlComment,
            pi=lxml.html.HtmlProcessingInstruction,
            entity=lxml.html.HtmlEntity,
        )
    )
    return parser


#: C0 control characters other than tab, newline and carriage return: as spaces. libxml2
#: keeps them in text and attribute values, where they later make lxml refuse the tree
#: (``drop_tree`` on U+000B raises ValueError) and trafilatura's output come back empty
#: (one U+0008 in a long review). (A regular expression: ``str.translate`` took 1.6 ms a page.)
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Numeric character references to those controls (``&#26;``) and to C1 controls
#: (``&#150;``): libxml2 puts the character itself in the tree. The HTML standard's parser
#: reads 128-159 as Windows-1252 (``&#150;`` is an en dash) and keeps the others, but lxml
#: cannot copy an element holding them (trafilatura found nothing on such a page).
_CONTROL_REFERENCE = re.compile(
    r"&#(?:0*(\d{1,3})(?!\d)|[xX]0*([0-9a-fA-F]{1,2})(?![0-9a-fA-F]));?"
)


def _reference(match: re.Match[str]) -> str:
    code = int(match.group(1)) if match.group(1) else int(match.group(2), 16)
    if code in (9, 10, 13) or 32 <= code < 128 or code > 159:
        return match.group()
    if code < 32:
        return " "
    try:
        return bytes([code]).decode("cp1252")
    except UnicodeDecodeError:  # 129, 141, 143, 144, 157: no character in Windows-1252
        return " "


#: An XML declaration before the markup (XHTML served as HTML). lxml refuses a ``str`` that
#: declares an encoding; the text is decoded already, so the declaration says nothing more.
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")


def parse(html: str, url: str) -> lxml.html.HtmlElement | None:
    """The page's tree (None for one with no markup), after the clean-ups above."""
    if not html.strip():
        return None
    html = _CONTROLS.sub(" ", _XML_DECLARATION.sub("", html, count=1))
    if "&#" in html:
        html = _CONTROL_REFERENCE.sub(_reference, html)
    parser = _parser()
    try:
        return lxml.html.document_fromstring(html, parser=parser, base_url=url)
    except (etree.ParserError, ValueError):
        return None


def links_and_feeds(tree: lxml.html.HtmlElement, url: str) -> tuple[list[str], list[str]]:
    base = base_url(tree, url)
    links: dict[str, None] = {}
    for href in tree.xpath("//a/@href | //area/@href"):
        href = href.strip()
        if href and not href.lower().startswith(_SKIP_SCHEMES):
            absolute = absolute_url(base, href).split("#", 1)[0]
            if absolute.startswith(("http://", "https://")):
                links.setdefault(absolute, None)
    feeds: dict[str, None] = {}
    for link in tree.xpath("//link[@href and @type]"):
        rel = (link.get("rel") or "").lower().split()
        if "alternate" in rel and link.get("type", "").lower().strip() in _FEED_TYPES:
            feed = absolute_url(base, link.get("href").strip())
            if feed:
                feeds.setdefault(feed, None)
    return list(links), list(feeds)


#: Page furniture: navigation, asides, and footers other than an article's own. trafilatura's
#: cleaning discards them (``MANUALLY_CLEANED``), but only after passes over the whole tree
#: (its raw-tree pruning, its copies) that they slow by a sixth; and htmldate's search for a
#: date reads every link and text in them (archive widgets, calendars), taking several times
#: longer and finding dates that are not the page's.
_FURNITURE = etree.XPath("//nav | //aside | //footer[not(ancestor::article)]")


def content_tree(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """A copy of ``tree`` without its furniture, for the body text and the date search.
    The byline search keeps the whole page: author boxes often sit in an ``<aside>``.

    An element holding half the page's text or more, most of it outside links, may be the
    page itself (broken markup: an unclosed ``<aside>`` wraps everything after it) or a
    menu with descriptions (a mega-menu: a ``<nav>`` of headings and blurbs, bigger than the
    article). It is the page when it holds the page's headline (``<h1>``), an ``<article>``
    or the ``<main>``; then it stays, as a ``<div>``, or trafilatura's own cleaning would
    discard the page with it.
    """
    content = copy(tree)
    furniture = _FURNITURE(content)
    if furniture:
        half = len(content.text_content()) / 2
        for element in furniture:
            text = len(element.text_content())
            if text >= half and _link_text(element) < text / 2 and _PAGE_MARKERS(element):
                element.tag = "div"
            else:
                element.drop_tree()  # keeps its tail text
    return content


def without_comments(content: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """``content`` for the body text: a copy without the reader comments that follow a
    heading of their own ("Comments", "3 Responses to ...", "Leave a Reply",
    ``<h2 id="comments">``: what comes after it in its parent is the comments, which blog
    engines put there without a container trafilatura would know), or ``content`` itself
    when it has none. (The date search keeps
    them: on a page whose own date is not marked up, the first comment's is near it.)"""
    if not any(_comments_heading(h) for h in _HEADINGS(content)):
        return content
    content = copy(content)
    for heading in _HEADINGS(content):
        if heading.getparent() is not None and _comments_heading(heading):
            while (after := heading.getnext()) is not None:
                after.drop_tree()
            heading.drop_tree()
    return content


_PAGE_MARKERS = etree.XPath("boolean(.//h1 | .//article | .//main)")
_HEADINGS = etree.XPath("//h2 | //h3 | //h4 | //h5 | //h6")
_COMMENTS_HEADING = re.compile(
    r"(?:\d+\s+)?comments?(?:\s+to\s+.+|\s*\(\d+\))?"
    r"|\d+\s+(?:responses?|replies)(?:\s+to\s+.+)?|(?:responses?|replies)\s+to\s+.+"
    r"|(?:\d+|one|two|three)\s+thoughts?\s+on\s+.+"
    r"|(?:leave|post|add|write)\s+a\s+(?:reply|comment|response)|reader\s+comments",
    re.IGNORECASE,
)
_COMMENTS_IDS = frozenset({"comments", "respond", "reply-title", "comments-title"})


def _comments_heading(heading: lxml.html.HtmlElement) -> bool:
    if (heading.get("id") or "").strip().lower() in _COMMENTS_IDS:
        return True
    text = " ".join(heading.text_content().split()).rstrip(":")
    return len(text) < 200 and _COMMENTS_HEADING.fullmatch(text) is not None


def _link_text(element: lxml.html.HtmlElement) -> int:
    return sum(len(link.text_content()) for link in element.iter("a"))


def link_share(content: lxml.html.HtmlElement) -> float:
    """Share of a :func:`content_tree`'s text that is link text: near 1 for a page that is a
    list of links however long it is, a small part for a review with links in its text."""
    total = len(content.text_content())
    return min(1.0, _link_text(content) / total) if total else 0.0


class _LazyMetadata:
    """trafilatura's metadata, field by field, for what schema.org and Open Graph left empty.

    Most review pages state their title, author, date and site in structured data, and
    trafilatura's whole metadata pass (htmldate's date search, the byline search, categories,
    license) costs a third of an extraction. So: its ``<meta>`` and JSON-LD reading once, when
    any field is first asked for, then only the search that field needs.
    """

    def __init__(
        self, tree: lxml.html.HtmlElement, content: lxml.html.HtmlElement, url: str
    ) -> None:
        self.tree, self.content, self.url = tree, content, url
        self._head: Document | None = None
        self._found: dict[str, Any] = {}

    def _meta_tags(self) -> Document:
        if self._head is None:
            head = examine_meta(self.tree)
            if head.author and " " not in head.author:  # a handle, as trafilatura judges
                head.author = None
            try:
                head = extract_meta_json(self.tree, head)
            except Exception as e:  # trafilatura's JSON-LD reader on broken data
                logger.debug("trafilatura's JSON-LD reading failed on %s: %s", self.url, e)
            self._head = head
        return self._head

    def get(self, field: str) -> str | None:
        if field not in self._found:
            self._found[field] = self._search(field)
        return self._found[field]

    def _search(self, field: str) -> str | None:
        head = self._meta_tags()
        if field == "date":  # htmldate copies the tree it is given
            return find_date(self.content, **set_date_params(True), url=head.url or self.url)
        if field == "stated date":
            date = self.get("date")
            return date if date and stated(date, self.content, head.url or self.url) else None
        if field == "title":
            value = head.title or extract_title(self.tree)
        elif field == "author":
            value = head.author or extract_author(self.tree)  # searches a copy
        elif field == "sitename":
            value = (head.sitename or extract_sitename(self.tree) or "").lstrip("@")
            if value and "." not in value and not value[0].isupper():
                value = value.title()
        else:
            value = getattr(head, field, None)
        return " ".join(value.split()) if isinstance(value, str) and value.strip() else None

    def known(self, field: str) -> Any:
        """A field of the ``<meta>``/JSON-LD pass if it ran anyway; empty otherwise."""
        value = getattr(self._head, field, None) if self._head is not None else None
        return value if value is not None else ([] if field in ("tags", "categories") else None)


def stated(date: str, content: lxml.html.HtmlElement, url: str) -> bool:
    """Is ``date``, found by htmldate's search of ``content``, a date the page states?

    When a page has no date, htmldate's last resorts take a bare year from anywhere in it (a
    copyright year, "Item 1995", a price, ``/item/2003/`` in a link) and return 1 January of
    it. So a 1 January is kept only when a piece of the text (htmldate's own parser) or the
    markup (htmldate without its text search: the URL, meta tags, ``<time>``) gives that
    whole date.
    """
    if not date.endswith("-01-01"):
        return True
    jan_1 = datetime.fromisoformat(date)  # as earliest and latest: only that date passes
    if any(
        date[:4] in piece and try_date_expr(piece, "%Y-%m-%d", True, jan_1, jan_1) == date
        for piece in content.itertext()
    ):
        return True
    return find_date(content, **set_date_params(False), url=url) == date


#: Lines before the title that :func:`without_heading` drops with it, at most: kickers.
KICKER_LINES = 2
#: A kicker (the section or kind of piece above a headline: "TV · Capsule", "Album review")
#: has at most this many words and does not end a sentence.
KICKER_WORDS = 5
_SENTENCE_END = (".", "!", "?", ":", ";")


def without_heading(text: str, *titles: str | None) -> str:
    """The body without a first line that only repeats the page's title or headline, nor
    the kicker above it: a short line or two before the title line (:data:`KICKER_LINES`,
    :data:`KICKER_WORDS`), where the kicker and the ``<h1>`` sit in the ``<article>``
    outside a ``<header>`` that trafilatura would have left out."""
    wanted = {" ".join(t.split()).casefold() for t in titles if t}
    lines = text.split("\n", KICKER_LINES + 1)
    for i, line in enumerate(lines[: KICKER_LINES + 1]):
        norm = " ".join(line.split()).casefold()
        if norm in wanted and (norm or not i):
            rest = "\n".join(lines[i + 1 :])
            return rest.lstrip("\n") if rest else text
        if not _kicker(line):
            break
    return text


def _kicker(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= KICKER_WORDS and not line.rstrip().endswith(_SENTENCE_END)


@dataclass
class _Facts:
    """What :func:`extract_article` reads from ``<meta>``, ``<link>`` and headings, gathered
    in one walk of the tree (as XPaths, each question walked the whole tree again)."""

    #: First ``content`` of a ``<meta>`` for each ``name`` and each ``property``.
    meta: dict[str, str] = field(default_factory=dict)
    #: Every ``<meta property="article:tag">`` content, in order.
    tags: list[str] = field(default_factory=list)
    #: ``href`` of the first ``<link rel="canonical">`` that has one.
    canonical: str = ""
    #: Text of the first ``<h1>``.
    h1: str = ""
    #: Several linked headlines or teaser blocks: the shape of a listing page.
    listing_shape: bool = False

    def get(self, name: str) -> str | None:
        """The first ``<meta>`` named (or with property) ``name``; None if it is blank."""
        return self.meta.get(name, "").strip() or None


_FACT_TAGS = ("meta", "link", "h1", "h2", "h3", "h4", "article")


def _read_meta(element: lxml.html.HtmlElement, facts: _Facts) -> None:
    content = element.get("content")
    if content is None:
        return
    prop = element.get("property")
    for key in (element.get("name"), prop):
        if key is not None:
            facts.meta.setdefault(key, content)
    if prop == "article:tag":
        facts.tags.append(content)


def page_facts(tree: lxml.html.HtmlElement) -> _Facts:
    """``<meta>``, the canonical link, the first ``<h1>`` and the listing shape, from one
    walk of the tree."""
    facts = _Facts()
    canonical = h1 = None
    linked_headings = articles = 0
    for element in tree.iter(_FACT_TAGS):
        tag = element.tag
        if tag == "meta":
            _read_meta(element, facts)
        elif tag == "link":
            if canonical is None and element.get("rel") == "canonical":
                canonical = element.get("href")
        elif tag == "article":
            articles += 1
        else:
            if h1 is None and tag == "h1":
                h1 = element.text_content()
            if element.find(".//a") is not None:
                linked_headings += 1
    facts.canonical = (canonical or "").strip()
    facts.h1 = h1 or ""
    facts.listing_shape = linked_headings >= 3 or articles >= 3
    return facts


def _language(
    tree: lxml.html.HtmlElement, facts: _Facts, structured: Structured, page: PageInput, text: str
) -> str | None:
    declared = (
        language_code(tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang"))
        or language_code(first_text(structured.get("inLanguage")))
        or language_code(structured.og.get("og:locale"))
        or language_code(facts.get("language") or page.content_language)
    )
    if declared and not (declared not in ("ko", "ja", "zh") and cjk_share(text) > 0.3):
        return declared
    return detect_language(text) or declared


#: Elements without readable text, dropped once the links and requisites are read: trafilatura
#: removes them itself, but only after pruning passes (and the tree copies of its metadata
#: searches) that walk the whole tree, as extruct's microdata reader does too. JSON-LD stays,
#: for extruct and htmldate.
_NO_TEXT = etree.XPath(
    "//script[not(@type='application/ld+json')] | //style | //svg | //noscript | //template"
)


def drop_no_text(tree: lxml.html.HtmlElement) -> None:
    for element in _NO_TEXT(tree):
        element.drop_tree()  # keeps its tail text


def _handle(name: str) -> bool:
    """A user name rather than a person's: one word in lower case, or with digits,
    underscores or an @ ("jrobison", "mara_q", "@mara"; not "Lillie", not "김서연")."""
    return " " not in name and (name[0].islower() or any(c.isdigit() or c in "_@" for c in name))


def _people(values: list[str | None]) -> list[str]:
    """Author names from ``values``, cleaned, once each; URLs (``article:author`` is a
    profile URL by the Open Graph standard, and often a Facebook page) are none."""
    return list(dict.fromkeys(a for a in map(clean_author, values) if a))


#: Tags given as links (``rel="tag"``, microformats' rel-tag, as WordPress writes them), in
#: the content: a tag cloud in a sidebar is furniture and was dropped with it.
_TAG_LINKS = etree.XPath(
    "//a[contains(concat(' ', normalize-space(@rel), ' '), ' tag ')]"
    "[not(contains(concat(' ', normalize-space(@rel), ' '), ' nofollow '))]/text()"
)
#: Separators between a page's title and its site's name: ``"X review | Orbit"``.
_TITLE_SEPARATORS = (" | ", " – ", " — ", " - ", " · ", " :: ", " » ")


def _site_name(
    tree: lxml.html.HtmlElement,
    structured: Structured,
    facts: _Facts,
    meta: _LazyMetadata,
    html_title: str | None,
    url: str,
) -> str | None:
    """The site's name as the page states it: ``og:site_name``, the schema.org publisher or
    ``isPartOf`` (of the review or article), a WebSite entity, ``application-name``,
    trafilatura's reading, the title's suffix, the site title in the page's header; the host
    name only when none says."""
    host = urlsplit(url).hostname
    app_name = facts.get("application-name")
    if app_name and (len(app_name.split()) > 5 or (html_title or "").startswith(app_name)):
        app_name = None  # a page's title given as the application's name
    suffix = _title_suffix(html_title, host, facts.h1)
    named = (
        structured.og.get("og:site_name")
        or first_text(structured.get("publisher"))
        or first_text(structured.get("isPartOf"))
        or structured.website_name()
        or app_name
        or meta.get("sitename")
        or suffix
        or _site_title(tree)
    )
    if named and host and named.lower() in (host, host.removeprefix("www.")):
        named = suffix or named  # a host name as the "name": the title's is better
    return named or host


#: The site's own title in its header, as themes mark it (WordPress's ``.site-title`` and
#: ``rel="home"`` link, Bootstrap's ``.navbar-brand``), or the header's link to ``/``.
_SITE_TITLE = etree.XPath(
    "(//*[contains(concat(' ', normalize-space(@class), ' '), ' site-title ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' site-name ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' navbar-brand ')]"
    " | //a[contains(concat(' ', normalize-space(@rel), ' '), ' home ')]"
    " | //header//a[@href='/'])[position() <= 5]"
)
#: Link texts that name the home page, not the site.
_HOME_WORDS = frozenset({"home", "homepage", "home page", "start", "accueil", "inicio",
                         "startseite", "首页", "홈", "ホーム", "top", "back"})  # fmt: skip


def _site_title(tree: lxml.html.HtmlElement) -> str | None:
    for element in _SITE_TITLE(tree):
        text = " ".join(element.text_content().split())
        if not text:  # a logo: its image's alt text
            text = " ".join(" ".join(element.xpath(".//img/@alt")).split())
        if 0 < len(text.split()) <= 5 and len(text) <= 60 and text.casefold() not in _HOME_WORDS:
            return text
    return None


def _compact(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).casefold()


def _names_host(part: str, labels: list[str]) -> bool:
    return bool(part) and any(part in label or label in part for label in labels)


def _title_suffix(title: str | None, host: str | None = None, h1: str = "") -> str | None:
    """``"Night Ferry review | Orbit"`` -> ``"Orbit"``: a short end of the title after a
    separator. The first part instead when it, not the last, is the host's name
    (``"BBC - Commissioning - Contacts"`` on bbc.co.uk); neither when the part is the
    headline's (``"Review: Homicide - The Complete Season 6"``, the ``<h1>`` ending so)."""
    if not title:
        return None
    title = " ".join(title.split())
    labels = [_compact(label) for label in (host or "").split(".")[:-1]
              if len(label) >= 3 and label not in ("www", "com", "org", "net")]  # fmt: skip
    headline = _compact(h1)
    for sep in _TITLE_SEPARATORS:
        if sep not in title:
            continue
        parts = [p.strip() for p in title.split(sep) if p.strip()]
        if len(parts) < 2:
            continue
        first, last = parts[0], parts[-1]
        by_host = [p for p in (last, first) if _names_host(_compact(p), labels)]
        for part in by_host or [last]:
            if 0 < len(part.split()) <= 5 and len(part) <= 60:
                if not by_host and headline and _compact(part) in headline:
                    return None
                return part
        return None
    return None


def extract_article(
    tree: lxml.html.HtmlElement, page: PageInput, structured: Structured, html_title: str | None
) -> tuple[Article | None, str | None]:
    facts = page_facts(tree)
    content = content_tree(tree)
    og = structured.og
    declared_date = (
        first_text(structured.get("datePublished"))
        or og.get("article:published_time")
        or facts.get("article:published_time")
    )
    signals = PageSignals(
        url=page.url,
        structured_article=structured.is_article,
        structured_not_article=structured.is_not_article,
        og_type=(og.get("og:type") or "").lower() or None,
        matches_pattern=page.matches_article_pattern,
        listing_shape=facts.listing_shape,
        link_share=link_share(content),
    )
    if doubts(signals):  # only then is the dateline asked for
        titles = title_candidates(
            og.get("og:title"),
            first_text(structured.get("headline")),
            html_title,
            site=og.get("og:site_name"),
        )
        signals = replace(signals, dateline=dateline(content, titles))
    # A listing, a navigation page or a page of links is not an article whatever its body
    # says: trafilatura and the date search (most of the time on a page of 100,000 links)
    # are spared.
    reason = why_not(signals)
    if reason:
        return None, reason
    text = body_text(without_comments(content), page.url)
    meta = _LazyMetadata(tree, content, page.url)  # trafilatura's metadata: only when needed
    if not text:
        text = first_text(structured.get("reviewBody", "articleBody")) or ""
    found = None if declared_date else meta.get("date")  # a date, or a bare year as 1 January
    published = iso_date(declared_date or (meta.get("stated date") if found else None))
    # A year is enough to tell a dated page from an undated one (articles stating only a
    # copyright year count); it is not stored as the page's date.
    body = BodySignals(
        text_length=len(text), has_title=bool(html_title), has_date=bool(published or found)
    )
    detected_by, reason = decide(signals, body)
    if detected_by is None:
        return None, reason
    site_name = _site_name(tree, structured, facts, meta, html_title, page.url)
    headline = first_text(structured.get("headline")) or og.get("og:title")
    text = without_heading(text, headline, html_title, facts.h1)
    title = clean_title(headline or meta.get("title") or html_title, site_name)
    stated = _people([facts.get("author"), og.get("article:author")])
    authors = (
        _people(names(structured.get("author")))
        or [a for a in stated if not _handle(a)]
        or _people([meta.get("author")])
        or stated
    )
    author = clean_author(", ".join(authors))
    modified = iso_date(
        first_text(structured.get("dateModified"))
        or og.get("article:modified_time")
        or facts.get("article:modified_time")
    )
    keywords = structured.get("keywords")
    tag_values = list(facts.tags) + _TAG_LINKS(content)
    if isinstance(keywords, list):
        tag_values += [str(k) for k in keywords]
    elif keywords:
        tag_values.append(str(keywords))
    tag_values += meta.known("tags") + meta.known("categories")
    canonical = facts.canonical
    rating = structured.rating
    item = structured.item or {}
    item_types = [t for t in (item.get("@type"),) if t]
    reviews, aggregates = page_reviews(structured, page.url)
    return (
        Article(
            url=page.url,
            title=title,
            text=text,
            author=author,
            published=published,
            modified=modified,
            site_name=site_name,
            language=_language(tree, facts, structured, page, text),
            description=og.get("og:description") or meta.known("description") or None,
            canonical_url=urljoin(page.url, canonical) if canonical else None,
            tags=clean_tags(tag_values),
            rating_value=rating.value if rating else None,
            rating_best=rating.best if rating else None,
            rating_worst=rating.worst if rating else None,
            item_reviewed=first_text(item.get("name")),
            item_reviewed_type=first_text(item_types[0]).rsplit("/", 1)[-1] if item_types else None,
            detected_by=detected_by,
            extractor=EXTRACTOR,
            reviews=reviews,
            aggregates=aggregates,
        ),
        None,
    )


def analyze_page(page: PageInput) -> PageAnalysis:
    """Links, feeds and (for an article) the extracted article of one HTML page."""
    encoding, html = decode(page.body, page.content_type)
    result = PageAnalysis(encoding=encoding)
    if len(html) > MAX_HTML_CHARS:
        result.not_article = f"too large to extract ({len(html)} characters)"
        return result
    tree = parse(html, page.url)
    if tree is None:
        result.not_article = "unparsable HTML"
        return result
    if page.links:
        result.links, result.feeds = links_and_feeds(tree, page.url)
    wants_requisites = page.links and page.requisites
    if not page.extract:
        result.requisites = requisites(tree, page.url) if wants_requisites else []
        return result
    html_title = tree.findtext(".//title")
    # Read before drop_no_text; kept only if the page turns out to be an article.
    page_requisites = requisites(tree, page.url) if wants_requisites else []
    drop_no_text(tree)
    structured = read_structured(tree, page.url)  # JSON-LD is kept; the rest has no data
    result.article, result.not_article = extract_article(tree, page, structured, html_title)
    if result.article is not None:  # articles get their requisites archived
        result.requisites = page_requisites
    return result


def extract_body(html: bytes, url: str) -> str | None:
    """The body text reviewarc stores for a page (for benchmarks/extraction.py)."""
    tree = parse(decode(html, None)[1], url)
    if tree is None:
        return None
    title = tree.findtext(".//title")
    drop_no_text(tree)  # as analyze_page does
    text = body_text(without_comments(content_tree(tree)), url)
    return without_heading(text, title, page_facts(tree).h1) if text else None
