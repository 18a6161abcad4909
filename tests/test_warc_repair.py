"""A ``.open`` file left by a crash is cut after its last whole record and closed."""

from __future__ import annotations

from pathlib import Path

from archive.capture_store import CaptureStore, recover
from archive.database import ArchiveDB, connect
from archive.datadir import DataDir
from archive.warc_reader import iter_records
from archive.warc_repair import repair_open_files
from tests.conftest import warcio_check
from tests.test_warc_writer import exchange, fixed_writer


def crashed_file(directory: Path, exchanges: int, tail: bytes) -> Path:
    writer = fixed_writer(directory)
    for i in range(exchanges):
        writer.write_exchange(exchange(url=f"http://s.test/{i}"))
    path = directory / (writer.current_name + ".open")
    writer._fh.close()  # the process dies: no close(), no rename
    with open(path, "ab") as fh:
        fh.write(tail)
    return path


def test_partial_record_cut_and_file_closed(tmp_path: Path) -> None:
    whole = crashed_file(tmp_path / "ref", 3, b"").read_bytes()
    # half of a gzip member of a fourth record
    path = crashed_file(tmp_path, 3, whole[len(whole) // 2 :][:200])
    (result,) = repair_open_files(tmp_path)
    final = tmp_path / result.name
    assert not path.exists() and final.exists()
    assert result.dropped_bytes == 200 and result.records == 7
    assert final.stat().st_size == result.kept_bytes
    assert [r.record_type for r in iter_records(final)][1:] == ["response", "request"] * 3
    assert warcio_check([final]).returncode == 0


def test_garbage_tail_and_zero_padding(tmp_path: Path) -> None:
    crashed_file(tmp_path, 2, b"\x1f\x8b\x08\x00" + b"\0" * 4096)
    (result,) = repair_open_files(tmp_path)
    assert result.records == 5
    assert warcio_check([tmp_path / result.name]).returncode == 0


def test_file_with_no_exchange_is_removed(tmp_path: Path) -> None:
    writer = fixed_writer(tmp_path)
    writer.open()
    writer._fh.close()
    (result,) = repair_open_files(tmp_path)
    assert result.removed and list(tmp_path.iterdir()) == []


def test_recover_drops_rows_past_the_cut(tmp_path: Path) -> None:
    datadir = DataDir(tmp_path).create()
    db = ArchiveDB(connect(datadir.db_path))
    store = CaptureStore(fixed_writer(datadir.warc_dir), db)
    refs = [store.capture(exchange(url=f"http://s.test/{i}")) for i in range(3)]
    name = refs[0].warc_file
    store.writer._fh.close()
    open_path = datadir.warc_dir / (name + ".open")
    # Lose the last exchange, as if the OS never wrote it (power cut).
    with open(open_path, "r+b") as fh:
        fh.truncate(refs[2].warc_offset + 10)
    recover(datadir, db)
    urls = [r["url"] for r in db.db.query("select url from captures order by id")]
    assert urls == ["http://s.test/0", "http://s.test/1"]
    assert (datadir.warc_dir / name).exists()
