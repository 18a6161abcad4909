"""``reviewarc search`` as a person types it: names with hyphens and apostrophes, ``C++``,
stray punctuation, and the FTS5 operators for those who use them; the web view's search
reads a query the same way. Also ``show URL#fragment`` and dates in search output."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.articles import Article, ArticleStore
from archive.database import ArchiveDB, CaptureRow
from archive.search import HIGHLIGHT
from archive.webview import build_datasette
from crawler.cli import cli

BASE = "http://reviews.example/reviews"
HARBOUR = f"{BASE}/harbour/"
COMPOSER = f"{BASE}/composer/"
CODE = f"{BASE}/code/"
REVIEWS = {
    HARBOUR: Article(
        url=HARBOUR,
        title="A quiet harbour",
        text="Kim Nan-young plays a lighthouse keeper. It's a slow burn, and it's worth the wait.",
        published="2024-03-01T10:00:00+00:00",
        site_name="Screen Orbit",
    ),
    COMPOSER: Article(
        url=COMPOSER,
        title="The composer",
        text="Nan Park meets a young composer. Burn the slow parts, says the editor.",
        published="2024-02-10",
        site_name="Screen Orbit",
    ),
    CODE: Article(
        url=CODE,
        title="Hello, world",
        text="A drama- no, a comedy about C++ programmers in the U.S. and their lighthouse.",
        published="2023-11-05T08:30:00Z",
    ),
}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the three REVIEWS, the harbour one in two versions."""
    data = tmp_path_factory.mktemp("search") / "data"
    data.mkdir()
    archive = ArchiveDB.open(data / "archive.db")
    store = ArticleStore(archive.db)
    for i, article in enumerate(REVIEWS.values()):
        capture = archive.add_capture(
            CaptureRow(article.url, f"2026-12-01T08:0{i}:00Z", 200, "text/html", "response",
                       f"sha1:{i}", 10, "x.warc.gz", 100 * i, 10, f"<urn:uuid:{i}>")
        )  # fmt: skip
        if article.url == HARBOUR:
            first = Article(url=HARBOUR, title=article.title, text="An early draft.")
            store.save(first, capture, "2026-11-01T00:00:00Z")
        store.save(article, capture, f"2026-12-01T08:0{i}:00Z")
    archive.close()
    return data


def reviewarc(data: Path, *args: str):
    return CliRunner().invoke(cli, [*args, "--data", str(data)])


def found(data: Path, query: str) -> set[str]:
    result = reviewarc(data, "search", query, "--json")
    assert result.exit_code == 0, result.output
    return {hit["url"] for hit in json.loads(result.output)}


@pytest.mark.parametrize(
    ("query", "urls"),
    [
        ("Nan-young", {HARBOUR}),  # a phrase of its words, not "Nan NOT young" nor a column
        ("nan-young", {HARBOUR}),
        ("it's", {HARBOUR}),
        ("It's worth", {HARBOUR}),
        ("C++", {CODE}),
        ("drama-", {CODE}),
        ("U.S.", {CODE}),
        ("Hello,", {CODE}),
        ("re:lighthouse", set()),  # not a column: the phrase "re lighthouse"
        ("lighthouse's", set()),
        ('"slow burn', {HARBOUR}),  # an unbalanced quote: the words
        ("(lighthouse", {HARBOUR, CODE}),
        ("lighthouse OR", {HARBOUR, CODE}),
        ("lighthouse -", {HARBOUR, CODE}),
    ],
)
def test_words_as_typed(data: Path, query: str, urls: set[str]) -> None:
    assert found(data, query) == urls


@pytest.mark.parametrize(
    ("query", "urls"),
    [
        ('"slow burn"', {HARBOUR}),
        ("slow burn", {HARBOUR, COMPOSER}),
        ("lighthouse OR composer", {HARBOUR, COMPOSER, CODE}),
        ("lighthouse AND keeper", {HARBOUR}),
        ("lighthouse NOT keeper", {CODE}),
        ("lightho*", {HARBOUR, CODE}),
        ("(keeper OR composer) AND Nan", {HARBOUR, COMPOSER}),
        ("NEAR(slow burn, 1)", {HARBOUR, COMPOSER}),
        ("NEAR(slow wait)", {HARBOUR}),
        ("title:harbour", {HARBOUR}),
        ("title:lighthouse", set()),
        ('text:"quiet harbour"', set()),
        ("text:Nan-young", {HARBOUR}),
    ],
)
def test_operators_still_work(data: Path, query: str, urls: set[str]) -> None:
    assert found(data, query) == urls


