"""Read records back from WARC files, by position or in order.

The HTTP head of a ``request``, ``response`` or ``revisit`` record is parsed by warcio's
:class:`~warcio.statusandheaders.StatusAndHeadersParser` over the block as stored, so every
header line comes back, in order, and the head ends where warcio says it does (also for a
head with bare LF line ends, or a revisit whose block is the head alone).

Files written by other tools are read too: WARC 0.17 to 1.1, gzipped (one member per record)
or not, and ARC files (``.arc``, ``.arc.gz``), whose records warcio converts to WARC records
(each given a record id made from its file name and offset, so that two readings agree). A
record is checked against what its header promises: a ``Content-Length`` that is not a number
is not a record (:class:`NotARecord`), and a block shorter than it is marked
:attr:`StoredRecord.truncated`.
"""

from __future__ import annotations

import logging
import os
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser

from archive.errors import ArchiveError
from archive.warc_writer import OPEN_SUFFIX

try:
    from isal import isal_zlib
except ImportError:  # pragma: no cover - a platform without its wheel: zlib does the work
    isal_zlib = None

#: Fields whose repeated values are not joined in :attr:`StoredRecord.http_headers`, which
#: keeps their first value instead: ``Set-Cookie`` (RFC 6265 section 3: a comma is part of its
#: value) and the singleton fields of RFC 9110, whose values joined by commas would mean
#: nothing (two ``Content-Type`` lines are not a list of types). The first value is the one
#: the crawl reads (:meth:`archive.exchange.ResponseHead.get`), so a row rebuilt from the
#: WARC is the row the crawl wrote.
SINGLE_VALUE_FIELDS = frozenset(
    {
        "set-cookie",
        "age",
        "authorization",
        "content-disposition",
        "content-length",
        "content-location",
        "content-range",
        "content-type",
        "date",
        "etag",
        "expires",
        "from",
        "host",
        "if-modified-since",
        "if-range",
        "if-unmodified-since",
        "last-modified",
        "location",
        "max-forwards",
        "proxy-authorization",
        "range",
        "referer",
        "retry-after",
        "server",
        "user-agent",
    }
)


# warcio logs each Target-URI with spaces it repairs (a record of another tool's, or text
# that is not a record at all) as a warning a person would see; the repaired URI is kept.
logging.getLogger("warcio.recordloader").setLevel(logging.ERROR)

#: File names ``reprocess`` reads: WARC and ARC files, gzipped or not.
ARCHIVE_SUFFIXES = (".warc.gz", ".warc", ".arc.gz", ".arc")


#: A directory of WARC files, or several to look in, in order.
WarcDirs = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def is_archive_name(name: str) -> bool:
    """Whether ``name`` is a WARC or ARC file's name (never a ``.open`` one)."""
    return name.lower().endswith(ARCHIVE_SUFFIXES)


class NotARecord(ArchiveError):
    """What starts at an offset is not a WARC or ARC record."""


class _HeadParser(StatusAndHeadersParser):
    """warcio's parser, decoding every line as ISO-8859-1.

    warcio decodes each line as UTF-8 and falls back to ISO-8859-1 when that fails, so the
    same byte could come back as two different characters depending on its neighbours, and
    ``value.encode()`` could not give the stored bytes back. ISO-8859-1 maps each byte to one
    character (RFC 9110 section 5.5: non-ASCII octets in a field value are opaque data), so
    ``value.encode("latin-1")`` always does; it is also how the crawl decodes the headers it
    stores (:mod:`archive.capture_store`).
    """

    @staticmethod
    def decode_header(line: bytes | str) -> str:
        return line.decode("latin-1") if isinstance(line, bytes) else line


#: No status line check (``verify=False``): a request line, a status line without a reason
#: phrase or another protocol's line are all kept as stored.
_HEAD_PARSER = _HeadParser([], verify=False)
#: For ``application/warc-fields`` blocks, which WARC 1.1 says are UTF-8: warcio's own decoding.
_FIELDS_PARSER = StatusAndHeadersParser([], verify=False)


def parse_head(block: bytes) -> StatusAndHeaders | None:
    """The HTTP status/request line and headers at the start of ``block`` (None if empty).

    ``total_len`` of the result is the length of the head in ``block``, blank line included
    (the whole block when no blank line ends it, as in a revisit holding a bare head).
    """
    if not block:
        return None
    return _HEAD_PARSER.parse(BytesIO(block))


