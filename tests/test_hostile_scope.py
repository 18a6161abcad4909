"""What a hostile site cannot make the crawler do: reach this machine's own services through
other spellings of loopback, or carry credentials from its links into requests, rows, WARC
headers or logs. Two local servers: the "site" (treated as a public one with
``REVIEWARC_PRIVATE_ADDRESSES=seeds``) and a "local service" holding a secret."""

from __future__ import annotations

import gzip
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.database import ArchiveDB
from archive.datadir import DataDir
from tests.conftest import run_reviewarc
from tests.mockserver import PagesServer as Server

SECRET = "LOCAL-SERVICE-SECRET-7731"
PASSWORD = "Hunter2Password"


def article(title: str, head: str = "", body: str = "") -> str:
    words = "A calm, careful paragraph about the film and its long final scene. " * 12
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>"
        f'<meta property="og:type" content="article">{head}</head>'
        f"<body><article><h1>{title}</h1><p>{words}</p>{body}</article></body></html>"
    )


@pytest.fixture
def servers() -> Iterator[tuple[Server, Server]]:
    service = Server({
        path: (200, {"Content-Type": "text/css"}, f"/* {SECRET} */")
        for path in ("/secret.css", "/secret.png", "/secret.js", "/secret", "/admin")
    })  # fmt: skip
    q = service.port
    spellings = [f"127.1:{q}", f"2130706433:{q}", f"0x7f000001:{q}", f"0177.0.0.1:{q}",
                 f"localhost:{q}", f"[::ffff:127.0.0.1]:{q}", f"0.0.0.0:{q}"]  # fmt: skip
    requisites = "".join(
        f'<link rel="stylesheet" href="http://{s}/secret.css">'
        f'<img src="http://{s}/secret.png"><script src="http://{s}/secret.js"></script>'
        for s in spellings
    )
    site = Server({})
    p = site.port
    site.pages.update({
        "/": (200, {}, article(
            "The lighthouse keeper", head=requisites,
            body=f'<p><a href="http://member:{PASSWORD}@127.0.0.1:{p}/members/">members</a>'
                 f' <a href="/moved">moved</a></p>',
        )),
        "/go": (302, {"Location": f"http://127.1:{q}/secret"}, ""),
        "/go-numeric": (301, {"Location": f"http://2130706433:{q}/admin"}, ""),
        "/moved": (302, {"Location": f"http://editor:{PASSWORD}@127.0.0.1:{p}/after-move/"}, ""),
        "/members/": (200, {}, article("Members corner")),
        "/after-move/": (200, {}, article("After the move")),
    })  # fmt: skip
    yield site, service
    site.stop()
    service.stop()


def test_other_spellings_of_loopback_are_refused_and_credentials_never_leave_the_page(
    servers: tuple[Server, Server], tmp_path: Path
) -> None:
    site, service = servers
    base = f"http://127.0.0.1:{site.port}"
    data = tmp_path / "data"
    result = run_reviewarc(
        "crawl", f"{base}/", f"{base}/go", f"{base}/go-numeric", "--data", str(data),
        "--set", "REVIEWARC_PRIVATE_ADDRESSES=seeds", "--log-level", "DEBUG",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]

    # Nothing reached the local service, by requisite or by redirect.
    assert service.log == []
    warc_bytes = b"".join(gzip.open(p).read() for p in (data / "warcs").glob("*.warc.gz"))
    assert SECRET.encode() not in warc_bytes
    archive = ArchiveDB.open_readonly(DataDir(data).db_path)
    con = archive.db
    refused = con.execute(
        "select url, kind, reason from failures where reason like '%private address refused%'"
    ).fetchall()
    assert {kind for _, kind, _ in refused} == {"offsite"}
    refused_paths = {url.rsplit("/", 1)[1] for url, _, _ in refused}
    assert refused_paths == {"secret.css", "secret.png", "secret.js", "secret", "admin"}
    assert len(refused) >= 7 * 3 + 2  # every spelling, every requisite, both redirects
    titles = {t for (t,) in con.execute("select title from articles")}
    assert {"The lighthouse keeper", "Members corner", "After the move"} <= titles

    # The linked and redirected pages were fetched without the credentials...
    paths = {path: headers for path, headers in site.log}
    assert "/members/" in paths and "/after-move/" in paths
    assert not any("Authorization" in headers for headers in paths.values())
    # ... which are nowhere but in the bytes the site itself sent (its page and its 3xx).
    for table in ("captures", "failures", "articles", "crawls", "article_versions"):
        dump = repr(con.execute(f"select * from {table}").fetchall())
        assert PASSWORD not in dump, table
    archive.close()
    assert PASSWORD not in result.stdout + result.stderr
    frontier = sqlite3.connect(data / "state" / "frontier.db")
    assert PASSWORD not in repr(frontier.execute("select * from frontier").fetchall())
    from warcio.archiveiterator import ArchiveIterator

    for path in (data / "warcs").glob("*.warc.gz"):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                headers = record.rec_headers.to_str()
                assert PASSWORD not in headers
                payload = record.content_stream().read()
                if record.rec_type != "response":
                    assert PASSWORD.encode() not in payload, record.rec_type
                elif PASSWORD.encode() in payload:
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    assert url in (f"{base}/", f"{base}/moved"), url
