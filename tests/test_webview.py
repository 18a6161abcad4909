"""The web view of ``reviewarc serve`` (Datasette): search, facets, canned queries, and links
that open reviews in replay, never on the live site. Over a real crawl of the fixture site."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import sys
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
from tests.conftest import SERVE_ADDRESS, Crawl, running, serve_command
from tests.conftest import get as http_get
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