@dataclass
class StoredRecord:
    """A record read whole into memory (headers parsed, block bytes kept as stored).

    For HTTP records the head is parsed once, by warcio (:func:`parse_head`), when the record
    is read. ``http_header_list`` has every header as stored; ``http_headers`` is the mapping
    most callers want.
    """

    warc_file: str
    offset: int
    length: int
    record_type: str
    warc_headers: dict[str, str]
    http_head: bytes  # status/request line and headers as stored, with the blank line
    payload: bytes  # the HTTP body as stored (content coding kept)
    http: StatusAndHeaders | None = field(default=None, repr=False, compare=False)
    #: The block's length as its header gives it, when the file holds fewer bytes (a record
    #: cut short: a crash, a copy that stopped, a wrong Content-Length); else None.
    truncated: int | None = None

    def __post_init__(self) -> None:
        if self.http is None and self.http_head:
            self.http = parse_head(self.http_head)
        self._headers: dict[str, str] | None = None

    @property
    def http_status(self) -> int:
        """Status code of a stored response head (0 when there is none, as for a request)."""
        code = self.http.get_statuscode() if self.http is not None else ""
        return int(code) if code.isascii() and code.isdigit() else 0

    @property
    def http_header_list(self) -> list[tuple[str, str]]:
        """Every header of the stored HTTP head, in order, names as stored (a new list).

        Values are decoded as ISO-8859-1 (``value.encode("latin-1")`` is the stored bytes),
        surrounding whitespace removed; a folded line is joined to the header it continues.
        """
        return list(self.http.headers) if self.http is not None else []

    @property
    def http_headers(self) -> dict[str, str]:
        """Lower-cased header names of the stored HTTP head, each to its value (a new dict).

        A header that occurs more than once gives its values joined by ``", "`` in order (RFC
        9110 section 5.3), except the :data:`SINGLE_VALUE_FIELDS` (``Set-Cookie``,
        ``Content-Type``, ``ETag``, ...), which give their first value. Every value of every
        header is in :attr:`http_header_list`.
        """
        if self._headers is None:
            headers: dict[str, str] = {}
            for name, value in self.http.headers if self.http is not None else ():
                key = name.lower()
                if key not in headers:
                    headers[key] = value
                elif key not in SINGLE_VALUE_FIELDS:
                    headers[key] += ", " + value
            self._headers = headers
        return dict(self._headers)

    def header(self, name: str) -> str | None:
        """A WARC header of the record (case-insensitive name), or None."""
        for k, v in self.warc_headers.items():
            if k.lower() == name.lower():
                return v
        return None


def warcinfo_fields(record: StoredRecord) -> dict[str, str]:
    """The ``name: value`` fields of a warcinfo (or other ``application/warc-fields``) record.

    Names are lower-cased (WARC field names are case-insensitive); a repeated field gives its
    first value. Parsed by warcio's :class:`StatusAndHeadersParser`, which decodes each line
    as UTF-8 (as WARC 1.1 says these are) or else ISO-8859-1. Empty for a record that holds
    no fields.
    """
    content_type = (record.header("Content-Type") or "").lower()
    if not record.payload or (
        record.record_type != "warcinfo" and "application/warc-fields" not in content_type
    ):
        return {}
    # The block has no first line to skip: warcio is given an (unchecked) one of its own.
    parsed = _FIELDS_PARSER.parse(BytesIO(record.payload), full_statusline=b"warc-fields\r\n")
    fields: dict[str, str] = {}
    for name, value in parsed.headers:
        fields.setdefault(name.lower(), value)
    return fields


def locate(warc_dir: WarcDirs, warc_file: str) -> Path:
    """Path of ``warc_file`` inside ``warc_dir`` (or the first of several directories that
    holds it), also while it is still ``.open``.

    Only a plain file name is accepted, never a path.
    """
    if not warc_file or Path(warc_file).name != warc_file or warc_file in (".", ".."):
        raise ValueError(f"not a WARC file name: {warc_file!r}")
    dirs = [warc_dir] if isinstance(warc_dir, (str, os.PathLike)) else list(warc_dir)
    for base in map(Path, dirs):
        path = base / warc_file
        if path.is_file():
            return path
        open_path = base / (warc_file + OPEN_SUFFIX)
        if open_path.is_file():
            return open_path
    raise FileNotFoundError(f"no WARC file {warc_file} in {', '.join(map(str, dirs))}")


