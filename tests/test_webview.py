"""The web view of ``reviewarc serve`` (Datasette): search, facets, canned queries, and links
that open reviews in replay, never on the live site. Over a real crawl of the fixture site."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from datasette.app import Datasette

from archive.articles import Article, ArticleStore
from archive.database import ArchiveDB, CaptureRow, connect
from archive.datadir import DataDir
from archive.replay import timestamp14
from archive.webview import build_datasette, replay_url
from tests import reviewsites
from tests.conftest import SERVE_ADDRESS, Crawl, read_sql, run_reviewarc, running, serve_command
from tests.conftest import get as http_get
from tests.mockserver import PagesServer
from tests.test_extraction import ARTICLES

REPLAY = "http://127.0.0.1:18931"
VIEW_PORT = 18930
CRITIC = "/articles/critic/"
REPLAY_LINK = re.compile(r"^" + re.escape(REPLAY) + r"/web/(\d{14})/(https?://.+)$")
EVIL_TITLE = '<script>alert("title")</script> Harbour & "Sons"'
EVIL_TAG = "<b>bold</b>"


def get(ds: Datasette, path: str) -> httpx.Response:
    return asyncio.run(ds.client.get(path))


def get_json(ds: Datasette, path: str) -> list[dict]:
    response = get(ds, path)
    assert response.status_code == 200, response.text[-2000:]
    return response.json()


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("href", "src", "action") and v]


def links(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.urls


def critic_word() -> str:  # as in test_extraction.test_search_english_and_korean
    return max(ARTICLES[CRITIC]["contains"][1].split(), key=len).strip(".,;:!?\"'")


def fetched_at_by_url(db_path: Path) -> dict[str, str]:
    archive = ArchiveDB.open_readonly(db_path)
    try:
        rows = archive.db.execute(
            "select a.url, c.fetched_at from articles a join captures c on c.id = a.capture_id"
        ).fetchall()
    finally:
        archive.close()
    return dict(rows)


@pytest.fixture(scope="module")
def crawl(request: pytest.FixtureRequest) -> Crawl:
    """test_extraction's crawl of tests/site/articles/ (its ``articles`` fixture)."""
    return request.getfixturevalue("articles")


@pytest.fixture(scope="module")
def view(crawl: Crawl) -> Datasette:
    return build_datasette(DataDir(crawl.data).db_path, REPLAY, port=VIEW_PORT)


