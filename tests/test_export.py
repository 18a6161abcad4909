"""Export: articles as JSON Lines and CSV, the whole archive as WACZ (`wacz validate`d)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from archive import export
from archive.database import ArchiveDB
from archive.errors import ArchiveError
from archive.export import (
    PAGES_HEADER,
    ExportError,
    export_csv,
    export_jsonl,
    export_wacz,
)
from tests.conftest import BIN, Crawl, reading

KOREAN = "등대지기"  # in the body of /articles/ko/review.euc-kr.html
FIELDS = {"url", "title", "text", "rating_value", "tags", "fetched_at", "warc_file", "warc_offset"}


@pytest.fixture(scope="module")
def crawl(articles: Crawl) -> Crawl:
    """The shared crawl of tests/site/articles/ (see conftest)."""
    return articles


@pytest.fixture
def db(crawl: Crawl) -> Iterator[Database]:
    with reading(crawl.data) as database:
        yield database


@pytest.fixture
def empty_db(tmp_path: Path) -> Iterator[Database]:
    archive = ArchiveDB.open(tmp_path / "archive.db")  # migrated, no rows
    yield archive.db
    archive.close()


def article_rows(db: Database) -> list[dict]:
    return list(
        db.query(
            "select a.url, a.title, c.fetched_at, c.warc_file from articles a "
            "join captures c on c.id = a.capture_id"
        )
    )


def stored_tags(db: Database, url: str) -> list[str]:
    return [
        name
        for (name,) in db.execute(
            "select t.name from article_tags at join tags t on t.id = at.tag_id "
            "join articles a on a.id = at.article_id where a.url = ? order by at.rowid",
            [url],
        )
    ]


def by_article_path(records: list[dict]) -> dict[str, dict]:
    return {r["url"].split("/", 3)[3]: r for r in records}


def wacz_validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "wacz"), "validate", "-f", str(path)], capture_output=True, text=True
    )


def read_pages(path: Path) -> list[dict]:
    with zipfile.ZipFile(path) as zf:
        return [json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines()]


# -- JSON Lines and CSV ------------------------------------------------------------------------


def test_jsonl_has_one_object_per_article(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "articles.jsonl"
    count = export_jsonl(db, out)
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    rows = {r["url"]: r for r in article_rows(db)}
    assert count == len(records) == len(rows) >= 8
    assert {r["url"] for r in records} == rows.keys()
    for record in records:
        assert FIELDS <= record.keys()
        assert not {"id", "site_id", "author_id", "capture_id"} & record.keys()
        assert isinstance(record["tags"], list)
        assert record["fetched_at"] == rows[record["url"]]["fetched_at"]
        assert record["warc_file"] == rows[record["url"]]["warc_file"]
    by_path = by_article_path(records)
    assert by_path["articles/critic/"]["rating_value"] == 4
    blog = by_path["articles/blog-theme/"]
    assert blog["tags"] == stored_tags(db, blog["url"]) and "thriller" in blog["tags"]


def test_jsonl_keeps_korean_text(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "articles.jsonl"
    export_jsonl(db, out)
    raw = out.read_bytes()
    assert KOREAN.encode("utf-8") in raw  # written as UTF-8, not as \u escapes
    (korean,) = [json.loads(line) for line in raw.splitlines() if b'"language": "ko"' in line]
    stored = db.execute("select title, text from articles where language = 'ko'").fetchone()
    assert (korean["title"], korean["text"]) == stored
    assert KOREAN in korean["text"]


def test_csv_has_header_and_one_row_per_article(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "articles.csv"
    count = export_csv(db, out)
    with open(out, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        header = reader.fieldnames or []
    assert header == export.export_fields(db)
    assert FIELDS <= set(header) and "site_id" not in header
    assert count == len(rows) == len(article_rows(db))
    by_path = by_article_path(rows)
    blog = by_path["articles/blog-theme/"]
    assert blog["tags"] == ";".join(stored_tags(db, blog["url"])) and "thriller;" in blog["tags"]
    assert float(by_path["articles/critic/"]["rating_value"]) == 4
    korean = next(r for r in rows if r["language"] == "ko")
    assert KOREAN in korean["text"] and "\n" in korean["text"]  # multi-line cells survive


def test_empty_archive_gives_empty_jsonl_and_header_only_csv(
    empty_db: Database, tmp_path: Path
) -> None:
    assert export_jsonl(empty_db, tmp_path / "a.jsonl") == 0
    assert (tmp_path / "a.jsonl").read_bytes() == b""
    assert export_csv(empty_db, tmp_path / "a.csv") == 0
    lines = (tmp_path / "a.csv").read_text("utf-8").splitlines()
    assert lines == [",".join(export.export_fields(empty_db))]
    assert list(csv.DictReader(io.StringIO((tmp_path / "a.csv").read_text("utf-8")))) == []


# -- output paths ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["jsonl", "csv", "wacz"])
def test_missing_directory_is_an_archive_error(crawl: Crawl, db: Database, kind: str) -> None:
    target = crawl.data.parent / "no-such-dir" / f"out.{kind}"
    with pytest.raises(ArchiveError, match="does not exist"):
        if kind == "wacz":
            export_wacz(db, crawl.data / "warcs", target)
        else:
            {"jsonl": export_jsonl, "csv": export_csv}[kind](db, target)
    assert not target.parent.exists()


def test_directory_or_database_as_output_is_refused(crawl: Crawl, db: Database) -> None:
    with pytest.raises(ExportError, match="is a directory"):
        export_jsonl(db, crawl.data)
    with pytest.raises(ExportError, match="database"):
        export_csv(db, crawl.data / "archive.db")
    assert sorted(p.name for p in crawl.data.iterdir() if p.name.endswith(".tmp")) == []


def test_failed_export_keeps_the_old_file(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "articles.jsonl"
    out.write_text("old\n")

    def broken(record: dict) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(export, "jsonl_line", broken)
    with pytest.raises(RuntimeError):
        export_jsonl(db, out)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["articles.jsonl"]  # no temp file left


# -- WACZ ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wacz_file(crawl: Crawl, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    out = tmp_path_factory.mktemp("wacz") / "reviews.wacz"
    with reading(crawl.data) as database:
        count = export_wacz(database, crawl.data / "warcs", out, title="Fixture reviews")
    return out, count


def test_wacz_passes_validation(wacz_file: tuple[Path, int]) -> None:
    out, _ = wacz_file
    check = wacz_validate(out)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    assert "Validation succeeded" in check.stdout
    with zipfile.ZipFile(out) as zf:
        datapackage = json.loads(zf.read("datapackage.json"))
        names = set(zf.namelist())
    assert datapackage["wacz_version"] == "1.1.1"
    assert datapackage["title"] == "Fixture reviews"
    assert {"indexes/index.cdx.gz", "indexes/index.idx", "pages/pages.jsonl"} <= names
    assert all(r["hash"].startswith("sha256:") for r in datapackage["resources"])


def test_wacz_holds_every_closed_warc(crawl: Crawl, wacz_file: tuple[Path, int]) -> None:
    out, _ = wacz_file
    assert crawl.warcs
    with zipfile.ZipFile(out) as zf:
        archived = {i.filename: i for i in zf.infolist() if i.filename.startswith("archive/")}
        assert set(archived) == {f"archive/{p.name}" for p in crawl.warcs}
        for path in crawl.warcs:
            info = archived[f"archive/{path.name}"]
            assert info.compress_type == zipfile.ZIP_STORED  # WACZ: WARCs stored as they are
            assert zf.read(info) == path.read_bytes()


def test_wacz_pages_list_the_articles(db: Database, wacz_file: tuple[Path, int]) -> None:
    out, count = wacz_file
    header, *pages = read_pages(out)
    assert header == PAGES_HEADER
    rows = {r["url"]: r for r in article_rows(db)}
    assert count == len(pages) == len(rows)
    assert sorted(p["url"] for p in pages) == sorted(rows)
    for page in pages:
        assert page["ts"] == rows[page["url"]]["fetched_at"]
        assert page["title"] == rows[page["url"]]["title"]
        assert "text" not in page
    assert "바다의 기억 리뷰: 조용한 파도의 영화" in {p["title"] for p in pages}


def test_wacz_index_has_each_page_capture(wacz_file: tuple[Path, int]) -> None:
    out, _ = wacz_file
    with zipfile.ZipFile(out) as zf:
        cdxj = gzip.decompress(zf.read("indexes/index.cdx.gz")).decode("utf-8")
    indexed = set()
    for line in cdxj.splitlines():
        _, timestamp, fields = line.split(" ", 2)
        indexed.add((json.loads(fields)["url"], timestamp))
    for page in read_pages(out)[1:]:
        digits = "".join(ch for ch in page["ts"] if ch.isdigit())
        assert (page["url"], digits[:14]) in indexed, page


def test_wacz_skips_open_warcs(crawl: Crawl, db: Database, tmp_path: Path) -> None:
    warcs = tmp_path / "warcs"
    shutil.copytree(crawl.data / "warcs", warcs)
    still_open = warcs / "reviewarc-29990101000000000-00099.warc.gz.open"
    still_open.write_bytes(b"half a record")
    out = tmp_path / "out.wacz"
    export_wacz(db, warcs, out)
    with zipfile.ZipFile(out) as zf:
        archived = {n for n in zf.namelist() if n.startswith("archive/")}
    assert archived == {f"archive/{p.name}" for p in crawl.warcs}
    assert wacz_validate(out).returncode == 0


def test_wacz_without_articles_is_valid_with_header_only_pages(
    crawl: Crawl, empty_db: Database, tmp_path: Path
) -> None:
    warcs = tmp_path / "warcs"
    warcs.mkdir()
    shutil.copy(crawl.warcs[0], warcs)
    out = tmp_path / "empty.wacz"
    assert export_wacz(empty_db, warcs, out) == 0
    assert read_pages(out) == [PAGES_HEADER]
    check = wacz_validate(out)
    assert check.returncode == 0, check.stdout[-3000:]


def test_wacz_without_warcs_is_an_archive_error(empty_db: Database, tmp_path: Path) -> None:
    warcs = tmp_path / "warcs"
    warcs.mkdir()
    (warcs / "reviewarc-29990101000000000-00000.warc.gz.open").write_bytes(b"")
    with pytest.raises(ArchiveError, match="no closed WARC files"):
        export_wacz(empty_db, warcs, tmp_path / "out.wacz")
    with pytest.raises(ArchiveError, match="does not exist"):
        export_wacz(empty_db, tmp_path / "missing", tmp_path / "out.wacz")
    assert not (tmp_path / "out.wacz").exists()
