"""A database rebuilt by ``reprocess`` from a crawl's WARC files equals the one the crawl
wrote, table by table: the crawl and ``reprocess`` store through one path.

The site is crawled twice, as a user keeps an archive: the second crawl meets pages that
did not change (a 304 to its conditional request, or the same payload again: revisit
records), a review that changed, a new review, and pages whose rel=canonical names another
URL (a print view of a review, a 404, a listing, a redirect).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.database import ArchiveDB
from tests.conftest import run_reviewarc
from tests.mockserver import PagesServer

#: Tables only a crawl can fill: what was asked for and what failed is not in the WARCs.
CRAWL_ONLY = {"crawls", "failures"}

#: Every table a rebuild produces, as rows that name what they point at (a capture by its
#: place in the WARC files, an article by its URL) instead of ids, which may be given in
#: another order. ``crawl_id`` is the crawl's alone.
#: An item named by its first mention (page and facts), not by its id.
ITEM_OF = "(select min(url || ' ' || mention_key) from item_mentions where item_id = {})"
TABLES = {
    "captures": """
        select c.url, c.fetched_at, c.status, c.content_type, c.record_type, c.payload_digest,
            c.payload_length, c.warc_file, c.warc_offset, c.warc_length, c.warc_record_id,
            c.request_offset, c.request_length, c.ip_address, c.etag, c.last_modified,
            r.warc_file as refers_to_file, r.warc_offset as refers_to_offset
        from captures c left join captures r on r.id = c.refers_to_id
        order by c.warc_file, c.warc_offset""",
    "articles": """
        select a.url, a.canonical_url, a.title, a.author, a.published, a.modified,
            a.site_name, a.language, a.text, a.description, a.rating_value, a.rating_best,
            a.rating_worst, a.item_reviewed, a.item_reviewed_type, a.detected_by, a.text_hash,
            a.extractor, a.first_seen, a.last_seen, c.warc_file, c.warc_offset,
            s.host as site_host, w.name as author_name
        from articles a join captures c on c.id = a.capture_id
        left join sites s on s.id = a.site_id left join authors w on w.id = a.author_id
        order by a.url""",
    "article_versions": """
        select a.url as article_url, v.url, v.title, v.text, v.text_hash, v.first_seen,
            v.last_seen, v.extractor, c.warc_file, c.warc_offset
        from article_versions v join articles a on a.id = v.article_id
        join captures c on c.id = v.capture_id
        order by a.url, v.first_seen, v.text_hash""",
    "sites": "select host, name from sites order by host, name",
    "authors": "select name from authors order by name",
    "tags": "select name from tags order by name",
    "article_tags": """
        select a.url, t.name from article_tags x join articles a on a.id = x.article_id
        join tags t on t.id = x.tag_id order by 1, 2""",
    "items": f"""
        select {ITEM_OF.format("i.id")} as item, i.name, i.type, i.year, i.creator,
            i.identifiers, i.same_as, i.mentions, i.reviews, i.sites, i.mean_score,
            i.min_score, i.max_score, i.first_seen, i.last_seen
        from items i order by 1""",
    "item_mentions": f"""
        select m.url, m.mention_key, m.name, m.type, m.name_key, m.type_key, m.year,
            m.creators, m.creator_keys, m.identifiers, m.same_as, m.match_method,
            m.first_seen, m.last_seen, {ITEM_OF.format("m.item_id")} as item
        from item_mentions m order by m.url, m.mention_key""",
    "item_identifiers": f"""
        select scheme, value, {ITEM_OF.format("item_id")} as item from item_identifiers
        order by scheme, value""",
    "reviews": f"""
        select r.url, r.review_key, r.kind, r.syntax, m.mention_key, a.url as article_url,
            c.warc_file, c.warc_offset, s.host, r.site_name, r.author, r.published,
            r.headline, r.body, r.rating_text, r.rating_value, r.rating_best, r.rating_worst,
            r.scale, r.score, r.score_band, r.first_seen, r.last_seen,
            {ITEM_OF.format("r.item_id")} as item
        from reviews r left join item_mentions m on m.id = r.mention_id
        left join articles a on a.id = r.article_id left join captures c on c.id = r.capture_id
        left join sites s on s.id = r.site_id
        order by r.url, r.review_key""",
    "review_ratings": """
        select r.url, r.review_key, c.warc_file, c.warc_offset, x.fetched_at, x.rating_text,
            x.rating_value, x.rating_best, x.rating_worst, x.score
        from review_ratings x join reviews r on r.id = x.review_id
        join captures c on c.id = x.capture_id order by 1, 2, 3, 4""",
    "item_ratings": f"""
        select m.url, m.mention_key, c.warc_file, c.warc_offset, x.url, x.fetched_at,
            x.rating_value, x.rating_best, x.rating_worst, x.rating_count, x.review_count,
            x.score, {ITEM_OF.format("x.item_id")} as item
        from item_ratings x join item_mentions m on m.id = x.mention_id
        join captures c on c.id = x.capture_id order by 1, 2, 3, 4""",
    "articles_fts": """
        select a.url, f.title, f.text from articles_fts f join articles a on a.id = f.rowid
        order by a.url""",
}


def review(title: str, words: str, canonical: str | None = None, tags: str = "") -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    keywords = f'<meta name="keywords" content="{tags}">' if tags else ""
    body = f"{title}: {words}. " * 14
    return (
        f'<!DOCTYPE html><html lang="en"><head><title>{title}</title>'
        f'<meta property="og:type" content="article">{link}{keywords}'
        '<link rel="stylesheet" href="/style.css"></head>'
        f"<body><article><h1>{title}</h1><p>By Ada Critic</p><p>{body}</p></article>"
        "</body></html>"
    )


def rated(title: str, film: dict, ratings: list[tuple[str, str]]) -> str:
    """A film's page: the critic's review of it and readers' reviews (JSON-LD)."""
    import json

    data = {
        "@context": "https://schema.org", "@type": "Movie", **film,
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": 3.5,
                            "ratingCount": len(ratings)},
        "review": [{"@type": "Review", "author": {"@type": "Person", "name": who},
                    "datePublished": "2026-05-01", "reviewRating": {"ratingValue": value}}
                   for who, value in ratings],
    }  # fmt: skip
    page = review(title, "readers weigh in on a slow film")
    script = f'<script type="application/ld+json">{json.dumps(data)}</script>'
    return page.replace("</head>", script + "</head>")


