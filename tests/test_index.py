"""``reviewarc index``: the closed WARC files of a distributed crawl's workers, and the records
they write about their runs (failures, ends), indexed into ``DIR/archive.db``."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from pathlib import Path

from archive.run_records import failure_fields, run_end_fields, run_uri
from archive.warc_reader import iter_records, warcinfo_fields
from archive.warc_writer import WARCFileWriter
from tests.conftest import warcio_check

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
