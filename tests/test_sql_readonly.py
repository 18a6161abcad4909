"""``reviewarc sql`` only reads: nothing a query says writes the archive or any other file."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from archive.articles import Article, ArticleStore
from archive.database import ArchiveDB, CaptureRow
from tests.conftest import run_reviewarc

URL = "http://reviews.example/reviews/lighthouse/"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data directory whose archive.db holds one capture and one review."""
    data = tmp_path / "data"
    data.mkdir()
    archive = ArchiveDB.open(data / "archive.db")
    capture = archive.add_capture(
        CaptureRow(URL, "2026-12-01T08:09:10.5Z", 200, "text/html", "response",
                   "sha1:X", 10, "x.warc.gz", 0, 10, "<urn:uuid:x>")
    )  # fmt: skip
    ArticleStore(archive.db).save(
        Article(url=URL, title="The Lighthouse", text="A slow burn of a harbour thriller."),
        capture,
        "2026-12-01T08:09:10.5Z",
    )
    archive.close()
    return data


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` and a checksum of its bytes, leaving out the shared-memory
    index and the write-ahead log that any reader of a WAL database (``reviewarc search``
    too) may create beside it: :func:`unchanged` checks those."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(("-shm", "-wal"))
    }


def unchanged(data: Path, before: dict[str, str]) -> None:
    assert snapshot(data.parent) == before  # no new file, archive.db byte for byte as it was
    wal = data / "archive.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # and no change waiting in its log


def sql(data: Path, query: str, *options: str):
    return run_reviewarc("sql", query, *options, "--data", str(data), timeout=60)


REFUSED = [
    "VACUUM INTO '{tmp}/copy.db'",
    "vacuum main into '{tmp}/copy2.db'",
    "ATTACH DATABASE '{tmp}/other.db' AS other",
    "attach 'file:{tmp}/uri.db?mode=rwc' as u",
    f"insert into articles (url, title, text) values ('{URL}x', 't', 'x')",
    "update articles set title = 'defaced'",
    "delete from captures",
    "with doomed as (select id from articles) delete from articles where id in doomed",
    "drop table articles",
    "create table notes (x)",
    "create temp table notes (x)",
    "create index notes_idx on articles (title)",
    "alter table articles add column defaced text",
    "PRAGMA writable_schema = 1",
    "pragma journal_mode = delete",
    "pragma user_version = 99",
    "pragma query_only = 0",
    "select load_extension('{tmp}/evil.so')",
    "analyze",
    "begin immediate",
]


@pytest.mark.parametrize("query", REFUSED, ids=[q.split(" (")[0][:40] for q in REFUSED])
def test_writing_statements_are_refused(data: Path, query: str) -> None:
    tmp = data.parent
    before = snapshot(tmp)
    result = sql(data, query.format(tmp=tmp))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "reviewarc sql is read-only" in lines[0] and "not allowed" in lines[0], lines[0]
    assert result.stdout == ""
    unchanged(data, before)


def test_reads_still_work(data: Path) -> None:
    out = sql(data, "select url, title from articles", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"url": URL, "title": "The Lighthouse"}]

    cte = (
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < 3),"
        " rated as (select a.title, c.status from articles a"
        " join captures c on c.id = a.capture_id)"
        " select i, title, status from n, rated order by i"
    )
    out = sql(data, cte, "--csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == ["i", "title", "status"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"] and rows[1][1:] == ["The Lighthouse", "200"]

    fts = (
        "select a.url, snippet(articles_fts, 1, '[', ']', '…', 8) as snip from articles_fts"
        " join articles a on a.id = articles_fts.rowid where articles_fts match 'harbour'"
        " order by bm25(articles_fts)"
    )
    out = sql(data, fts, "--json")
    assert out.returncode == 0, out.stderr
    [hit] = json.loads(out.stdout)
    assert hit["url"] == URL and "[harbour]" in hit["snip"]

    # Looking at the schema is reading too.
    for query in (
        "pragma table_info(articles)",
        "select name from pragma_table_info('articles') where name = 'title'",
        "pragma user_version",
        "select name from sqlite_master where name = 'articles'",
        "select value from json_each('[1, 2]')",
    ):
        out = sql(data, query, "--json")
        assert out.returncode == 0 and json.loads(out.stdout), (query, out.stderr)

    out = sql(data, "select nope from articles")
    assert out.returncode != 0 and "no such column" in out.stderr
    assert "Traceback" not in out.stderr
