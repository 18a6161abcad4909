"""Reviews as data: five sites of this project's writing (tests/reviewsites.py) crawled into
one archive. Every review on a page is stored once with its rating and score; the same
film and the same album reviewed on several sites are one item each, the page that names
the film only is not merged with them; and ``reviewarc items``, ``show ITEM`` and the
reviews and items exports say so."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import read_sql, run_reviewarc
from tests.mockserver import PagesServer
from tests.reviewsites import EXPECTED, sites


class Sites:
    def __init__(self) -> None:
        self.servers = {key: PagesServer(pages) for key, pages in sites().items()}

    def url(self, site: str, path: str) -> str:
        return self.servers[site].base_url + path

    def crawl(self, data: Path, *only: str) -> None:
        seeds = [s.base_url + "/" for key, s in self.servers.items() if not only or key in only]
        result = run_reviewarc("crawl", *seeds, "--data", str(data))
        assert result.returncode == 0, result.stderr[-3000:]

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


@pytest.fixture(scope="module")
def review_sites() -> Iterator[Sites]:
    served = Sites()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def data(review_sites: Sites, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("reviews") / "data"
    review_sites.crawl(data)
    return data


def test_every_review_is_stored_once_with_its_rating_and_score(
    data: Path, review_sites: Sites
) -> None:
    stored = read_sql(data, "select * from reviews")
    assert len(stored) == len(EXPECTED["reviews"])
    by_key = {(r["url"], r["author"]): r for r in stored}
    assert len(by_key) == len(stored)  # one row per review: none twice
    for want in EXPECTED["reviews"]:
        row = by_key[(review_sites.url(want["site"], want["path"]), want["author"])]
        value = want["rating_value"]
        if isinstance(value, str):  # a letter grade
            assert row["rating_text"] == value and row["rating_value"] is None
            assert row["scale"] == f"{want['rating_worst']}-{want['rating_best']}"
        else:
            assert row["rating_value"] == value, row
            assert row["rating_best"] == want["rating_best"] or (
                want["rating_best"] == 5.0 and row["rating_best"] == 5.0
            )
        assert row["score"] == want["score"], (want, row)
        assert row["syntax"] == want["syntax"]
        assert (row["published"] or "")[:10] == want["date"]
        assert row["article_id"] is not None  # every review page is an article too
    kinds = {(r["url"].rsplit("/", 2)[-2], r["kind"]) for r in stored}
    assert ("aurora-headphones", "listed") in kinds and ("quiet-orchard", "page") in kinds


def test_the_same_thing_on_several_sites_is_one_item_and_a_name_alone_is_not(
    data: Path, review_sites: Sites
) -> None:
    reviews = read_sql(
        data,
        "select r.url, i.id as item, i.name, i.type, i.year from reviews r"
        " join items i on i.id = r.item_id",
    )
    item_of: dict[str, set[int]] = {}
    for r in reviews:
        item_of.setdefault(r["url"], set()).add(r["item"])
    items = {i["id"]: i for i in read_sql(data, "select * from items")}
    assert len(items) == len(EXPECTED["items"])
    for want in EXPECTED["items"]:
        pages = {review_sites.url(site, path) for site, path in want["reviews"]}
        ids = set().union(*(item_of[url] for url in pages))
        assert len(ids) == 1, (want["name_any_of"], ids)  # all its reviews: one item
        item = items[ids.pop()]
        assert item["name"] in want["name_any_of"] and item["type"] == want["type"]
        assert item["year"] == want["year"]
        assert item["reviews"] == len(want["reviews"])  # and no review of anything else
        assert item["sites"] == len({site for site, _ in want["reviews"]})
    mentions = read_sql(data, "select url, match_method from item_mentions")
    methods = {m["url"].split("/", 3)[-1]: m["match_method"] for m in mentions}
    assert methods["reviews/quiet-orchard/"] == "name+type+year"
    assert methods["posts/tidewater/"] == "identifier (musicbrainz)"
    assert methods["posts/quiet-orchard/"].startswith("only mention (name only")


def test_aggregates_tags_and_site_names(data: Path, review_sites: Sites) -> None:
    aggregates = read_sql(data, "select * from item_ratings")
    assert len(aggregates) == len(EXPECTED["aggregates"])
    for want in EXPECTED["aggregates"]:
        row = next(
            a for a in aggregates if a["url"] == review_sites.url(want["site"], want["path"])
        )
        assert (row["rating_value"], row["rating_count"], row["review_count"]) == (
            want["rating_value"], want["rating_count"], want["review_count"])  # fmt: skip
    articles = {a["url"]: a for a in read_sql(data, "select id, url, site_name from articles")}
    for (site, path), tags in EXPECTED["tags"].items():
        article = articles[review_sites.url(site, path)]
        stored = read_sql(
            data,
            "select t.name from article_tags x join tags t on t.id = x.tag_id"
            f" where x.article_id = {article['id']}",
        )
        assert sorted(t["name"] for t in stored) == sorted(tags)
    for url, article in articles.items():
        site = next(k for k, s in review_sites.servers.items() if url.startswith(s.base_url))
        assert article["site_name"] == EXPECTED["site_names"][site], url


def test_items_and_show_item_on_the_command_line(data: Path, review_sites: Sites) -> None:
    listed = run_reviewarc("items", "--json", "--data", str(data))
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)
    assert items[0]["name"] == "Aurora ANC Headphones" and items[0]["reviews"] == 20
    orchard = run_reviewarc("items", "orchard", "--type", "Movie", "--data", str(data))
    assert orchard.returncode == 0 and "The Quiet Orchard" in orchard.stdout
    assert "QUIET ORCHARD" in orchard.stdout  # the name-only one, listed apart
    # The item by its IMDb id, by the IMDb URL, and through the page of a review of it.
    for ref in ("tt9912345", "https://www.imdb.com/title/tt9912345/",
                review_sites.url("film-b", "/2026/04/quiet-orchard-review/")):  # fmt: skip
        shown = run_reviewarc("show", ref, "--data", str(data))
        assert shown.returncode == 0, shown.stderr
        assert "2 review(s) on 2 site(s)" in shown.stdout
        assert "The Reel Ledger" in shown.stdout and "Cinema Notes" in shown.stdout
        assert "Midnight Matinee" not in shown.stdout
    # The printed hint works when pasted.
    hint = run_reviewarc("items", "--data", str(data)).stdout.splitlines()[-1]
    assert hint.startswith("Every review of one: ")
    item_id = hint.rsplit(" ", 1)[-1]
    shown = run_reviewarc("show", item_id, "--data", str(data))
    assert "Aurora ANC Headphones" in shown.stdout and "20 review(s)" in shown.stdout
    # A name two items have is not guessed at: the answer lists both, in one line.
    ambiguous = run_reviewarc("show", "Quiet Orchard", "--data", str(data))
    assert ambiguous.returncode == 1 and "Traceback" not in ambiguous.stderr
    assert "names 2 items" in ambiguous.stderr and len(ambiguous.stderr.splitlines()) == 1
    missing = run_reviewarc("show", "no such film", "--data", str(data))
    assert missing.returncode == 1 and "reviewarc items" in missing.stderr


def test_exports_carry_reviews_and_items(data: Path, tmp_path: Path) -> None:
    reviews_jsonl, items_csv = tmp_path / "reviews.jsonl", tmp_path / "items.csv"
    result = run_reviewarc(
        "export", "--table", "reviews", "--jsonl", str(reviews_jsonl), "--data", str(data)
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in reviews_jsonl.read_text().splitlines()]
    assert len(records) == len(EXPECTED["reviews"])
    grade = next(r for r in records if r["rating_text"] == "B+")
    assert grade["score"] == 75.0 and grade["item_identifiers"] == {"imdb": "tt9912345"}
    assert grade["ratings"][0]["score"] == 75.0 and grade["warc_file"].endswith(".warc.gz")
    result = run_reviewarc(
        "export", "--table", "items", "--csv", str(items_csv), "--data", str(data)
    )
    assert result.returncode == 0, result.stderr
    with items_csv.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    album = next(r for r in rows if r["type"] == "MusicAlbum")
    assert json.loads(album["identifiers"])["musicbrainz"].startswith("release-group/")
    assert len(json.loads(album["reviews_list"])) == 2


def test_a_changed_score_is_kept_per_capture(review_sites: Sites, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shop = review_sites.servers["shop"]
    path = "/p/aurora-headphones/"
    original = shop.pages[path]
    review_sites.crawl(data, "shop")
    status, headers, body = original
    # One reader changes their rating (the first review: 5 stars -> 2).
    first = body.index('"ratingValue"', body.index('"review"'))
    end = body.index(",", first)
    changed = body[:first] + '"ratingValue": 2' + body[end:]
    assert changed != body
    shop.pages[path] = (status, headers, changed)
    try:
        review_sites.crawl(data, "shop")
    finally:
        shop.pages[path] = original
    history = read_sql(
        data,
        "select r.author, x.score from review_ratings x join reviews r on r.id = x.review_id"
        " where r.url like '%aurora%' order by x.fetched_at",
    )
    scores: dict[str, list[float]] = {}
    for row in history:
        scores.setdefault(row["author"], []).append(row["score"])
    moved = {a: s for a, s in scores.items() if len(set(s)) > 1}
    assert list(moved.values()) == [[100.0, 25.0]], moved
    assert all(len(s) == 2 for s in scores.values())  # every review: one rating per capture
    (author,) = moved
    now = read_sql(data, f"select score from reviews where author = '{author}'")
    assert now == [{"score": 25.0}]  # the review holds its latest score
    shown = run_reviewarc("show", "Aurora ANC Headphones", "--data", str(data))
    assert "(was 100)" in shown.stdout
    # And reprocess builds the same from the WARCs alone.
    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(data / "warcs", rebuilt / "warcs")
    assert run_reviewarc("reprocess", "--data", str(rebuilt)).returncode == 0
    again = read_sql(
        rebuilt,
        "select r.author, x.score from review_ratings x join reviews r on r.id = x.review_id"
        " where r.url like '%aurora%' order by x.fetched_at",
    )
    assert sorted(map(str, again)) == sorted(map(str, history))