@pytest.fixture(scope="module")
def copy(crawl: Crawl, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the crawl's database plus a hostile article and a changed review."""
    path = tmp_path_factory.mktemp("webview") / "archive.db"
    source = ArchiveDB.open_readonly(DataDir(crawl.data).db_path)
    target = sqlite3.connect(path)
    source.db.conn.backup(target)
    source.close()
    target.close()
    archive = ArchiveDB(connect(path))
    base = crawl.server.base_url
    evil_url = f"{base}/articles/evil/?q=\"><script>alert('url')</script>"
    capture = archive.add_capture(
        CaptureRow(evil_url, "2026-12-01T08:09:10.5Z", 200, "text/html", "response",
                   "sha1:X", 10, "x.warc.gz", 0, 10, "<urn:uuid:x>")
    )  # fmt: skip
    store = ArticleStore(archive.db)
    store.save(
        Article(url=evil_url, title=EVIL_TITLE, text="A harbour thriller, <i>unescaped</i>?",
                site_name="<em>Evil</em>", language="en", rating_value=9, rating_best=10,
                tags=[EVIL_TAG]),
        capture, "2026-12-01T08:09:10.5Z",
    )  # fmt: skip
    critic = archive.db.execute(
        "select title, capture_id from articles where url = ?", [base + CRITIC]
    ).fetchone()
    store.save(
        Article(url=base + CRITIC, title=critic[0], text="A second, revised text.", language="en"),
        critic[1], "2027-01-01T00:00:00.000000Z",
    )  # fmt: skip
    archive.close()
    return path


@pytest.fixture(scope="module")
def copy_view(copy: Path) -> Datasette:
    return build_datasette(copy, REPLAY + "/")


def test_articles_page_has_search_box_and_useful_columns_first(
    view: Datasette,
    crawl: Crawl,
) -> None:
    page = get(view, "/archive/articles")
    assert page.status_code == 200
    assert '<input id="_search" type="search" name="_search"' in page.text
    columns = re.findall(r'<th [^>]*data-column="(\w+)"', page.text)
    assert columns[:9] == ["id", "title", "author", "site_name", "published", "rating_value",
                           "rating_best", "language", "url"]  # fmt: skip
    assert "text" in columns and "text_hash" in columns
    # the body is truncated in the table, whole on the article's page
    ending = ARTICLES[CRITIC]["contains"][-1]
    assert ending not in page.text and "…" in page.text
    critic_id = crawl.sql(f"select id from articles where url like '%{CRITIC}'")[0]["id"]
    assert ending in get(view, f"/archive/articles/{critic_id}").text


def test_full_text_search(view: Datasette, crawl: Crawl) -> None:
    word = critic_word()
    critic_url = crawl.server.base_url + CRITIC
    hits = get_json(view, f"/archive/articles.json?_search={word}&_shape=array")
    assert critic_url in [hit["url"] for hit in hits]
    assert ARTICLES[CRITIC]["title"] in get(view, f"/archive/articles?_search={word}").text
    ranked = get_json(view, f"/archive/search.json?q={word}&_shape=array")
    assert ranked[0]["url"] == critic_url and "**" in ranked[0]["snippet"]
    assert "<mark>" in get(view, f"/archive/search?q={word}").text
    # FTS5 syntax as in `reviewarc search`; text that is not valid syntax still searches
    either = get_json(view, f"/archive/search.json?q={word}+OR+nosuchword&_shape=array")
    assert critic_url in [hit["url"] for hit in either]
    assert get(view, '/archive/search.json?q="unbalanced+(&_shape=array').status_code == 200
    assert get_json(view, "/archive/search.json?q=&_shape=array") == []


def test_facets(view: Datasette, copy_view: Datasette) -> None:
    page = get(view, "/archive/articles").text
    for column in ("site_name", "language", "rating_value", "author"):
        assert f'id="facet-{column}"' in page, column
    facets = get(view, "/archive/articles.json").json()["facet_results"]
    sites = {v["value"] for v in facets["site_name"]["results"]}
    assert ARTICLES[CRITIC]["site_name"] in sites
    assert {"en", "ko"} <= {v["value"] for v in facets["language"]["results"]}
    # tags: a facet on article_tags (labelled by tag name) and two canned queries
    assert 'id="facet-tag_id"' in get(view, "/archive/article_tags").text
    tags = get_json(copy_view, "/archive/tags.json?_shape=array")
    assert {"tag": EVIL_TAG, "reviews": 1} in tags
    tagged = get_json(copy_view, "/archive/reviews_tagged.json?tag=thriller&_shape=array")
    assert [row["url"].rsplit("/", 2)[1] for row in tagged] == ["blog-theme"]


def check_replay_links(rows: list[dict], db_path: Path) -> None:
    fetched_at = fetched_at_by_url(db_path)
    assert rows
    for row in rows:
        match = REPLAY_LINK.match(row["replay"])
        assert match, row["replay"]
        assert match.group(2) == row["url"]
        assert match.group(1) == timestamp14(fetched_at[row["url"]])


@pytest.mark.parametrize("query", ["latest_reviews", "best_rated"])
def test_canned_queries_link_to_replay(
    view: Datasette,
    crawl: Crawl,
    query: str,
) -> None:
    rows = get_json(view, f"/archive/{query}.json?_shape=array")
    check_replay_links(rows, DataDir(crawl.data).db_path)
    if query == "latest_reviews":
        assert len(rows) == crawl.sql("select count(*) as n from articles")[0]["n"] > 1
        published = [row["published"] for row in rows if row["published"]]
        assert published == sorted(published, reverse=True)
    else:
        scores = [row["score"] for row in rows]
        assert scores == sorted(scores, reverse=True)
        critic = next(row for row in rows if row["url"].endswith(CRITIC))
        assert critic["score"] == 80.0  # 4 of 5
    html = get(view, f"/archive/{query}").text
    hrefs = links(html)
    assert all(row["replay"] in hrefs for row in rows)


def test_changed_reviews(copy_view: Datasette, copy: Path) -> None:
    rows = get_json(copy_view, "/archive/changed_reviews.json?_shape=array")
    assert [row["url"][-len(CRITIC) :] for row in rows] == [CRITIC]
    assert rows[0]["versions"] == 2 and rows[0]["last_change"] == "2027-01-01T00:00:00.000000Z"
    check_replay_links(rows, copy)
    assert rows[0]["replay"] in links(get(copy_view, "/archive/changed_reviews").text)


def test_links_go_to_replay_never_to_the_live_site(
    view: Datasette,
    crawl: Crawl,
) -> None:
    live = crawl.server.base_url
    urls = [r["url"] for r in crawl.sql("select url from articles")]
    critic_id = crawl.sql(f"select id from articles where url like '%{CRITIC}'")[0]["id"]
    pages = [
        "/archive/articles",
        f"/archive/articles?_search={critic_word()}",
        f"/archive/articles/{critic_id}",
        "/archive/latest_reviews",
        "/archive/best_rated",
        f"/archive/search?q={critic_word()}",
        "/archive/captures",
        "/archive/article_versions",
        "/archive?sql=select+url,+canonical_url+from+articles",
    ]
    for path in pages:
        page = get(view, path)
        assert page.status_code == 200, path
        hrefs = links(page.text)
        assert not [h for h in hrefs if h.startswith(live)], path
        for href in hrefs:
            if any(url in href for url in urls):
                assert href.startswith(REPLAY + "/web/"), (path, href)
    article_links = links(get(view, "/archive/articles").text)
    for url in urls:
        assert [h for h in article_links if REPLAY_LINK.match(h) and h.endswith("/" + url)], url


def test_untrusted_text_is_escaped(copy_view: Datasette, copy: Path) -> None:
    archive = ArchiveDB.open_readonly(copy)
    evil_id = archive.db.execute("select id from articles where rating_best = 10").fetchone()[0]
    archive.close()
    pages = [
        "/archive/articles",
        f"/archive/articles/{evil_id}",
        "/archive/articles?_search=harbour",
        "/archive/latest_reviews",
        "/archive/best_rated",
        "/archive/search?q=harbour",
        "/archive/tags",
        "/archive/reviews_tagged?tag=%3Cb%3Ebold%3C%2Fb%3E",
        "/archive/captures",
    ]
    for path in pages:
        page = get(copy_view, path)
        assert page.status_code == 200, path
        text = page.text
        for raw in ("<script>alert", "<b>bold", "<i>unescaped", "<em>Evil"):
            assert raw not in text, (path, raw)
        hrefs = links(text)
        assert not [h for h in hrefs if "<" in h or '"' in h], path
    listing = get(copy_view, "/archive/articles").text
    assert (
        "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt; Harbour &amp; &#34;Sons&#34;"
        in listing
    )
    [evil_link] = [h for h in links(listing) if "/articles/evil/" in h]
    assert evil_link.startswith(f"{REPLAY}/web/20261201080910/http://")
    assert evil_link.endswith("/articles/evil/?q=%22%3E%3Cscript%3Ealert('url')%3C/script%3E")
    tags_page = get(copy_view, "/archive/tags").text
    assert "&lt;b&gt;bold&lt;/b&gt;" in tags_page


def test_read_only(copy_view: Datasette, copy: Path) -> None:
    db = copy_view.get_database("archive")
    assert db.is_mutable and copy_view.immutables == set()  # mode=ro, not immutable=1
    before = get_json(
        copy_view, "/archive.json?sql=select+count(*)+as+n+from+articles&_shape=array"
    )
    for sql in ("delete from articles", "update articles set title = 'x'"):
        assert get(copy_view, f"/archive.json?sql={sql}").status_code == 400
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        asyncio.run(db.execute("delete from articles"))
    assert asyncio.run(copy_view.client.post("/archive/articles", data={})).status_code >= 400
    after = get_json(copy_view, "/archive.json?sql=select+count(*)+as+n+from+articles&_shape=array")
    assert before == after


def test_sees_what_a_running_crawl_writes(copy_view: Datasette, copy: Path) -> None:
    url = "http://reviews.example/reviews/late-arrival/"
    assert not get_json(copy_view, "/archive/articles.json?_search=latecomer&_shape=array")
    # a write refused on a read connection leaves no transaction open (no stale snapshot)
    for _ in range(4):
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            asyncio.run(copy_view.get_database("archive").execute("delete from tags"))
        assert not get_json(copy_view, "/archive/articles.json?_search=latecomer&_shape=array")
    writer = connect(copy)  # WAL, as the crawl writes
    ArticleStore(writer).save(
        Article(url=url, title="Late arrival", text="The latecomer of the crawl."),
        None, "2027-02-02T02:02:02.000000Z",
    )  # fmt: skip
    hits = get_json(copy_view, "/archive/articles.json?_search=latecomer&_shape=array")
    writer.close()
    assert [hit["url"] for hit in hits] == [url]
    html = get(copy_view, "/archive/articles?_search=latecomer").text
    assert f"{REPLAY}/web/20270202020202/{url}" in links(html)


def test_replay_base_is_checked(tmp_path: Path, copy: Path) -> None:
    for bad in ("javascript:alert(1)", "ftp://127.0.0.1:8001", "/web", "http://h:1/?x=1"):
        with pytest.raises(ValueError):
            build_datasette(copy, bad)
    with pytest.raises(ValueError, match="own origin"):
        build_datasette(copy, "http://127.0.0.1:8001", port=8001)
    with pytest.raises(FileNotFoundError):
        build_datasette(tmp_path / "archive.db", REPLAY)
    assert replay_url(REPLAY, "javascript:alert(1)", "2026") is None
    assert (
        replay_url(REPLAY, "https://x.example/é", None)
        == f"{REPLAY}/web/*/https://x.example/%C3%A9"
    )


def test_run_datasette_serves_http(copy: Path) -> None:
    code = (
        "import socket, sys; from pathlib import Path;"
        "from archive.webview import build_datasette, run_datasette;"
        "sock = socket.create_server(('127.0.0.1', 0)); port = sock.getsockname()[1];"
        "print(f'Web view at http://127.0.0.1:{port}/', flush=True);"
        "run_datasette(build_datasette(Path(sys.argv[1]), sys.argv[2], port=port), sock)"
    )
    command = [sys.executable, "-c", code, str(copy), REPLAY]
    with running(command, r"Web view at http://127\.0\.0\.1:(\d+)/", timeout=30) as server:
        (port,) = server.ports
        status, _, body = http_get(port, "/archive/latest_reviews.json?_shape=array")
        server.process.terminate()
        server.process.wait(timeout=10)
        logged = server.output()
    assert status == 200, logged[-3000:]
    rows = json.loads(body)
    assert rows, f"the web view did not answer: {logged[-3000:]}"
    assert all(REPLAY_LINK.match(row["replay"]) for row in rows)
    assert "Traceback" not in logged, logged[-3000:]


def test_serve_stopped_with_sigterm_stops_its_replay_server(crawl: Crawl) -> None:
    """``docker stop``, systemd and schedulers send SIGTERM: the replay server that
    ``reviewarc serve`` started must not outlive it, holding its port."""
    import psutil

    with running(serve_command(crawl.data), SERVE_ADDRESS) as server:
        port, replay_port = server.ports
        http_get(port, "/")
        http_get(replay_port, "/")
        serve = psutil.Process(server.process.pid)
        children = serve.children(recursive=True)
        assert children, "the replay server runs as a child process"
        try:
            server.process.terminate()
            server.process.wait(timeout=20)
            _gone, alive = psutil.wait_procs(children, timeout=15)
            assert not alive, f"left running: {[p.cmdline() for p in alive]}"
            with pytest.raises(OSError):
                http_get(replay_port, "/")
        finally:
            for child in children:
                if child.is_running():
                    child.kill()


# -- reviews and items (tests/reviewsites.py) --------------------------------------------


@pytest.fixture(scope="module")
def review_sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """One crawl of every review fixture site: its data directory and the sites' origins."""
    servers = [PagesServer(pages) for pages in reviewsites.sites().values()]
    try:
        data = tmp_path_factory.mktemp("review-sites") / "data"
        result = run_reviewarc("crawl", *[s.base_url + "/" for s in servers], "--data", str(data))
        assert result.returncode == 0, result.stderr[-3000:]
        yield data, [s.base_url for s in servers]
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="module")
def review_view(review_sites: tuple[Path, list[str]]) -> Datasette:
    return build_datasette(DataDir(review_sites[0]).db_path, REPLAY, port=VIEW_PORT)


