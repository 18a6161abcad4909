"""A page made of links is not an article at any size, and no date is made up for a page
that states none (a bare year such as "Item 1995" is not the page's date)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipelines.extraction import analyze_page
from pipelines.page import PageInput
from tests.conftest import run_reviewarc
from tests.mockserver import PagesServer

PROSE = (
    "The film opens on a harbour at dawn and never quite lets the light go. Its director "
    "trusts long takes and quiet rooms, and the cast repays that trust with performances "
    "that feel lived in rather than acted. The middle hour sags a little, as the script "
    "circles the same argument between the two sisters once too often, but the final "
    "reel, set on the night ferry, is as tense and tender as anything this year. "
)


def links_page(links: int, stated: str = "") -> bytes:
    """A title, a short paragraph and ``links`` items; no date unless ``stated``."""
    items = "".join(f'<li><a href="/item/{n}/">Item {n}</a></li>' for n in range(links))
    return (
        "<!doctype html><html><head><title>Every item</title></head><body>"
        f"<h1>Every item</h1><p>Every item we have listed, oldest first. {stated}</p>"
        f"<ul>{items}</ul></body></html>"
    ).encode()


def analyze(body: bytes, url: str = "http://shop.test/items/"):
    return analyze_page(PageInput(url=url, body=body, content_type="text/html; charset=utf-8"))


@pytest.mark.parametrize(
    ("links", "stated"),
    [
        (1_000, "Updated 12 March 2024."),  # a real date does not make a list an article
        (3_000, ""),  # "Item 1995" ... "Item 2026" are not dates
        (100_000, ""),
    ],
)
def test_a_page_of_links_is_not_an_article(links: int, stated: str) -> None:
    result = analyze(links_page(links, stated))
    assert result.article is None, (result.article.detected_by, result.article.published)
    assert result.not_article == "mostly links"
    assert len(result.links) == links  # its links are still followed


def test_no_date_is_made_up_from_a_bare_year() -> None:
    """An undated review mentioning years (a copyright line, a date of founding) is still an
    article, with no date; a 1 January the page states is kept."""
    undated = (
        "<html><head><title>Harbour Lights</title></head><body><h1>Harbour Lights</h1>"
        f"<p>{PROSE}</p><p>The studio behind it started back in 1995.</p>"
        "<p>&copy; 2008 Screen Orbit</p></body></html>"
    )
    result = analyze(undated.encode(), "http://reviews.test/harbour-lights/")
    assert result.article is not None and result.article.detected_by == "fallback"
    assert result.article.published is None

    dated = undated.replace("</h1>", "</h1><p>Published 1 January 2005</p>")
    result = analyze(dated.encode(), "http://reviews.test/harbour-lights/")
    assert result.article is not None and result.article.published == "2005-01-01"


@pytest.fixture
def huge_links_page() -> Iterator[PagesServer]:
    # 150,000 links: 7 million characters, under the 8 million the extraction takes.
    server = PagesServer({"/": (200, {}, links_page(150_000))})
    try:
        yield server
    finally:
        server.stop()


def test_crawl_of_a_huge_page_of_links_stores_no_article(huge_links_page: PagesServer, tmp_path):
    # Half the default 60 s per page: before, the page took 25 to 40 s to be (wrongly)
    # stored; now it is set aside in a few seconds.
    result = run_reviewarc(
        "crawl",
        huge_links_page.base_url + "/",
        "--data",
        str(tmp_path),
        "--depth",
        "0",
        "--set",
        "REVIEWARC_EXTRACT_TIMEOUT=30",
    )
    assert result.returncode == 0, result.stderr[-2000:]

    def sql(query: str) -> str:
        out = run_reviewarc("sql", query, "--csv", "--data", str(tmp_path))
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    root = huge_links_page.base_url + "/"
    assert sql(f"select status from captures where url = '{root}'").splitlines()[1:] == ["200"]
    assert sql("select count(*) from articles").splitlines()[1:] == ["0"]
    assert sql("select count(*) from failures where kind = 'extraction'").splitlines()[1:] == ["0"]