def site(base: str, edition: int) -> dict:
    pages = {
        "/r/1/": (200, {"ETag": '"one"'}, review("Still the same", "a film that holds up")),
        "/r/2/": (200, {"ETag": f'"two-{edition}"'}, review(
            "A changed mind", "first thoughts" if edition == 1 else "second thoughts, revised")),
        "/r/3/": (200, {}, review("Same bytes again", "no validators on this one", tags="jazz")),
        "/print/1/": (200, {}, review("Still the same", "a film that holds up", f"{base}/r/1/")),
        "/a/": (200, {}, review("Canonical gone", "its canonical URL is a 404", f"{base}/gone/")),
        "/f/": (200, {}, review("Canonical listing", "names the index", f"{base}/listing/")),
        "/g/": (200, {}, review("Moved review", "names a redirect", f"{base}/old-g/")),
        "/old-g/": (301, {"Location": "/new-g/"}, ""),
        "/new-g/": (200, {}, review("Moved review", "names a redirect")),
        "/listing/": (200, {}, "<title>All</title>" + "".join(
            f'<h2><a href="/r/{n}/">Headline {n}</a></h2>' for n in range(1, 9))),
        "/style.css": (200, {"Content-Type": "text/css"}, "body { color: #222 }"),
        "/films/harbour/": (200, {}, rated("Harbour Lights, readers' verdict", {
            "name": "Harbour Lights", "dateCreated": "2024",
            "sameAs": "https://www.wikidata.org/wiki/Q4115189"},
            [("Reader One", "4"), ("Reader Two", "2" if edition == 1 else "3")])),
        "/films/harbour-again/": (200, {}, rated("Harbour Lights (2024), a second look", {
            "name": "Harbour Lights (2024)", "director": "Lee Moss"}, [("Reader Three", "5")])),
        "/films/other/": (200, {}, rated("Some Other Film", {"name": "Harbour Lights"},
                                         [("Reader Four", "1")])),
    }  # fmt: skip
    if edition == 2:
        pages["/r/5/"] = (200, {}, review("A new one", "only in the second crawl", tags="noir"))
    links = "".join(f'<a href="{path}">{path}</a> ' for path in pages if path.endswith("/"))
    pages["/"] = (200, {}, f"<title>Reviews, edition {edition}</title>{links}")
    return pages


