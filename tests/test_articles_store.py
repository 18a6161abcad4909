"""The article store on a real SQLite file: versions, FTS kept in step, one transaction."""

from __future__ import annotations

import sqlite3

import pytest

from archive.articles import Article, ArticleStore
from archive.database import ArchiveDB, connect
from archive.search import SearchQueryError, fts_query, search


@pytest.fixture
def store(tmp_path) -> ArticleStore:
    return ArticleStore(ArchiveDB(connect(tmp_path / "archive.db")).db)


def article(text: str = "A slow, patient film about lighthouse keepers.", **kw) -> Article:
    defaults = dict(
        url="http://s.test/r/1/",
        title="Lantern review",
        author="Mara Quinlan",
        site_name="Orbit",
        language="en",
        tags=["film", "drama"],
    )
    return Article(text=text, **{**defaults, **kw})


def test_same_content_again_adds_nothing(store: ArticleStore) -> None:
    first = store.save(article(), None, "2026-01-01T00:00:00Z")
    again = store.save(article(), None, "2026-02-01T00:00:00Z")
    assert first.new_article and first.new_version
    assert not again.new_article and not again.new_version
    db = store.db
    assert db["articles"].count == 1 and db["article_versions"].count == 1
    (row,) = db.query("select first_seen, last_seen from articles")
    assert row == {"first_seen": "2026-01-01T00:00:00Z", "last_seen": "2026-02-01T00:00:00Z"}


def test_changed_body_adds_a_version_and_updates_the_article(store: ArticleStore) -> None:
    store.save(article(), None, "2026-01-01T00:00:00Z")
    changed = store.save(article("Now with an added paragraph on the score."), None, "2026-03-01")
    assert changed.new_version and not changed.new_article
    assert store.db["article_versions"].count == 2
    (row,) = store.db.query("select text from articles")
    assert row["text"] == "Now with an added paragraph on the score."
    assert [h.url for h in search(store.db, "score")] == ["http://s.test/r/1/"]
    assert search(store.db, "lighthouse") == []


def test_normalized_sites_authors_tags(store: ArticleStore) -> None:
    store.save(article(), None, "2026-01-01")
    store.save(article(url="http://s.test/r/2/", tags=["film"]), None, "2026-01-02")
    assert store.db["sites"].count == 1 and store.db["authors"].count == 1
    assert {r["name"] for r in store.db.query("select name from tags")} == {"film", "drama"}
    assert store.db["article_tags"].count == 3


def test_fts_follows_plain_sqlite3_changes(store: ArticleStore, tmp_path) -> None:
    store.save(article(), None, "2026-01-01")
    con = sqlite3.connect(tmp_path / "archive.db")
    with con:
        con.execute("update articles set text = 'rewritten about submarines'")
    con.close()
    assert search(store.db, "submarines") and not search(store.db, "lighthouse")
    con = sqlite3.connect(tmp_path / "archive.db")
    with con:
        con.execute("delete from article_tags")
        con.execute("delete from article_versions")
        con.execute("delete from articles")
    con.close()
    assert not search(store.db, "submarines")


def test_failed_save_leaves_nothing_half_written(store: ArticleStore) -> None:
    bad = article(tags=["ok", object()])  # type: ignore[list-item]
    with pytest.raises(sqlite3.Error):
        store.save(bad, None, "2026-01-01")
    assert store.db["articles"].count == 0 and store.db["article_versions"].count == 0


def test_search_korean_words_with_particles(store: ArticleStore) -> None:
    store.save(
        article(
            "이 영화는 바다를 기억하는 등대지기의 이야기다.", url="http://s.test/ko/", language="ko"
        ),
        None,
        "2026-01-01",
    )
    assert [h.url for h in search(store.db, "영화")] == ["http://s.test/ko/"]
    assert [h.url for h in search(store.db, "등대지기")] == ["http://s.test/ko/"]
    assert "**" in search(store.db, "등대지기")[0].snippet


def test_fts_query_rewrite_and_errors(store: ArticleStore) -> None:
    assert fts_query('영화 "slow film" OR noir*') == '영화* "slow film" OR noir*'
    assert fts_query('"unbalanced') == '"unbalanced"'  # searched as words (issue 16)
    with pytest.raises(SearchQueryError):
        search(store.db, '"!!')


def test_url_forms_cover_what_an_address_bar_shows() -> None:
    from archive.search import url_forms

    assert url_forms("http://s.test/reviews/café crème/") == [
        "http://s.test/reviews/café crème/",
        "http://s.test/reviews/caf%C3%A9%20cr%C3%A8me/",
        "http://s.test/reviews/café crème",
        "http://s.test/reviews/caf%C3%A9%20cr%C3%A8me",
    ]
    assert url_forms("http://s.test/") == ["http://s.test/"]
    assert url_forms("http://s.test/search?q=a") == ["http://s.test/search?q=a"]
