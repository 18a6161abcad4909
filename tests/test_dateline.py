"""Pages whose markup leans against being an article without ruling it out (``og:type``
website, related-posts teasers, a page number in the query) are articles when a date or a
byline stands by their headline; service pages, listings and forum threads are not."""

from __future__ import annotations

from pathlib import Path

from pipelines.extraction import analyze_page
from pipelines.page import PageInput
from tests.conftest import crawl_linked_pages, read_sql
from tests.mockserver import PagesServer

PARAGRAPH = (
    "<p>The kettle in the corner of the workshop has outlived three owners, and its whistle "
    "still tells the whole street when the glue pot is warm enough to use again.</p>"
)
BODY = "".join(
    f"<p>Step {step}: the {part} comes off with a soft mallet and a patient hand, then waits "
    f"on the bench while the {part} beside it is cleaned, fluxed and tinned again.</p>"
    for step, part in enumerate(["lid", "spout", "handle", "base", "whistle"], 1)
)


def page(title: str, body: str, head: str = "", site: str = "Tinker's Bench") -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title} | {site}</title>"
        f"<meta property='og:site_name' content=\"{site}\">{head}</head><body>"
        f"<header><a class='logo' href='/'>{site}</a></header><main>{body}</main></body></html>"
    )


WEBSITE = "<meta property='og:type' content='website'>"
RELATED = "".join(
    f"<h3><a href='/notes/other-{i}/'>Another note, number {i}</a></h3>" for i in range(4)
)

#: path -> (page, stored as an article?)
PAGES: dict[str, tuple[str, bool]] = {
    # og:type website, as a CMS puts on every page; a date under the headline.
    "/notes/kettle-repair/": (
        page(
            "Mending a copper kettle",
            "<h1>Mending a copper kettle</h1><p class='meta'>March 3, 2026 · 6 min read</p>" + BODY,
            WEBSITE,
        ),
        True,
    ),
    # Related posts under it make a listing's shape; a byline under the headline.
    "/notes/glue-pots/": (
        page(
            "Why hide glue still wins",
            "<h1>Why hide glue still wins</h1><p>Words by Oskar Lindqvist</p>"
            + BODY
            + f"<section><h2>Read next</h2>{RELATED}</section>",
        ),
        True,
    ),
    # The headline in a <dt>, the date in Korean style, a page number in the query.
    "/view.php?id=81&page=1": (
        page(
            "Restoring a tool chest",
            "<h1>Tinker's Bench</h1><dl><dt>Restoring a tool chest</dt>"
            "<dd>2026년 2월 14일</dd></dl>" + BODY,
        ),
        True,
    ),
    # The same markup without a dateline: a service page.
    "/services/kettle-repair/": (
        page(
            "Kettle repair in Harbourside", "<h1>Kettle repair in Harbourside</h1>" + BODY, WEBSITE
        ),
        False,
    ),
    # A listing whose headline is the page's title: its teasers' dates are not a dateline.
    "/notes/": (
        page(
            "Workshop notes",
            "<h1>Workshop notes</h1>"
            + "".join(
                f"<h2><a href='/notes/n{i}/'>Note {i} from the bench</a></h2>"
                f"<p>By Oskar Lindqvist · March {i + 1}, 2026</p>{PARAGRAPH}"
                for i in range(4)
            ),
            WEBSITE,
        ),
        False,
    ),
    # A first <h1> that is not the title ("Trending") is no headline.
    "/start/": (
        page(
            "Repairs, restorations and notes",
            "<h1>Trending</h1><p>January 9, 2026</p>" + BODY,
            WEBSITE,
        ),
        False,
    ),
    # A forum thread: dated and signed, and still not an article.
    "/forum/threads/kettle-whistle.4411/": (
        page(
            "Kettle whistle too quiet?",
            "<h1>Kettle whistle too quiet?</h1><p>Thread starter Oskar Lindqvist, "
            "March 3, 2026</p>" + BODY,
            WEBSITE,
        ),
        False,
    ),
}


def analyze(path: str, html: str):
    url = "http://bench.test" + path
    return analyze_page(PageInput(url=url, body=html.encode(), content_type="text/html"))


def test_why_each_page_is_or_is_not_an_article() -> None:
    found = {}
    for path, (html, _) in PAGES.items():
        result = analyze(path, html)
        found[path] = result.article.detected_by if result.article else result.not_article
    assert found == {
        "/notes/kettle-repair/": "dateline",
        "/notes/glue-pots/": "dateline",
        "/view.php?id=81&page=1": "dateline",
        "/services/kettle-repair/": "og:type is website",
        "/notes/": "og:type is website",
        "/start/": "og:type is website",
        "/forum/threads/kettle-whistle.4411/": "navigation URL",
    }


def test_an_article_or_product_og_type_still_decides() -> None:
    product = page("Copper kettle, 1.5 l", "<h1>Copper kettle, 1.5 l</h1><p>March 3, 2026</p>"
                   + BODY, "<meta property='og:type' content='product'>")  # fmt: skip
    assert analyze("/shop/kettle/", product).not_article == "og:type is product"
    article = page("Mending a copper kettle", BODY, "<meta property='og:type' content='article'>")
    assert analyze("/services/kettle-repair/", article).article.detected_by == "og:type"


def test_crawl_stores_the_dated_pages_only(tmp_path: Path) -> None:
    # The server answers by path; the query stays in the link and the stored URL.
    server = PagesServer({p.split("?")[0]: (200, {}, html) for p, (html, _) in PAGES.items()})
    result = crawl_linked_pages(tmp_path, server, list(PAGES))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_sql(tmp_path, "select url, detected_by from articles")
    stored = {r["url"][len(server.base_url) :]: r["detected_by"] for r in rows}
    assert stored == {path: "dateline" for path, (_, article) in PAGES.items() if article}