def dump(data: Path) -> dict[str, list[tuple]]:
    archive = ArchiveDB.open_readonly(data / "archive.db")
    try:
        tables = {
            name
            for (name,) in archive.db.execute(
                "select name from sqlite_master where type = 'table'"
                " and name not like 'articles_fts_%'"
            )
        }
        assert tables - CRAWL_ONLY == set(TABLES), "a table this test does not compare"
        return {name: archive.db.execute(sql).fetchall() for name, sql in TABLES.items()}
    finally:
        archive.close()


@pytest.fixture(scope="module")
def crawled_twice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("rebuild") / "data"
    server = PagesServer({})
    try:
        for edition in (1, 2):
            server.pages = site(server.base_url, edition)
            result = run_reviewarc("crawl", server.base_url + "/", "--data", str(data))
            assert result.returncode == 0, result.stderr[-3000:]
    finally:
        server.stop()
    yield data


def test_the_crawls_made_what_this_test_is_about(crawled_twice: Path) -> None:
    tables = dump(crawled_twice)
    kinds = {(row[0].split("/", 3)[-1], row[4]) for row in tables["captures"]}
    assert ("r/1/", "revisit") in kinds  # 304 to a conditional request
    assert ("r/3/", "revisit") in kinds  # the same payload again
    stored = {row[0].split("/", 3)[-1]: row for row in tables["articles"]}
    assert {"r/1/", "r/2/", "r/3/", "r/5/", "a/", "f/", "new-g/"} <= set(stored), stored.keys()
    assert not {"print/1/", "g/"} & set(stored)  # stored from their canonical URLs
    assert stored["r/1/"][18] < stored["r/1/"][19]  # first_seen before last_seen: seen twice
    versions = [row for row in tables["article_versions"] if row[0].endswith("/r/2/")]
    assert len(versions) == 2
    assert ("jazz",) in tables["tags"]
    # Reviews: the film's pages join one item (Wikidata id + year, and a year in its name);
    # the page naming it only is another item; a reader's changed rating has two ratings.
    items = {row[0]: row for row in tables["items"]}
    assert sorted(row[8] for row in items.values()) == [1, 3], items  # reviews per item
    changed = [row for row in tables["review_ratings"] if row[0].endswith("/films/harbour/")]
    assert sorted({row[5] for row in changed}) == ["2", "3", "4"], changed


def test_reprocess_rebuilds_every_table_the_crawl_wrote(
    crawled_twice: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(crawled_twice / "warcs", data / "warcs")
    result = run_reviewarc("reprocess", "--data", str(data))
    assert result.returncode == 0, result.stderr[-3000:]
    crawled, rebuilt = dump(crawled_twice), dump(data)
    differences = {
        table: {
            "crawl only": [r for r in crawled[table] if r not in rebuilt[table]],
            "rebuild only": [r for r in rebuilt[table] if r not in crawled[table]],
        }
        for table in TABLES
        if rebuilt[table] != crawled[table]
    }
    assert not differences, differences
    assert len(crawled["captures"]) > 20 and len(crawled["articles"]) >= 7