def item_id(data: Path, name_like: str, type_: str) -> int:
    [row] = read_sql(
        data, f"select id from items where name like '{name_like}' and type = '{type_}'"
    )
    return row["id"]


def test_items_and_reviews_tables_have_their_facets(review_view: Datasette) -> None:
    items = get(review_view, "/archive/items")
    assert items.status_code == 200
    for column in ("type", "sites"):
        assert f'id="facet-{column}"' in items.text, column
    facets = get_json(review_view, "/archive/items.json")["facet_results"]
    types = {v["value"]: v["count"] for v in facets["type"]["results"]}
    assert types == {"Movie": 3, "Product": 2, "MusicAlbum": 1, "Book": 1}
    # the most reviewed first, each name linked to its reviews from every site
    rows = get_json(review_view, "/archive/items.json?_shape=array")
    assert [row["reviews"] for row in rows][:2] == [20, 3]
    assert f'href="/archive/item_reviews?item={rows[0]["id"]}">Aurora ANC' in items.text

    reviews = get(review_view, "/archive/reviews")
    assert reviews.status_code == 200
    for column in ("site_name", "score_band", "kind", "syntax", "item_id"):
        assert f'id="facet-{column}"' in reviews.text, column
    facets = get_json(review_view, "/archive/reviews.json")["facet_results"]
    sites = {v["value"]: v["count"] for v in facets["site_name"]["results"]}
    assert sites == {"Brightline Goods": 23, "The Reel Ledger": 2, "Cinema Notes": 1,
                     "Midnight Matinee": 3, "Small Room Reviews": 1}  # fmt: skip
    bands = {v["value"] for v in facets["score_band"]["results"]}
    assert {"0-19", "80-100"} <= bands
    by_item = {v["label"]: v["count"] for v in facets["item_id"]["results"]}
    assert by_item["Aurora ANC Headphones"] == 20  # labelled by the item's name
    for table in ("item_mentions", "review_ratings", "item_ratings"):
        assert get(review_view, f"/archive/{table}").status_code == 200, table
    assert 'id="facet-match_method"' in get(review_view, "/archive/item_mentions").text