def _stored(name: str, offset: int, record, arc: bool = False) -> StoredRecord:
    headers = dict(record.rec_headers.headers)
    declared = record.rec_headers.get_header("Content-Length")
    if declared is None or not declared.strip().isdigit():
        # warcio reads such a record as an empty one: it is text that is not a record.
        raise NotARecord(f"not a WARC or ARC record (Content-Length {declared!r})")
    block = record.raw_stream.read()
    head, payload, http = b"", block, None
    if "application/http" in (record.content_type or "").lower():
        http = parse_head(block)
        if http is not None:
            head, payload = block[: http.total_len], block[http.total_len :]
    stored = StoredRecord(name, offset, 0, record.rec_type, headers, head, payload, http)
    # Only WARC records: an ARC's length field is often off (warcio's own sample ARC with
    # spaces in its URL is 12 bytes short of it, its page whole), and warcio reads what is there.
    if not arc and record.length is not None and len(block) < record.length:
        stored.truncated = int(declared)
    return stored


def _is_arc(fh: BinaryIO) -> bool:
    """Whether the file starts with an ARC file's ``filedesc://`` record (gzipped or not)."""
    start = fh.read(4096)
    fh.seek(0)
    if start[:2] == b"\x1f\x8b":
        try:
            start = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(start, 64)
        except zlib.error:
            return False
    return start.lstrip().startswith(b"filedesc://")


def _arc_record_id(name: str, offset: int) -> str:
    """A WARC-Record-ID for an ARC record, the same at every reading (warcio makes a random
    one): a name-based UUID of the file name and the record's offset."""
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'arc:{name}#{offset}')}>"


def _isal_gzip() -> object:
    return isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS)


def _records(fh: BinaryIO) -> ArchiveIterator:
    """warcio's iterator (ARC records converted to WARC records), inflating with ISA-L
    (python-isal) rather than zlib: the same bytes, in about half the time (0.30 s instead
    of 0.65 s for 270 MB of pages). warcio makes each gzip member's decompressor from its
    reader's ``DECOMPRESSORS`` table; the first one is made before anything is read, so it
    is replaced here too."""
    it = ArchiveIterator(fh, no_record_parse=True, arc2warc=True)
    reader = it.reader
    if isal_zlib is not None and reader.decomp_type == "gzip":
        reader.DECOMPRESSORS = {**reader.DECOMPRESSORS, "gzip": _isal_gzip}
        reader.decompressor = _isal_gzip()
    return it


def unreadable_reason(error: BaseException) -> str:
    """One line saying why a file could not be read on (warcio's messages run to several)."""
    text = str(error).strip()
    if isinstance(error, ArchiveLoadFailed) and "non-chunked gzip" in text:
        return (
            "the whole file is one gzip stream, not one gzip member per record "
            "(`warcio recompress` makes a readable copy)"
        )
    return " ".join(text.split()) if text else type(error).__name__


def iter_records(path: str | os.PathLike[str]) -> Iterator[StoredRecord]:
    """Every record of a WARC or ARC file with its offset and (compressed) length."""
    path = Path(path)
    name = path.name.removesuffix(OPEN_SUFFIX)
    with open(path, "rb") as fh:
        arc = _is_arc(fh)
        it = _records(fh)
        for record in it:
            stored = _stored(name, 0, record, arc)  # read the block before asking for offsets
            stored.offset = it.get_record_offset()
            stored.length = it.get_record_length()
            if arc:
                stored.warc_headers["WARC-Record-ID"] = _arc_record_id(name, stored.offset)
            yield stored


def read_record(path: str | os.PathLike[str], offset: int) -> StoredRecord:
    """The record that starts at ``offset`` in ``path``."""
    path = Path(path)
    name = path.name.removesuffix(OPEN_SUFFIX)
    with open(path, "rb") as fh:
        arc = _is_arc(fh)
        fh.seek(offset)
        it = _records(fh)
        record = next(iter(it))
        stored = _stored(name, offset, record, arc)
        stored.length = it.get_record_length()
        if arc:
            stored.warc_headers["WARC-Record-ID"] = _arc_record_id(name, offset)
        return stored
