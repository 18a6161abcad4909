"""`reviewarc reprocess`: the database rebuilt from the WARC files alone."""

from __future__ import annotations

import shutil
import tempfile
from io import BytesIO
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.warc_reader import iter_records
from tests.conftest import Crawl, run_reviewarc

CAPTURE_COLUMNS = (
    "url, fetched_at, status, content_type, record_type, payload_digest, payload_length, "
    "warc_file, warc_offset, warc_length, warc_record_id"
)
ARTICLE_COLUMNS = (
    "a.url, a.canonical_url, a.title, a.author, a.published, a.modified, a.site_name, "
    "a.language, a.text, a.rating_value, a.rating_best, a.rating_worst, a.item_reviewed, "
    "a.item_reviewed_type, a.detected_by, a.extractor, c.warc_file, c.warc_offset"
)


def snapshot(crawl: Crawl) -> dict[str, list]:
    return {
        "captures": crawl.sql(
            f"select {CAPTURE_COLUMNS} from captures order by warc_file, warc_offset"
        ),
        "articles": crawl.sql(
            f"select {ARTICLE_COLUMNS} from articles a join captures c on c.id = a.capture_id "
            "order by a.url"
        ),
        "versions": crawl.sql(
            "select v.url, v.text_hash, v.first_seen, c.warc_offset from article_versions v "
            "join captures c on c.id = v.capture_id order by v.url, v.first_seen"
        ),
        "tags": crawl.sql(
            "select a.url, t.name from article_tags x join articles a on a.id = x.article_id "
            "join tags t on t.id = x.tag_id order by 1, 2"
        ),
    }


@pytest.fixture(scope="module")
def rebuilt(articles: Crawl, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    data = tmp_path_factory.mktemp("reprocess") / "data"
    shutil.copytree(articles.data / "warcs", data / "warcs")
    result = run_reviewarc("reprocess", "--data", str(data))
    assert result.returncode == 0, result.stderr[-3000:]
    return Crawl(result, data, articles.server)


def test_reprocess_equals_the_crawl(articles: Crawl, rebuilt: Crawl) -> None:
    crawled, again = snapshot(articles), snapshot(rebuilt)
    for table in crawled:
        assert again[table] == crawled[table], table
    assert len(crawled["articles"]) >= 8


def test_second_run_changes_nothing(rebuilt: Crawl) -> None:
    before = snapshot(rebuilt)
    result = run_reviewarc("reprocess", "--data", str(rebuilt.data))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "0 captures added" in result.stdout and "0 new articles" in result.stdout
    assert snapshot(rebuilt) == before


def test_new_mode_skips_indexed_files(rebuilt: Crawl) -> None:
    result = run_reviewarc("reprocess", "--new", "--data", str(rebuilt.data))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("0 WARC file(s)")


def test_interrupted_reprocess_leaves_no_half_indexed_file(
    articles: Crawl, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed part-way through a WARC file, reprocess keeps none of that file's rows, so
    ``--new`` takes the whole file up again and ends where a full run would."""
    from archive.articles import ArticleStore
    from archive.datadir import DataDir
    from pipelines import reprocess as reprocess_module

    data = tmp_path / "data"
    shutil.copytree(articles.data / "warcs", data / "warcs")
    saves = 0
    real_save = ArticleStore.save

    def save_then_die(self, *args, **kwargs):
        nonlocal saves
        saves += 1
        if saves == 3:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the file
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(ArticleStore, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        reprocess_module.reprocess(DataDir(data), workers=0)
    monkeypatch.undo()
    partial = Crawl(None, data, articles.server)  # type: ignore[arg-type]
    indexed = {
        row["warc_file"]: row["n"]
        for row in partial.sql("select warc_file, count(*) as n from captures group by 1")
    }
    counts = []
    for path in partial.warcs:
        records = [r for r in iter_records(path) if r.record_type in ("response", "revisit")]
        counts.append(indexed.get(path.name, 0))
        assert indexed.get(path.name, 0) in (0, len(records)), path.name
    assert 0 in counts  # the interrupted file

    result = run_reviewarc("reprocess", "--new", "--data", str(data))
    assert result.returncode == 0, result.stderr[-2000:]
    assert snapshot(Crawl(result, data, articles.server)) == snapshot(articles)


def test_a_damaged_warc_file_is_indexed_up_to_the_damage() -> None:
    """A WARC file from elsewhere that breaks part-way (a member that is not gzip, as a
    recompressing tool can leave) is indexed up to the break, the rest said in one line.
    (Outside pytest's temporary directory, whose WARCs must all pass warcio check.)"""
    with tempfile.TemporaryDirectory() as tmp:
        reprocess_damaged(Path(tmp))


def reprocess_damaged(tmp_path: Path) -> None:
    (tmp_path / "warcs").mkdir()
    path = tmp_path / "warcs" / "elsewhere-20260101000000000-00000.warc.gz"
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        body = b"<html><head><title>Kept</title></head><body><p>Before the break.</p></body></html>"
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            "http://elsewhere.test/kept", "response", payload=BytesIO(body),
            length=len(body), http_headers=headers,
        ))  # fmt: skip
        out.write(b"<!doctype html><p>not a WARC record at all</p>")
    result = run_reviewarc("reprocess", "--data", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stdout + result.stderr
    assert "unreadable: not a WARC or ARC record" in result.stdout + result.stderr
    crawl = Crawl(result, tmp_path, None)  # type: ignore[arg-type]
    assert [r["url"] for r in crawl.sql("select url from captures")] == [
        "http://elsewhere.test/kept"
    ]