def test_most_reviewed(review_view: Datasette, review_sites: tuple[Path, list[str]]) -> None:
    rows = get_json(review_view, "/archive/most_reviewed.json?_shape=array")
    assert len(rows) == 7
    assert (rows[0]["item"], rows[0]["reviews"], rows[0]["sites"]) == (
        "Aurora ANC Headphones",
        20,
        1,
    )
    assert (rows[0]["min_score"], rows[0]["max_score"]) == (0.0, 100.0)
    counts = [row["reviews"] for row in rows]
    assert counts == sorted(counts, reverse=True)
    [orchard] = [row for row in rows if row["item"] == "The Quiet Orchard"]
    assert (orchard["reviews"], orchard["sites"], orchard["type"], orchard["year"]) == (
        2, 2, "Movie", 2025
    )  # fmt: skip
    assert set(orchard["site_names"].split(",")) == {"The Reel Ledger", "Cinema Notes"}
    assert orchard["mean_score"] == orchard["min_score"] == orchard["max_score"] == 75.0
    # each name links to the item's reviews
    hrefs = links(get(review_view, "/archive/most_reviewed").text)
    for row in rows:
        assert f"/archive/item_reviews?item={row['item_id']}" in hrefs, row["item"]


def test_item_reviews_link_to_replay_not_the_live_site(
    review_view: Datasette, review_sites: tuple[Path, list[str]]
) -> None:
    data, origins = review_sites
    tidewater = item_id(data, "Tidewater%", "MusicAlbum")
    rows = get_json(review_view, f"/archive/item_reviews.json?item={tidewater}&_shape=array")
    assert {row["site_name"] for row in rows} == {"The Reel Ledger", "Midnight Matinee"}
    assert sorted(row["score"] for row in rows) == [75.0, 80.0]
    assert {row["scale"] for row in rows} == {"0-4", "0-10"}
    fetched_at = dict(
        (r["url"], r["fetched_at"])
        for r in read_sql(
            data,
            "select r.url, c.fetched_at from reviews r join captures c on c.id = r.capture_id",
        )
    )
    page = get(review_view, f"/archive/item_reviews?item={tidewater}")
    assert page.status_code == 200
    hrefs = links(page.text)
    assert not [h for h in hrefs if any(h.startswith(o) for o in origins)], hrefs
    for row in rows:
        match = REPLAY_LINK.match(row["replay"])
        assert match and match.group(2) == row["url"], row
        assert match.group(1) == timestamp14(fetched_at[row["url"]])
        # the URL cell opens replay at the review's capture, never the live page
        url_cells = re.findall(
            r'<a class="replay-url" href="([^"]+)">' + re.escape(row["url"]) + "</a>", page.text
        )
        assert url_cells == [row["replay"]], row["url"]
    # the reviews table's url cells, too
    table = get(review_view, f"/archive/reviews?item_id={tidewater}").text
    table_links = links(table)
    assert not [h for h in table_links if any(h.startswith(o) for o in origins)]
    for row in rows:
        assert row["replay"] in table_links


