"""``reviewarc index``: the closed WARC files of a distributed crawl's workers, and the records
they write about their runs (failures, ends), indexed into ``DIR/archive.db``."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.exchange import Exchange, RequestHead, ResponseHead
from archive.readonly import connect_readonly
from archive.run_records import failure_fields, run_end_fields, run_uri, warcinfo_run_fields
from archive.warc_reader import iter_records, warcinfo_fields
from archive.warc_writer import OPEN_SUFFIX, WARCFileWriter
from tests.conftest import BIN, read_sql, run_reviewarc, wait_until, warcio_check

WHEN = datetime(2026, 3, 14, 9, 30, 0, 123456, tzinfo=UTC)


def fixed_writer(directory: Path, **kwargs) -> WARCFileWriter:
    ids = (f"<urn:uuid:00000000-0000-4000-8000-{n:012d}>" for n in itertools.count(1))
    kwargs.setdefault("warcinfo", {"software": "reviewarc-test"})
    return WARCFileWriter(directory, clock=lambda: WHEN, record_id=lambda: next(ids), **kwargs)


def test_name_suffix_is_made_safe(tmp_path: Path) -> None:
    with fixed_writer(tmp_path, name_suffix="w 1/é") as writer:
        writer.write_metadata("urn:x", [("a", "b")])
    (path,) = tmp_path.iterdir()
    assert path.name == "reviewarc-20260314093000123-00000-w_1__.warc.gz"
    with fixed_writer(tmp_path / "plain") as writer:
        writer.write_metadata("urn:x", [("a", "b")])
    assert [p.name for p in (tmp_path / "plain").iterdir()] == [
        "reviewarc-20260314093000123-00000.warc.gz"
    ]


def test_metadata_records_read_back_and_pass_warcio_check(tmp_path: Path) -> None:
    with fixed_writer(tmp_path, name_suffix="w1") as writer:
        failure = writer.write_metadata(
            "http://site.test/gone",
            failure_fields("http", "404 Not Found\r\nsecond line", 404),
            refers_to="<urn:uuid:00000000-0000-4000-8000-999999999999>",
        )
        end = writer.write_metadata(run_uri("abc123"), run_end_fields("finished", 7, "w1", True))
        assert writer.current_name == failure.warc_file
        closed = writer.close()
    path = tmp_path / closed
    assert path.is_file() and closed.endswith("-w1.warc.gz")  # metadata alone: kept
    records = list(iter_records(path))
    assert [r.record_type for r in records] == ["warcinfo", "metadata", "metadata"]
    assert [(r.offset, r.length) for r in records[1:]] == [
        (failure.offset, failure.length),
        (end.offset, end.length),
    ]
    first = records[1]
    assert first.header("Content-Type") == "application/warc-fields"
    assert first.header("WARC-Refers-To") == "<urn:uuid:00000000-0000-4000-8000-999999999999>"
    assert first.header("WARC-Target-URI") == "http://site.test/gone"
    assert first.payload == (
        b"reviewarc-failure: http\r\nreviewarc-reason: 404 Not Found second line\r\n"
        b"reviewarc-status: 404\r\n"
    )
    assert warcinfo_fields(records[2]) == {
        "reviewarc-run-end": "finished",
        "reviewarc-pages": "7",
        "reviewarc-worker": "w1",
        "reviewarc-last": "yes",
    }
    assert records[2].header("WARC-Refers-To") is None
    assert warcio_check([path]).returncode == 0, warcio_check([path]).stdout


def test_capture_store_writes_metadata_and_seals_in_the_writer_thread(tmp_path: Path) -> None:
    from archive.capture_store import CaptureStore
    from archive.database import ArchiveDB, connect
    from tests.test_warc_writer import exchange

    store = CaptureStore(fixed_writer(tmp_path, name_suffix="w1"), ArchiveDB(connect(memory=True)))

    async def capture_then_fail() -> tuple:
        captured = await store.capture_async(exchange(url="http://site.test/gone"))
        note = store.record_metadata(
            captured.url, failure_fields("http", "404", 404), refers_to=captured.record_id
        )
        return captured, note

    captured, note = asyncio.run(capture_then_fail())
    assert note.warc_file == captured.warc_file and note.offset > captured.warc_offset
    sealed = store.seal()
    assert sealed == captured.warc_file and (tmp_path / sealed).is_file()
    assert store.seal() is None  # nothing open
    again = store.record_metadata(run_uri("r1"), run_end_fields("finished", 1, "w1", True))
    assert again.warc_file != sealed
    store.close()
    kinds = [[r.record_type for r in iter_records(p)] for p in sorted(tmp_path.iterdir())]
    assert kinds == [["warcinfo", "response", "request", "metadata"], ["warcinfo", "metadata"]]


# -- reviewarc index over two workers' directories ----------------------------------------

RUN = "5f0c3a9e"
SEEDS = ["http://site.test/", "http://site.test/more/"]


def review(title: str) -> bytes:
    body = f"{title}: a long and careful look at the thing under review. " * 14
    return (
        f'<!DOCTYPE html><html lang="en"><head><title>{title}</title>'
        '<meta property="og:type" content="article"></head>'
        f"<body><article><h1>{title}</h1><p>By Ada Critic</p><p>{body}</p></article>"
        "</body></html>"
    ).encode()


def page(url: str, body: bytes, status: int = 200, when: datetime = WHEN) -> Exchange:
    headers = [(b"Content-Type", b"text/html; charset=utf-8"),
               (b"Content-Length", str(len(body)).encode())]  # fmt: skip
    reason = b"OK" if status == 200 else b"Not Found"
    return Exchange(
        url=url,
        date=when,
        request=RequestHead(b"GET", url, [(b"User-Agent", b"ua")]),
        response=ResponseHead(status, headers, b"HTTP/1.1", reason, raw=True),
        body=body,
        ip_address="192.0.2.7",
    )


def worker_writer(data: Path, worker: str, minutes: int, under: str = "warcs") -> WARCFileWriter:
    ids = (f"<urn:uuid:{worker:0>8}-0000-4000-8000-{n:012d}>" for n in itertools.count(1))
    warcinfo = {"software": "reviewarc-test", "isPartOf": "fixture",
                **warcinfo_run_fields(RUN, "source:fixture", SEEDS, worker)}  # fmt: skip
    moment = WHEN + timedelta(minutes=minutes)
    return WARCFileWriter(
        data / "workers" / worker / under, warcinfo=warcinfo, name_suffix=worker,
        clock=lambda: moment, record_id=lambda: next(ids),
    )  # fmt: skip


@pytest.fixture
def workers(tmp_path: Path) -> Path:
    """Two workers' directories: w1 archived two reviews and a 404 page, failed twice and
    ended; w2 archived a review and ended last; w2 also has a file still being written and
    a superseded one."""
    data = tmp_path / "data"
    with worker_writer(data, "w1", 0) as w1:
        w1.write_exchange(page("http://site.test/r/1/", review("First review")))
        w1.write_exchange(page("http://site.test/r/2/", review("Second review")))
        gone = w1.write_exchange(page("http://site.test/gone/", b"<p>gone</p>", 404))
        w1.write_metadata("http://site.test/gone/", failure_fields("http", "404 Not Found", 404),
                          refers_to=gone.response.record_id)  # fmt: skip
        w1.write_metadata("http://nowhere.test/", failure_fields("dns", "no such host"))
        w1.write_metadata(run_uri(RUN), run_end_fields("shutdown", 3, "w1", last=False))
    with worker_writer(data, "w2", 5) as w2:
        w2.write_exchange(page("http://site.test/r/3/", review("Third review")))
        w2.write_metadata(run_uri(RUN), run_end_fields("finished", 1, "w2", last=True))
    open_writer = worker_writer(data, "w2", 9)
    open_writer.write_exchange(page("http://site.test/open/", review("Still open")))
    # the ".open" file is left as a live worker leaves it (its handle is closed, not renamed)
    open_writer._fh.close()  # type: ignore[union-attr]
    with worker_writer(data, "w2", 7, under="superseded") as old:
        old.write_exchange(page("http://site.test/superseded/", review("Superseded")))
    return data


def captured_urls(data: Path) -> list[str]:
    """The URLs captured, read on the bare read-only connection while an indexer may be
    writing (:meth:`ArchiveDB.open_readonly` would migrate a database whose schema the
    indexer has not committed yet); none while there is no database."""
    try:
        con = connect_readonly(data / "archive.db")
    except sqlite3.Error:
        return []
    try:
        return [url for (url,) in con.execute("select url from captures order by url")]
    except sqlite3.Error:  # its schema not yet committed
        return []
    finally:
        con.close()


def test_index_builds_every_table_from_the_workers_files(workers: Path) -> None:
    data = workers
    result = run_reviewarc("index", "--data", str(data), "--workers", "0")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == (
        "Indexed 2 new WARC file(s): 4 captures, 3 articles, 2 failures"
    ), result.stdout
    assert "Traceback" not in result.stderr
    assert captured_urls(data) == [
        "http://site.test/gone/", "http://site.test/r/1/", "http://site.test/r/2/",
        "http://site.test/r/3/",
    ]  # fmt: skip
    assert sorted(p.name for p in (data / "warcs").iterdir()) == sorted(
        p.name for p in (data / "workers").glob("*/warcs/*.warc.gz")
    )
    (crawl,) = read_sql(data, "select * from crawls")
    assert crawl["run"] == RUN and crawl["outcome"] == "finished"
    assert (crawl["source"], crawl["crawl_key"]) == ("fixture", "source:fixture")
    assert json.loads(crawl["seeds"]) == SEEDS
    assert (crawl["pages"], crawl["captures"], crawl["failures"]) == (4, 4, 2)
    assert crawl["started_at"] == "2026-03-14T09:30:00.123456Z"  # w1's file, the earlier
    assert crawl["finished_at"] == "2026-03-14T09:35:00.123456Z"  # w2's end, the last
    assert {row["crawl_id"] for row in read_sql(data, "select crawl_id from captures")} == {
        crawl["id"]
    }
    failures = read_sql(
        data,
        "select f.url, f.kind, f.reason, f.status, f.crawl_id, f.failed_at, c.url as page"
        " from failures f left join captures c on c.id = f.capture_id order by f.url",
    )
    assert failures == [
        {"url": "http://nowhere.test/", "kind": "dns", "reason": "no such host", "status": None,
         "crawl_id": crawl["id"], "failed_at": "2026-03-14T09:30:00.123456Z", "page": None},
        {"url": "http://site.test/gone/", "kind": "http", "reason": "404 Not Found",
         "status": 404, "crawl_id": crawl["id"], "failed_at": "2026-03-14T09:30:00.123456Z",
         "page": "http://site.test/gone/"},
    ]  # fmt: skip
    titles = read_sql(data, "select title from articles order by title")
    assert [row["title"] for row in titles] == ["First review", "Second review", "Third review"]
    # The worker's directories are as they were: the .open file too.
    assert len(list((data / "workers" / "w2" / "warcs").glob("*" + OPEN_SUFFIX))) == 1

    before = {table: read_sql(data, f"select * from {table} order by id")
              for table in ("crawls", "captures", "failures", "articles")}  # fmt: skip
    again = run_reviewarc("index", "--data", str(data), "--workers", "0")
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout == "" and again.stderr == ""
    # Everything read again (reprocess, not --new): no row added, none changed.
    full = run_reviewarc("reprocess", "--data", str(data), "--workers", "0")
    assert full.returncode == 0, full.stderr[-3000:]
    after = {table: read_sql(data, f"select * from {table} order by id") for table in before}
    assert after == before


def test_a_file_of_another_size_under_the_same_name_is_skipped(workers: Path) -> None:
    (first,) = sorted((workers / "workers" / "w1" / "warcs").iterdir())
    with fixed_writer(workers / "elsewhere") as other:  # a valid WARC file, not that one
        other.write_exchange(page("http://other.test/", review("Another review")))
    (elsewhere,) = (workers / "elsewhere").iterdir()
    (workers / "warcs").mkdir()
    os.replace(elsewhere, workers / "warcs" / first.name)
    result = run_reviewarc("index", "--data", str(workers), "--workers", "0")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{first}: skipped" in result.stderr and "Traceback" not in result.stderr
    assert "http://site.test/r/1/" not in captured_urls(workers)
    assert "http://other.test/" in captured_urls(workers)  # it is indexed as it is


def test_follow_picks_up_a_file_once_it_is_closed_and_stops_on_sigterm(workers: Path) -> None:
    data = workers
    process = subprocess.Popen(
        [str(BIN / "reviewarc"), "index", "--data", str(data), "--follow", "--interval", "0.2",
         "--workers", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: len(captured_urls(data)) == 4, 60, "the first pass", process=process)
        (open_file,) = (data / "workers" / "w2" / "warcs").glob("*" + OPEN_SUFFIX)
        os.rename(open_file, open_file.with_name(open_file.name.removesuffix(OPEN_SUFFIX)))
        wait_until(lambda: "http://site.test/open/" in captured_urls(data), 60,
                   "the file closed after the indexer started", process=process)  # fmt: skip
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err
    assert out.splitlines() == [
        "Indexed 2 new WARC file(s): 4 captures, 3 articles, 2 failures",
        "Indexed 1 new WARC file(s): 1 captures, 1 articles, 0 failures",
    ]
    assert "http://site.test/superseded/" not in captured_urls(data)


def test_runs_rows_follow_their_end_records_once() -> None:
    from archive.database import ArchiveDB, connect

    archive = ArchiveDB(connect(memory=True))
    runs = archive.runs()
    crawl_id = runs.run_crawl("r1", seeds=SEEDS, started_at="2026-03-14T10:00:00Z")
    assert runs.run_crawl("r1", started_at="2026-03-14T09:00:00Z") == crawl_id
    end = {"outcome": "shutdown", "pages": 2, "worker": "w1", "last": False,
           "at": "2026-03-14T11:00:00Z"}  # fmt: skip
    assert runs.add_run_end(crawl_id, "<urn:uuid:1>", **end)
    assert not runs.add_run_end(crawl_id, "<urn:uuid:1>", **end)  # the same record again
    row = archive.db["crawls"].get(crawl_id)
    assert (row["pages"], row["outcome"], row["finished_at"]) == (2, None, None)  # unfinished
    assert row["started_at"] == "2026-03-14T09:00:00Z"
    runs.add_run_end(crawl_id, "<urn:uuid:2>", **{**end, "outcome": "finished", "last": True})
    row = archive.db["crawls"].get(crawl_id)
    assert (row["pages"], row["outcome"], row["finished_at"]) == (
        4, "finished", "2026-03-14T11:00:00Z"
    )  # fmt: skip


def test_a_crawls_own_row_is_left_as_its_crawl_wrote_it() -> None:
    from archive.database import ArchiveDB, connect

    archive = ArchiveDB(connect(memory=True))
    crawl_id = archive.start_crawl(SEEDS, "fixture", "source:fixture", run="r1")
    archive.finish_crawl(crawl_id, "finished", pages=3)
    before = archive.db["crawls"].get(crawl_id)
    runs = archive.runs()
    assert runs.run_crawl("r1", started_at="2000-01-01T00:00:00Z") == crawl_id
    runs.note_run_file(crawl_id, "a.warc.gz")
    runs.add_run_end(crawl_id, "<urn:uuid:1>", outcome="shutdown", pages=9, worker="w",
                     last=True, at="2000-01-01T00:00:00Z")  # fmt: skip
    runs.count_crawl(crawl_id)
    assert archive.db["crawls"].get(crawl_id) == before
