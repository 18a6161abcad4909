"""Read records back from WARC files, by position or in order."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator

from archive.warc_writer import OPEN_SUFFIX

try:
    from isal import isal_zlib
except ImportError:  # pragma: no cover - a platform without its wheel: zlib does the work
    isal_zlib = None


@dataclass
class StoredRecord:
    """A record read whole into memory (headers parsed, block bytes kept as stored)."""

    warc_file: str
    offset: int
    length: int
    record_type: str
    warc_headers: dict[str, str]
    http_head: bytes  # status/request line and headers as stored, with the blank line
    payload: bytes  # the HTTP body as stored (content coding kept)

    @property
    def http_status(self) -> int:
        """Status code of a stored response head (0 when there is none)."""
        try:
            return int(self.http_head.split(b"\r\n", 1)[0].split()[1])
        except (IndexError, ValueError):
            return 0

    @property
    def http_headers(self) -> dict[str, str]:
        """Lower-cased header names of the stored HTTP head, each to its first value."""
        headers: dict[str, str] = {}
        for line in self.http_head.decode("latin-1").split("\r\n")[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers.setdefault(name.strip().lower(), value.strip())
        return headers

    def header(self, name: str) -> str | None:
        for k, v in self.warc_headers.items():
            if k.lower() == name.lower():
                return v
        return None


def warcinfo_fields(record: StoredRecord) -> dict[str, str]:
    """The ``name: value`` fields of a warcinfo record (``application/warc-fields``)."""
    fields: dict[str, str] = {}
    for line in record.payload.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields.setdefault(name.strip(), value.strip())
    return fields


def locate(warc_dir: str | os.PathLike[str], warc_file: str) -> Path:
    """Path of ``warc_file`` inside ``warc_dir``, also while it is still ``.open``.

    Only a plain file name is accepted, never a path.
    """
    if not warc_file or Path(warc_file).name != warc_file or warc_file in (".", ".."):
        raise ValueError(f"not a WARC file name: {warc_file!r}")
    base = Path(warc_dir)
    path = base / warc_file
    if path.is_file():
        return path
    open_path = base / (warc_file + OPEN_SUFFIX)
    if open_path.is_file():
        return open_path
    raise FileNotFoundError(f"no WARC file {warc_file} in {base}")


def _stored(name: str, offset: int, record) -> StoredRecord:  # noqa: ANN001
    headers = dict(record.rec_headers.headers)
    block = record.raw_stream.read()
    head, payload = b"", block
    if "application/http" in (record.content_type or ""):
        end = block.find(b"\r\n\r\n")
        if end >= 0:
            head, payload = block[: end + 4], block[end + 4 :]
    return StoredRecord(name, offset, 0, record.rec_type, headers, head, payload)


def _isal_gzip() -> object:
    return isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS)


def _records(fh: BinaryIO) -> ArchiveIterator:
    """warcio's iterator, inflating with ISA-L (python-isal) rather than zlib: the same
    bytes, in about half the time (0.30 s instead of 0.65 s for 270 MB of pages). warcio
    makes each gzip member's decompressor from its reader's ``DECOMPRESSORS`` table; the
    first one is made before anything is read, so it is replaced here too."""
    it = ArchiveIterator(fh, no_record_parse=True)
    reader = it.reader
    if isal_zlib is not None and reader.decomp_type == "gzip":
        reader.DECOMPRESSORS = {**reader.DECOMPRESSORS, "gzip": _isal_gzip}
        reader.decompressor = _isal_gzip()
    return it


def iter_records(path: str | os.PathLike[str]) -> Iterator[StoredRecord]:
    """Every record of a WARC file with its offset and (compressed) length."""
    path = Path(path)
    name = path.name.removesuffix(OPEN_SUFFIX)
    with open(path, "rb") as fh:
        it = _records(fh)
        for record in it:
            stored = _stored(name, 0, record)  # read the block before asking for offsets
            stored.offset = it.get_record_offset()
            stored.length = it.get_record_length()
            yield stored


def read_record(path: str | os.PathLike[str], offset: int) -> StoredRecord:
    """The record that starts at ``offset`` in ``path``."""
    path = Path(path)
    with open(path, "rb") as fh:
        fh.seek(offset)
        it = _records(fh)
        record = next(iter(it))
        stored = _stored(path.name.removesuffix(OPEN_SUFFIX), offset, record)
        stored.length = it.get_record_length()
        return stored
