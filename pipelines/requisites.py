"""Page requisites: what a browser loads to show a page (stylesheets, scripts, images, media,
icons, and the URLs inside stylesheets), archived with the articles.

Light on purpose (no extractors): the crawl's own process reads stylesheets with it.
"""

from __future__ import annotations

import re

import lxml.html

from pipelines.urls import absolute_url


def base_url(tree: lxml.html.HtmlElement, url: str) -> str:
    """The document's ``<base href>`` resolved against ``url``, or ``url``."""
    href = tree.xpath("string(//base/@href)").strip()
    return (absolute_url(url, href) or url) if href else url


#: Most page requisites taken from one page.
MAX_REQUISITES = 300
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+?)\1\s*\)|@import\s+(['"])([^'"]+)\3""", re.I)
_REQUISITE_XPATH = (
    "//link[contains(concat(' ', normalize-space(@rel), ' '), ' stylesheet ')]/@href"
    " | //link[contains(@rel, 'icon')]/@href"
    " | //link[@rel='preload' or @rel='modulepreload']/@href"
    " | //script/@src | //img/@src | //input[@type='image']/@src | //video/@poster"
    " | //source/@src | //audio/@src | //video/@src | //embed/@src | //object/@data"
)


def css_urls(css: str, base: str) -> list[str]:
    """URLs a stylesheet refers to (``url(...)`` and ``@import``), made absolute."""
    found: dict[str, None] = {}
    for match in _CSS_URL.finditer(css):
        ref = (match.group(2) or match.group(4) or "").strip()
        if ref and not ref.lower().startswith(("data:", "#", "about:")):
            url = absolute_url(base, ref)
            if url.startswith(("http://", "https://")):
                found.setdefault(url, None)
    return list(found)


def requisites(tree: lxml.html.HtmlElement, url: str) -> list[str]:
    """What a browser loads to show the page: stylesheets, scripts, images (all ``srcset``
    candidates), media, icons, and the URLs in inline styles."""
    base = base_url(tree, url)
    refs = [r.strip() for r in tree.xpath(_REQUISITE_XPATH)]
    for srcset in tree.xpath("//img/@srcset | //source/@srcset"):
        refs += [c.strip().split()[0] for c in srcset.split(",") if c.strip()]
    found: dict[str, None] = {}
    for ref in refs:
        if ref and not ref.lower().startswith(("data:", "javascript:", "#", "about:")):
            absolute = absolute_url(base, ref).split("#", 1)[0]
            if absolute.startswith(("http://", "https://")):
                found.setdefault(absolute, None)
    inline = "\n".join(tree.xpath("//style/text() | //*/@style"))
    for absolute in css_urls(inline, base):
        found.setdefault(absolute, None)
    return list(found)[:MAX_REQUISITES]
