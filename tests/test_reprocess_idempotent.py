"""`reviewarc reprocess` run again, or killed and run again, ends with the tables of one clean
run; and `article_versions` holds one row per distinct body of an article, in the crawl and in
reprocess alike.

The site is served by a local server whose pages the test edits between three crawls: page
``n`` with ``n % 4 == 0`` goes A -> B -> A (back to an earlier body), ``n % 4 == 2`` goes
A -> B -> C, the rest stay A.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import permutations
from pathlib import Path

import pytest

from archive.articles import Article, ArticleStore
from archive.database import ArchiveDB, connect
from archive.datadir import DataDir
from archive.migrations import MIGRATIONS
from archive.readonly import connect_readonly
from tests.conftest import BIN, run_reviewarc, wait_until

PAGES = 480
#: Small WARC files, so that reprocess commits many of them (one transaction per file) and a
#: kill can land between two.
WARC_MAX_SIZE = "40000"
_PAGE = re.compile(r"^/many/(\d+)/$")


class EditableSite(ThreadingHTTPServer):
    """``/many/1/`` to ``/many/{PAGES}/``: a binary tree of review pages whose body text
    names ``edition[n]`` (default "A"); the test changes it between crawls."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.edition: dict[int, str] = {}
        host, port = self.server_address[:2]
        self.base_url = f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EditableSite

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        m = _PAGE.match(self.path)
        if not m or not 1 <= int(m.group(1)) <= PAGES:
            body, status = b"not found", 404
        else:
            n, status = int(m.group(1)), 200
            edition = self.server.edition.get(n, "A")
            links = "".join(
                f'<a href="/many/{c}/">page {c}</a> ' for c in (2 * n, 2 * n + 1) if c <= PAGES
            )
            body = (
                f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                f'<title>Review {n}</title><meta property="og:type" content="article"></head>'
                f"<body><article><h1>Review {n}</h1><p>Review {n}, edition {edition}. "
                + "A steady paragraph about the film. " * 30
                + f"</p></article>{links}</body></html>"
            ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@dataclass
class Crawled:
    data: Path
    base_url: str
    #: The WARC files each of the three crawls added.
    warcs_by_crawl: list[list[str]]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    site = EditableSite()
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    data = tmp_path_factory.mktemp("editions") / "data"
    editions = [
        {},
        {n: "B" for n in range(1, PAGES + 1) if n % 2 == 0},
        {n: "A" if n % 4 == 0 else "C" for n in range(1, PAGES + 1) if n % 2 == 0},
    ]
    warcs_by_crawl: list[list[str]] = []
    try:
        for edition in editions:
            site.edition = edition
            before = set(os.listdir(data / "warcs")) if (data / "warcs").exists() else set()
            result = run_reviewarc(
                "crawl", site.base_url + "/many/1/", "--data", str(data),
                "--set", f"REVIEWARC_WARC_MAX_SIZE={WARC_MAX_SIZE}",
            )  # fmt: skip
            assert result.returncode == 0, result.stderr[-3000:]
            warcs_by_crawl.append(sorted(set(os.listdir(data / "warcs")) - before))
        yield Crawled(data, site.base_url, warcs_by_crawl)
    finally:
        site.shutdown()
        site.server_close()


def rows(db_path: Path, query: str) -> list[tuple]:
    archive = ArchiveDB.open_readonly(db_path)
    try:
        return archive.db.execute(query).fetchall()
    finally:
        archive.close()


TABLES = ("captures", "articles", "article_versions", "tags", "sites", "authors",
          "article_tags", "failures", "crawls")  # fmt: skip


def raw(data: Path) -> dict[str, list[tuple]]:
    """Every row of every table, ids included."""
    return {t: rows(data / "archive.db", f"select * from [{t}] order by 1, 2") for t in TABLES}


#: A capture named by where its record is, not by its id.
_AT = "(select warc_file || '@' || warc_offset from captures where id = {})"


def by_content(data: Path, *, crawl_columns: bool = True) -> dict[str, list[tuple]]:
    """Every column of every table but the ids, with each id that points at another row
    replaced by what identifies that row (a capture by its WARC file and offset, an article by
    its URL, a tag, site or author by its name). ``crawl_columns=False`` leaves out what only a
    crawl knows: the request record and the crawl of a capture (reprocess reads response and
    revisit records and has no crawl) and the failures table (fetch failures)."""
    crawl = ", crawl_id, request_offset, request_length" if crawl_columns else ""
    queries = {
        "captures": (
            "select url, fetched_at, status, content_type, record_type, payload_digest, "
            "payload_length, warc_file, warc_offset, warc_length, warc_record_id, ip_address, "
            f"etag, last_modified, {_AT.format('c.refers_to_id')}{crawl} from captures c"
        ),
        "articles": (
            "select url, canonical_url, title, author, published, modified, site_name, "
            "language, text, description, rating_value, rating_best, rating_worst, "
            "item_reviewed, item_reviewed_type, detected_by, text_hash, extractor, first_seen, "
            f"last_seen, {_AT.format('a.capture_id')}, "
            "(select host from sites where id = a.site_id), "
            "(select name from authors where id = a.author_id) from articles a"
        ),
        "article_versions": (
            "select (select url from articles where id = v.article_id), url, title, text, "
            f"text_hash, first_seen, last_seen, {_AT.format('v.capture_id')}, extractor "
            "from article_versions v"
        ),
        "tags": "select name from tags",
        "sites": "select host, name from sites",
        "authors": "select name from authors",
        "article_tags": (
            "select (select url from articles where id = x.article_id), "
            "(select name from tags where id = x.tag_id) from article_tags x"
        ),
        "failures": (
            f"select url, kind, status, reason, {_AT.format('f.capture_id')} from failures f"
        ),
    }
    if not crawl_columns:
        del queries["failures"]
    return {t: sorted(rows(data / "archive.db", q), key=repr) for t, q in queries.items()}


def copy_warcs(crawled: Crawled, dest: Path) -> Path:
    shutil.copytree(crawled.data / "warcs", dest / "warcs")
    return dest


def reprocess(data: Path) -> str:
    result = run_reviewarc("reprocess", "--data", str(data))
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return result.stdout


def test_crawl_keeps_one_version_per_distinct_body(crawled: Crawled) -> None:
    db = crawled.data / "archive.db"
    versions: dict[int, list[tuple]] = {}
    for url, text, first_seen, last_seen in rows(
        db, "select url, text, first_seen, last_seen from article_versions order by first_seen"
    ):
        n = int(_PAGE.match(url[len(crawled.base_url) :]).group(1))  # type: ignore[union-attr]
        edition = re.search(r"edition (\w)", text).group(1)  # type: ignore[union-attr]
        versions.setdefault(n, []).append((edition, first_seen, last_seen))
    assert len(versions) == PAGES
    for n, seen in versions.items():
        editions = [edition for edition, _, _ in seen]
        if n % 4 == 0:  # A -> B -> A: two distinct bodies, A seen again after B
            assert editions == ["A", "B"], n
            (a_first, a_last), (b_first, b_last) = seen[0][1:], seen[1][1:]
            assert a_first < b_first <= b_last < a_last, n
        elif n % 4 == 2:
            assert editions == ["A", "B", "C"], n
        else:
            assert editions == ["A"], n
    articles = dict(rows(db, "select url, text from articles"))
    page_4 = articles[crawled.base_url + "/many/4/"]
    assert "edition A" in page_4  # the article holds its latest body


@dataclass
class Rebuilt:
    data: Path
    output: str


@pytest.fixture(scope="module")
def rebuilt(crawled: Crawled, tmp_path_factory: pytest.TempPathFactory) -> Rebuilt:
    """One reprocess of the three crawls' WARC files into a new database, shared by the
    tests that only read it (the run takes seconds)."""
    data = copy_warcs(crawled, tmp_path_factory.mktemp("rebuilt"))
    return Rebuilt(data, reprocess(data))


def test_reprocess_twice_changes_nothing(
    crawled: Crawled, rebuilt: Rebuilt, tmp_path: Path
) -> None:
    first = rebuilt.output
    assert f"{PAGES} new articles" in first
    once = raw(rebuilt.data)
    data = tmp_path / "data"
    shutil.copytree(rebuilt.data, data)  # the second run on a copy: rebuilt stays as it was
    second = reprocess(data)
    assert "0 captures added" in second
    assert "0 new articles, 0 new versions" in second
    assert raw(data) == once
    # And reprocess agrees with the crawl on every article, version, tag, site and author.
    assert by_content(data, crawl_columns=False) == by_content(crawled.data, crawl_columns=False)


def test_reprocess_again_over_the_crawls_database_changes_nothing(
    crawled: Crawled, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(crawled.data, data)
    before = raw(data)
    out = reprocess(data)
    assert "0 captures added" in out and "0 new articles, 0 new versions" in out
    assert raw(data) == before


def committed_files(data: Path) -> int:
    """WARC files reprocess has committed (it indexes each in one transaction). Read on the
    bare read-only connection: :meth:`ArchiveDB.open_readonly` would migrate a database whose
    schema reprocess has not committed yet, writing beside it."""
    try:
        con = connect_readonly(DataDir(data).db_path)
    except sqlite3.Error:  # not created yet
        return 0
    try:
        return con.execute("select count(distinct warc_file) from captures").fetchone()[0]
    except sqlite3.Error:  # its schema not yet committed
        return 0
    finally:
        con.close()


def test_killed_reprocess_then_rerun_equals_a_clean_run(
    crawled: Crawled, rebuilt: Rebuilt, tmp_path: Path
) -> None:
    clean = rebuilt.data
    killed = copy_warcs(crawled, tmp_path / "killed")
    total = sum(len(files) for files in crawled.warcs_by_crawl)
    # Kill once the first crawl's files and one of the second's are in: bodies that have a
    # later version are then stored, and the rerun stores their earlier captures again.
    wanted = len(crawled.warcs_by_crawl[0]) + 1
    assert wanted < total - 2
    proc = subprocess.Popen(
        [str(BIN / "reviewarc"), "reprocess", "--data", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the extraction workers die with it
    )
    try:
        wait_until(
            lambda: committed_files(killed) >= wanted, 120,
            f"reprocess committing {wanted} WARC files before it is killed", process=proc,
            interval=0.01,
        )  # fmt: skip
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    done = committed_files(killed)
    assert wanted <= done < total, "the kill did not land part-way"

    reprocess(killed)
    assert by_content(killed) == by_content(clean)
    # Nothing of the killed run's last transaction reached the file, and SQLite gives a new
    # row max(id) + 1 (no table uses AUTOINCREMENT), so even the ids are those of the clean
    # run.
    assert raw(killed) == raw(clean)


def test_migration_merges_the_versions_earlier_releases_repeated(tmp_path: Path) -> None:
    """An archive.db written before migration 5 (a body repeated in article_versions) keeps
    one row per body, its first sighting, and when it was last seen."""
    db = connect(tmp_path / "archive.db")
    for number, migration in enumerate(MIGRATIONS[:4], start=1):
        migration(db)
        db.execute(f"PRAGMA user_version = {number}")
    article = {"url": "http://s.test/r/", "text": "A", "text_hash": "hash-a",
               "first_seen": "2026-01-01", "last_seen": "2026-05-01"}  # fmt: skip
    article_id = db["articles"].insert(article).last_pk
    for text, seen in (("A", "2026-01-01"), ("B", "2026-02-01"), ("A", "2026-03-01"),
                       ("B", "2026-04-01"), ("A", "2026-04-15")):  # fmt: skip
        db["article_versions"].insert(
            {"article_id": article_id, "url": article["url"], "text": text,
             "text_hash": f"hash-{text.lower()}", "first_seen": seen}
        )  # fmt: skip
    db.conn.commit()
    ArchiveDB(db)
    assert rows(
        tmp_path / "archive.db",
        "select text, first_seen, last_seen from article_versions order by first_seen",
    ) == [("A", "2026-01-01", "2026-05-01"), ("B", "2026-02-01", "2026-04-01")]
    with pytest.raises(sqlite3.IntegrityError):
        db["article_versions"].insert(
            {"article_id": article_id, "text_hash": "hash-a", "first_seen": "2026-06-01"}
        )
    db.close()


def test_versions_do_not_depend_on_the_order_captures_are_stored(tmp_path: Path) -> None:
    """``reprocess --new`` of WARC files older than the ones indexed stores earlier captures
    last: the versions and the article's body come out as if stored in order."""
    url = "http://s.test/r/"
    sightings = [(1, "2026-01-01", "A"), (2, "2026-02-01", "B"), (3, "2026-03-01", "A"),
                 (4, "2026-04-01", "C")]  # fmt: skip
    versions = "select text, title, first_seen, last_seen, capture_id from article_versions"
    results = set()
    for number, order in enumerate(permutations(sightings)):
        db = connect(tmp_path / f"{number}.db")
        archive, store = ArchiveDB(db), ArticleStore(db)
        for capture, seen_at, text in order:
            capture_id = db["captures"].insert({"id": capture, "url": url}).last_pk
            store.save(Article(url, f"Title {text}", text), capture_id, seen_at)
        article = db.execute("select text, first_seen, last_seen from articles").fetchall()
        results.add((tuple(db.execute(versions + " order by 3").fetchall()), tuple(article)))
        archive.close()
    assert results == {
        (
            (
                ("A", "Title A", "2026-01-01", "2026-03-01", 1),
                ("B", "Title B", "2026-02-01", "2026-02-01", 2),
                ("C", "Title C", "2026-04-01", "2026-04-01", 4),
            ),
            (("C", "2026-01-01", "2026-04-01"),),
        )
    }