@pytest.mark.parametrize("query", ["!!!", "-", '""', "  ", "' , ."])
def test_nothing_to_search_for_is_one_actionable_line(data: Path, query: str) -> None:
    result = reviewarc(data, "search", query)
    assert result.exit_code != 0
    message = result.output.strip().removeprefix("Error: ")
    assert "\n" not in message and "fts5" not in message and "Traceback" not in message
    assert "words" in message, message


def test_a_phrase_is_highlighted_whole(data: Path) -> None:
    result = reviewarc(data, "search", '"slow burn"', "--json")
    (hit,) = json.loads(result.output)
    assert "**slow burn**" in hit["snippet"], hit["snippet"]
    assert "It's a **slow burn**, and" in hit["snippet"]
    result = reviewarc(data, "search", "slow burn", "--json")  # two words, side by side
    snippets = {h["url"]: h["snippet"] for h in json.loads(result.output)}
    assert "It's a **slow burn**, and" in snippets[HARBOUR]
    assert "**Burn** the **slow** parts" in snippets[COMPOSER]  # words apart stay apart


def test_merge_highlights() -> None:
    from archive.search import merge_highlights

    left, right = HIGHLIGHT
    marked = f"a {left}slow{right} {left}burn{right} or {left}Nan{right}-{left}young{right}"
    assert merge_highlights(marked) == f"a {left}slow burn{right} or {left}Nan-young{right}"
    marked = f"{left}slow{right}, {left}burn{right} x {left}it{right}'{left}s{right}"
    assert merge_highlights(marked) == f"{left}slow, burn{right} x {left}it's{right}"


def test_published_is_a_date_in_the_table_and_as_stored_in_json(data: Path) -> None:
    result = reviewarc(data, "search", "lighthouse OR composer")
    assert result.exit_code == 0, result.output
    assert "2024-03-01" in result.output and "2024-02-10" in result.output
    assert "2023-11-05" in result.output
    assert "T10:00" not in result.output and "T08:30" not in result.output
    result = reviewarc(data, "search", "keeper", "--json")
    assert json.loads(result.output)[0]["published"] == "2024-03-01T10:00:00+00:00"


@pytest.mark.parametrize("fragment", ["#comments", "#", "#:~:text=slow"])
def test_show_ignores_a_fragment(data: Path, fragment: str) -> None:
    result = reviewarc(data, "show", HARBOUR + fragment)
    assert result.exit_code == 0, result.output
    assert "A quiet harbour" in result.output and "2 version(s)" in result.output
    result = reviewarc(data, "show", HARBOUR + fragment, "--diff", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["url"] == HARBOUR and len(shown["diffs"]) == 1
    result = reviewarc(data, "show", HARBOUR.rstrip("/") + fragment)  # and without the slash
    assert result.exit_code == 0, result.output


# -- the web view reads a query the same way ----------------------------------------------


@pytest.fixture(scope="module")
def view(data: Path):
    return build_datasette(data / "archive.db", "http://127.0.0.1:18941")


def web(view, path: str, **params: str):
    response = asyncio.run(view.client.get(path, params=params))
    assert response.status_code == 200, response.text[-2000:]
    return response


@pytest.mark.parametrize(
    "query",
    ["Nan-young", "it's", "C++", '"slow burn', "lighthouse OR composer", "title:harbour",
     "NEAR(slow wait)", "!!!", ""],
)  # fmt: skip
def test_web_view_search_is_the_cli_search(data: Path, view, query: str) -> None:
    cli_result = reviewarc(data, "search", query, "--json")
    expected = set()
    if cli_result.exit_code == 0:
        expected = {h["url"] for h in json.loads(cli_result.output)}
    canned = web(view, "/archive/search.json", q=query, _shape="array").json()
    assert {row["url"] for row in canned} == expected
    table = web(view, "/archive/articles.json", _search=query, _shape="array").json()
    assert {row["url"] for row in table} == expected
    assert web(view, "/archive/articles", _search=query).text  # the HTML page too


def test_web_view_snippet_highlights_the_whole_phrase(view) -> None:
    for query in ('"slow burn"', "slow burn"):
        rows = web(view, "/archive/search.json", q=query, _shape="array").json()
        snippets = {row["url"]: row["snippet"] for row in rows}
        assert "**slow burn**" in snippets[HARBOUR]
        assert "<mark>slow burn</mark>" in web(view, "/archive/search", q=query).text