def test_widest_disagreement(review_view: Datasette) -> None:
    rows = get_json(review_view, "/archive/widest_disagreement.json?_shape=array")
    assert (rows[0]["item"], rows[0]["spread"], rows[0]["scored_reviews"]) == (
        "Aurora ANC Headphones", 100.0, 20
    )  # fmt: skip
    spreads = [row["spread"] for row in rows]
    assert spreads == sorted(spreads, reverse=True)
    assert all(row["scored_reviews"] >= 2 for row in rows)
    by_item = {row["item"]: row for row in rows}
    assert by_item["The Quiet Orchard"]["spread"] == 0.0
    assert by_item["Tessel Pour-Over Kettle"]["spread"] == 20.0
    assert next(r for r in rows if r["item"].startswith("Tidewater"))["spread"] == 5.0
    assert "Paper Lanterns" not in by_item  # one review: nothing to disagree on
    hrefs = links(get(review_view, "/archive/widest_disagreement").text)
    assert f"/archive/item_reviews?item={rows[0]['item_id']}" in hrefs


def test_scores_that_changed(tmp_path: Path) -> None:
    """The shop crawled twice, one shopper's rating (1 of 5) revised to 3 of 5 and the
    page's average from 4.3 to 4.4 in between: both scores listed, with when each was seen."""
    pages = reviewsites.sites()["shop"]
    server = PagesServer(pages)
    data = tmp_path / "data"
    try:
        first = run_reviewarc("crawl", server.base_url + "/", "--data", str(data))
        assert first.returncode == 0, first.stderr[-3000:]
        path = "/p/aurora-headphones/"
        status, headers, body = pages[path]
        assert body.count('"ratingValue": 1,') == 1 and body.count('"ratingValue": "4.3"') == 1
        body = body.replace('"ratingValue": 1,', '"ratingValue": 3,')
        pages[path] = (
            status,
            headers,
            body.replace('"ratingValue": "4.3"', '"ratingValue": "4.4"'),
        )
        second = run_reviewarc("crawl", server.base_url + "/", "--data", str(data))
        assert second.returncode == 0, second.stderr[-3000:]
    finally:
        server.stop()
    view = build_datasette(DataDir(data).db_path, REPLAY, port=VIEW_PORT)
    rows = get_json(view, "/archive/scores_that_changed.json?_shape=array")
    assert len(rows) == 1, rows
    [row] = rows
    assert row["item"] == "Aurora ANC Headphones" and row["url"] == server.base_url + path
    assert (row["first_rating"], row["first_score"]) == ("1", 0.0)
    assert (row["latest_rating"], row["latest_score"]) == ("3", 50.0)
    assert row["first_seen"] < row["latest_seen"] and row["captures"] == 2
    first_link, latest_link = (
        REPLAY_LINK.match(row["first_replay"]),
        REPLAY_LINK.match(row["replay"]),
    )
    assert first_link and latest_link
    assert first_link.group(1) == timestamp14(row["first_seen"])
    assert latest_link.group(1) == timestamp14(row["latest_seen"])
    html = get(view, "/archive/scores_that_changed").text
    hrefs = links(html)
    assert row["first_replay"] in hrefs and row["replay"] in hrefs
    assert f"/archive/item_reviews?item={row['item_id']}" in hrefs
    assert not [h for h in hrefs if h.startswith(server.base_url)]

    [aggregate] = get_json(view, "/archive/aggregates_that_changed.json?_shape=array")
    assert aggregate["item"] == "Aurora ANC Headphones"
    assert (aggregate["first_value"], aggregate["latest_value"]) == (4.3, 4.4)
    assert aggregate["first_count"] == aggregate["latest_count"] == 20
    assert aggregate["first_seen"] < aggregate["latest_seen"]
