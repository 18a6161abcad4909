"""Repair WARC files left open by a crash.

A ``.open`` file holds whole records followed, perhaps, by part of one that was being
written when the process died. Every record we write is its own gzip member, so the file is
cut after the last gzip member that is complete and holds a whole WARC record, and renamed to
its final name. A file with no exchange left in it is removed.
"""

from __future__ import annotations

import io
import logging
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from warcio.recordloader import ArchiveLoadFailed, ArcWarcRecordLoader

from archive.warc_writer import OPEN_SUFFIX

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20


@dataclass(frozen=True)
class RepairResult:
    name: str  # final file name (without .open)
    kept_bytes: int
    dropped_bytes: int
    records: int
    removed: bool


def complete_prefix(path: str | os.PathLike[str]) -> tuple[int, int]:
    """Length in bytes of the longest run of whole records at the start of ``path``,
    and how many records it holds."""
    good_end = records = 0
    member_start = fed = 0
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    with open(path, "rb") as fh:
        pending = b""
        while True:
            chunk = pending or fh.read(_CHUNK)
            pending = b""
            if not chunk:
                break
            try:
                out += decompressor.decompress(chunk)
            except zlib.error:
                break
            if not decompressor.eof:
                fed += len(chunk)
                continue
            pending = decompressor.unused_data
            member_end = member_start + fed + len(chunk) - len(pending)
            if not _record_complete(bytes(out)):
                break
            records += 1
            good_end = member_start = member_end
            fed = 0
            out = bytearray()
            decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    return good_end, records


def _record_complete(data: bytes) -> bool:
    """Does ``data`` hold one WARC record whose block is as long as its Content-Length?"""
    head_end = data.find(b"\r\n\r\n")
    if not data.startswith(b"WARC/") or head_end < 0:
        return False
    stream = io.BytesIO(data)
    try:
        record = ArcWarcRecordLoader().parse_record_stream(
            stream, known_format="warc", ensure_http_headers=False
        )
    except (ArchiveLoadFailed, ValueError):
        return False
    length = int(record.rec_headers.get_header("Content-Length") or -1)
    return length >= 0 and len(data) >= head_end + 4 + length


def repair_open_file(path: str | os.PathLike[str]) -> RepairResult:
    """Cut ``path`` (a ``*.open`` file) after its last whole record and close it."""
    path = Path(path)
    final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
    size = path.stat().st_size
    good_end, records = complete_prefix(path)
    if records <= 1:  # nothing, or only the warcinfo record
        path.unlink()
        logger.warning("Removed %s: no whole exchange in it", path.name)
        return RepairResult(final.name, 0, size, 0, True)
    with open(path, "r+b") as fh:
        fh.truncate(good_end)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(path, final)
    logger.warning(
        "Repaired %s: kept %d records (%d bytes), dropped %d bytes of a partial record",
        final.name,
        records,
        good_end,
        size - good_end,
    )
    return RepairResult(final.name, good_end, size - good_end, records, False)


def repair_open_files(directory: str | os.PathLike[str]) -> list[RepairResult]:
    """Repair every ``*.open`` file in ``directory``. Call only while holding the data
    directory's lock, so that no live writer's file is touched."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return [repair_open_file(p) for p in sorted(directory.glob("*" + OPEN_SUFFIX))]
