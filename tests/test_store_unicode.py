"""Articles whose extracted text is not valid Unicode are stored (with U+FFFD), and an
article the database refuses becomes a ``failures`` row, never only a log line."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from archive.database import ArchiveDB
from tests.conftest import reading, run_reviewarc

WORDS = "A patient, salt-stained film about the keepers of a northern lighthouse. " * 12

#: ``json.loads`` turns each ``\ud800`` / ``\udfff`` of this JSON-LD into a lone surrogate.
SURROGATE_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Bad title</title>'
    '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Review",'
    ' "headline": "Bad \\ud800 title", "datePublished": "2026-03-14",'
    ' "author": {"@type": "Person", "name": "Ann \\udfff Lee"},'
    ' "keywords": ["drama", "sea \\ud800 stories"]}</script></head>'
    "<body><article><h1>Bad title</h1><p>Opening &#xD800; line. " + WORDS + "</p></article>"
    "</body></html>"
)


def review(title: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta property="og:type" content="article"></head>'
        f"<body><article><h1>{title}</h1><p>{WORDS}</p></article></body></html>"
    )


PAGES = {
    "/": '<html><body><a href="/bad-unicode/">a</a> <a href="/good/">b</a> '
    '<a href="/refused/">c</a></body></html>',
    "/bad-unicode/": SURROGATE_PAGE,
    "/good/": review("Good review"),
    "/refused/": review("Refused review"),
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        page = PAGES.get(self.path)
        body = (page or "not found").encode()
        self.send_response(200 if page else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}"
    server.shutdown()
    server.server_close()


def query(data: Path, sql: str, *args: object) -> list[tuple]:
    with reading(data) as db:
        return db.execute(sql, args).fetchall()


def crawl(base_url: str, data: Path) -> None:
    result = run_reviewarc("crawl", base_url + "/", "--data", str(data))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]


def test_lone_surrogates_are_stored_as_replacement_characters(
    base_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    crawl(base_url, data)
    url = base_url + "/bad-unicode/"
    ((title, author, text),) = query(
        data, "select title, author, text from articles where url = ?", url
    )
    assert title == "Bad \ufffd title"
    assert author == "Ann \ufffd Lee"
    assert "Opening \ufffd line." in text
    tags = {
        name
        for (name,) in query(
            data,
            "select t.name from article_tags x join tags t on t.id = x.tag_id "
            "join articles a on a.id = x.article_id where a.url = ?",
            url,
        )
    }
    assert tags == {"drama", "sea \ufffd stories"}
    assert query(data, "select count(*) from article_versions where url = ?", url) == [(1,)]
    assert query(data, "select count(*) from failures where url = ?", url) == [(0,)]
    # Search finds it and show prints it, like any other review.
    out = run_reviewarc("search", "lighthouse", "--json", "--data", str(data))
    assert out.returncode == 0, out.stderr
    assert url in {hit["url"] for hit in json.loads(out.stdout)}
    out = run_reviewarc("show", url, "--data", str(data))
    assert out.returncode == 0, out.stderr
    assert "Bad \ufffd title" in out.stdout


def test_an_article_the_database_refuses_is_a_failure_row(base_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    # A real refusal by SQLite itself, as a CHECK constraint or a full disk gives: a trigger
    # that aborts the insert of one article.
    archive = ArchiveDB.open(data / "archive.db")
    archive.db.execute(
        "create trigger refuse_one before insert on articles when new.url like '%/refused/'"
        " begin select raise(abort, 'refused by a trigger of this test'); end"
    )
    archive.close()

    crawl(base_url, data)
    refused = base_url + "/refused/"
    ((kind, reason, capture_url),) = query(
        data,
        "select f.kind, f.reason, c.url from failures f join captures c on c.id = f.capture_id"
        " where f.url = ?",
        refused,
    )
    assert kind == "store"
    assert "refused by a trigger of this test" in reason
    assert capture_url == refused  # the archived page it came from
    stored = {url for (url,) in query(data, "select url from articles")}
    assert base_url + "/good/" in stored and refused not in stored
    # The crawl counts it with its other failures (the missing /sitemap.xml's 404).
    (counted,) = query(data, "select failures from crawls")
    assert counted == query(data, "select count(*) from failures")[0]
    assert query(data, "select count(*) from failures where kind = 'store'") == [(1,)]

    # Nothing is lost: the page is archived, and reprocess stores it once the database lets it.
    con = sqlite3.connect(data / "archive.db")
    with con:
        con.execute("drop trigger refuse_one")
    con.close()
    out = run_reviewarc("reprocess", "--data", str(data))
    assert out.returncode == 0, out.stderr[-3000:]
    assert query(data, "select title from articles where url = ?", refused) == [("Refused review",)]
