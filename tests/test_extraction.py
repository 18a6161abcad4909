"""Reviews out of pages: a crawl of tests/site/articles/, checked against expected.json."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Crawl, run_reviewarc
from tests.mockserver import SITE, FixtureServer

EXPECTED: dict[str, dict] = json.loads((SITE / "articles" / "expected.json").read_text("utf-8"))
ARTICLES = {path: e for path, e in EXPECTED.items() if e["article"]}
NOT_ARTICLES = [path for path, e in EXPECTED.items() if not e["article"]]


def rows_by_path(crawl: Crawl) -> dict[str, dict]:
    base = crawl.server.base_url
    return {r["url"][len(base) :]: r for r in crawl.sql("select * from articles")}


@pytest.mark.parametrize("path", sorted(ARTICLES))
def test_article_fields(articles: Crawl, path: str) -> None:
    expected = ARTICLES[path]
    row = rows_by_path(articles).get(path)
    assert row is not None, f"{path} was not stored as an article"
    assert row["title"] == expected["title"]
    assert row["author"] == expected["author"]
    assert (row["published"] or "").startswith(expected["published"])
    assert row["site_name"] == expected["site_name"]
    assert row["language"] == expected["language"]
    assert row["rating_value"] == expected["rating_value"]
    assert row["rating_best"] == expected["rating_best"]
    assert row["extractor"].startswith("trafilatura/")
    assert row["capture_id"] is not None


@pytest.mark.parametrize("path", sorted(ARTICLES))
def test_body_is_the_review_only(articles: Crawl, path: str) -> None:
    text = rows_by_path(articles)[path]["text"]
    for phrase in ARTICLES[path]["contains"]:
        assert phrase in text, f"missing from body: {phrase!r}"
    for phrase in ARTICLES[path]["excludes"]:
        assert phrase not in text, f"should not be in body: {phrase!r}"
    assert "\n" in text or len(text) < 800  # paragraphs separated by newlines


def test_non_articles_give_no_rows(articles: Crawl) -> None:
    stored = rows_by_path(articles)
    fetched = {e.path for e in articles.log}
    for path in NOT_ARTICLES:
        assert path in fetched, f"{path} was not crawled"
        assert path not in stored, f"{path} stored as an article"


def test_redirected_and_non_canonical_urls_store_the_article_once(articles: Crawl) -> None:
    urls = [r["url"] for r in articles.sql("select url from articles where url like '%critic%'")]
    assert urls == [articles.server.base_url + "/articles/critic/"]


def test_article_points_at_its_capture(articles: Crawl) -> None:
    for row in articles.sql(
        "select a.url, c.url as curl, c.status from articles a "
        "join captures c on c.id = a.capture_id"
    ):
        assert row["url"] == row["curl"] and row["status"] == 200


def test_one_version_per_article(articles: Crawl) -> None:
    assert articles.sql("select count(*) as n from article_versions")[0]["n"] == len(
        articles.sql("select id from articles")
    )


def search(crawl: Crawl, query: str) -> list[str]:
    out = run_reviewarc("search", query, "--json", "--data", str(crawl.data))
    assert out.returncode == 0, out.stderr
    base = crawl.server.base_url
    return [hit["url"][len(base) :] for hit in json.loads(out.stdout)]


def test_search_english_and_korean(articles: Crawl) -> None:
    critic = ARTICLES["/articles/critic/"]
    word = max(critic["contains"][1].split(), key=len).strip(".,;:!?\"'")
    assert "/articles/critic/" in search(articles, word)
    korean = [p for p, e in ARTICLES.items() if e["language"] == "ko"]
    for term in ("영화", "감독", "등대지기"):
        assert search(articles, term)[:1] == korean[:1], term
    hit = json.loads(
        run_reviewarc("search", "등대지기", "--json", "--data", str(articles.data)).stdout
    )[0]
    assert {"url", "title", "site_name", "published", "snippet"} <= hit.keys()
    assert "**등대지기" in hit["snippet"]


def test_show_prints_article_and_history(articles: Crawl) -> None:
    url = articles.server.base_url + "/articles/critic/"
    out = run_reviewarc("show", url, "--data", str(articles.data))
    assert out.returncode == 0, out.stderr
    assert ARTICLES["/articles/critic/"]["title"] in out.stdout
    assert "1 version(s)" in out.stdout and "capture(s)" in out.stdout
    data = json.loads(run_reviewarc("show", url, "--json", "--data", str(articles.data)).stdout)
    assert data["article"]["rating_value"] == 4 and len(data["captures"]) == 1


def test_show_finds_a_page_by_the_url_a_user_pastes(articles: Crawl) -> None:
    stored = articles.server.base_url + "/articles/critic/"
    for pasted in (stored[:-1], " " + stored + " "):  # no trailing slash; stray spaces
        out = run_reviewarc("show", pasted, "--json", "--data", str(articles.data))
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["article"]["url"] == stored
    missing = run_reviewarc("show", stored + "nowhere/", "--data", str(articles.data))
    assert missing.returncode != 0 and "nothing archived" in missing.stderr


def test_recrawl_adds_captures_not_articles(articles: Crawl, site: FixtureServer) -> None:
    before = articles.sql(
        "select count(*) as a, (select count(*) from article_versions) as v, "
        "(select count(*) from captures) as c from articles"
    )[0]
    again = run_reviewarc(
        "crawl", site.base_url + "/articles/critic/", "--depth", "0", "--data", str(articles.data)
    )
    assert again.returncode == 0, again.stderr[-2000:]
    after = articles.sql(
        "select count(*) as a, (select count(*) from article_versions) as v, "
        "(select count(*) from captures) as c from articles"
    )[0]
    assert after["a"] == before["a"] and after["v"] == before["v"] and after["c"] > before["c"]


def test_share_and_reply_links_do_not_duplicate_articles(articles: Crawl) -> None:
    urls = [
        r["url"] for r in articles.sql("select url from articles where url like '%blog-theme%'")
    ]
    assert urls == [articles.server.base_url + "/articles/blog-theme/"]
