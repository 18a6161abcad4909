"""Write HTTP exchanges into rotating WARC 1.1 files.

* Files are named ``<prefix>-<UTC timestamp, 17 digits>-<serial>.warc.gz`` (with
  ``-<name_suffix>`` before ``.warc.gz`` when given: a distributed crawl's worker name); while
  being written they end in ``.open`` and are renamed when closed.
* Each file starts with a ``warcinfo`` record; every record is its own gzip member.
* Per exchange a ``response`` and a ``request`` record are written together, linked by
  ``WARC-Concurrent-To`` and sharing ``WARC-Date``; rotation happens between pairs only.
* ``metadata`` records (:meth:`WARCFileWriter.write_metadata`) hold ``name: value`` fields
  about the crawl itself (a failure, a worker's end; see :mod:`archive.run_records`).
* The response block is the HTTP head and body exactly as the crawler received them
  (content coding kept); digests are computed here over the stored bytes.

warcio serializes the WARC headers; the HTTP block is written as raw bytes so that header
names, order and non-ASCII values reach the file unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.timeutils import datetime_to_iso_date

from archive.errors import WARCWriteError
from archive.exchange import Exchange

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

WARC_VERSION = "WARC/1.1"
OPEN_SUFFIX = ".open"
DEFAULT_MAX_SIZE = 1_000_000_000
#: zlib level of each record's gzip member: twice as fast as 6, files about 10% larger.
DEFAULT_GZIP_LEVEL = 3


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def safe_name_part(text: str) -> str:
    """``text`` fit for a file name: characters other than ``[A-Za-z0-9_.-]`` become ``_``."""
    return _UNSAFE_NAME.sub("_", text)


def one_line(value: str) -> str:
    """A ``name: value`` field's value on one line: CR and LF become spaces."""
    return value.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def warc_fields(fields: Iterable[tuple[str, str]]) -> bytes:
    """An ``application/warc-fields`` block: one ``name: value`` line per field."""
    return "".join(f"{name}: {one_line(value)}\r\n" for name, value in fields).encode("utf-8")


def sha1_digest(data: bytes) -> str:
    """A WARC digest value: ``sha1:`` and the base32 SHA-1 of ``data``."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def warc_date(moment: datetime) -> str:
    """WARC 1.1 date: ISO 8601 UTC with microseconds when there are any."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return datetime_to_iso_date(moment, use_micros=True)


def new_record_id() -> str:
    return StatusAndHeadersParser.make_warc_id()


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RecordRef:
    """Where a record landed: file name (final, without ``.open``), offset and length."""

    record_id: str
    warc_file: str
    offset: int
    length: int


IDENTICAL_PAYLOAD = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


@dataclass(frozen=True)
class Revisit:
    """Write the response as a ``revisit`` record standing for an earlier one."""

    profile: str  # IDENTICAL_PAYLOAD or SERVER_NOT_MODIFIED
    refers_to_uri: str
    refers_to_date: str
    refers_to_id: str
    payload_digest: str  # of the earlier record's payload


@dataclass(frozen=True)
class WrittenExchange:
    response: RecordRef
    request: RecordRef
    warc_date: str
    payload_digest: str
    payload_length: int
    record_type: str = "response"


def serialize_record(
    record_type: str,
    warc_headers: list[tuple[str, str]],
    block: bytes,
    content_type: str,
) -> bytes:
    """One uncompressed WARC record: headers (serialized by warcio), block, CRLF CRLF.

    The block is written as given for every record type (warcio's writer would drop the
    block of a revisit record whose HTTP head it did not parse itself).
    """
    fields = [*warc_headers, ("Content-Type", content_type), ("Content-Length", str(len(block)))]
    headers = StatusAndHeaders("", fields, protocol=WARC_VERSION)
    return headers.to_bytes(encoding="utf-8") + block + b"\r\n\r\n"


class WARCFileWriter:
    """Appends exchanges to WARC files in ``directory``, rotating at ``max_size`` bytes.

    ``clock`` and ``record_id`` can be replaced to make output deterministic in tests.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        prefix: str = "reviewarc",
        max_size: int = DEFAULT_MAX_SIZE,
        gzip_level: int = DEFAULT_GZIP_LEVEL,
        warcinfo: Mapping[str, str] | None = None,
        fsync: bool = False,
        clock: Callable[[], datetime] = utcnow,
        record_id: Callable[[], str] = new_record_id,
        name_suffix: str | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.prefix = prefix
        #: Ends each file's name (``<prefix>-<ts>-<serial>-<suffix>.warc.gz``), made safe.
        self.name_suffix = safe_name_part(name_suffix) if name_suffix else None
        self.max_size = max_size
        self.gzip_level = gzip_level
        self.warcinfo = dict(warcinfo or {})
        self.fsync = fsync
        self.clock = clock
        self.record_id = record_id
        self._fh: io.BufferedWriter | None = None
        self._name: str | None = None
        self._warcinfo_id: str | None = None
        self._serial = 0
        #: Exchanges and metadata records in the current file (0: only its warcinfo).
        self._records_in_file = 0
        self.files_written: list[str] = []
        #: Set by a failed write; no exchange is written after it (the crawl stops).
        self.failure: Exception | None = None
        #: Called with each file's final name once it is closed and renamed (a shared
        #: crawl's worker: the requests whose records it holds are then done for good).
        self.on_closed: Callable[[str], None] | None = None

    # -- files -------------------------------------------------------------------------

    @property
    def current_name(self) -> str | None:
        """Final name of the file being written (without ``.open``), if any."""
        return self._name

    def _next_name(self) -> str:
        while True:
            stamp = self.clock().astimezone(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
            suffix = f"-{self.name_suffix}" if self.name_suffix else ""
            name = f"{self.prefix}-{stamp}-{self._serial:05d}{suffix}.warc.gz"
            self._serial += 1
            path = self.directory / name
            if not path.exists() and not path.with_name(name + OPEN_SUFFIX).exists():
                return name

    def open(self) -> None:
        """Start a new file (closing the current one) and write its warcinfo record."""
        self.close()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = self._next_name()
            fh = open(self.directory / (name + OPEN_SUFFIX), "xb")
        except OSError as e:
            raise WARCWriteError(f"cannot create a WARC file in {self.directory}: {e}") from e
        self._fh, self._name, self._records_in_file = fh, name, 0
        self._warcinfo_id = self.record_id()
        headers = [
            ("WARC-Type", "warcinfo"),
            ("WARC-Record-ID", self._warcinfo_id),
            ("WARC-Filename", name),
            ("WARC-Date", warc_date(self.clock())),
        ]
        block = warc_fields((k, v) for k, v in self.warcinfo.items() if v)
        self._append(
            self._warcinfo_id,
            serialize_record("warcinfo", headers, block, "application/warc-fields"),
        )
        self._flush()
        logger.info("Opened WARC file %s", name)

    def close(self) -> str | None:
        """Close the current file and rename it to its final name, which is returned (None
        when no file was open, or it held nothing but its warcinfo record and was removed)."""
        if self._fh is None:
            return None
        fh, name = self._fh, self._name
        assert name is not None
        self._fh = self._name = None
        open_path = self.directory / (name + OPEN_SUFFIX)
        try:
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fh.close()
        if self._records_in_file == 0:
            # Nothing but a warcinfo record: not worth keeping.
            open_path.unlink(missing_ok=True)
            return None
        os.replace(open_path, self.directory / name)
        self.files_written.append(name)
        logger.info("Closed WARC file %s", name)
        if self.on_closed is not None:
            self.on_closed(name)
        return name

    def __enter__(self) -> WARCFileWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- records -----------------------------------------------------------------------

    def _append(self, record_id: str, record: bytes) -> RecordRef:
        """Write one record as its own gzip member."""
        assert self._fh is not None and self._name is not None
        compressor = zlib.compressobj(self.gzip_level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        member = compressor.compress(record) + compressor.flush()
        offset = self._fh.tell()
        self._fh.write(member)
        return RecordRef(record_id, self._name, offset, len(member))

    def _flush(self) -> None:
        assert self._fh is not None
        self._fh.flush()
        if self.fsync:
            os.fsync(self._fh.fileno())

    def write_exchange(self, exchange: Exchange, revisit: Revisit | None = None) -> WrittenExchange:
        """Write the response and request records of one exchange and flush them.

        Raises :class:`WARCWriteError` when the file cannot be written; the writer is then
        closed, refuses any further exchange, and the caller should stop.
        """
        return self._guarded(lambda: self._write_pair(exchange, revisit))

    def write_metadata(
        self, target_uri: str, fields: list[tuple[str, str]], refers_to: str | None = None
    ) -> RecordRef:
        """Write one ``metadata`` record (``application/warc-fields``: a ``name: value`` line
        per field, each value on one line) about ``target_uri`` and flush it.
        ``refers_to``: the WARC-Record-ID of the record it is about (``WARC-Refers-To``).

        A file holding only such records is kept on close. Fails as :meth:`write_exchange`
        does.
        """
        return self._guarded(lambda: self._write_metadata(target_uri, fields, refers_to))

    def _guarded(self, write: Callable[[], _T]) -> _T:
        """Run ``write`` in an open file (opened or rotated first); after a failure, cut the
        file back to before it, close it, and refuse every later write."""
        if self.failure is not None:
            raise WARCWriteError(f"WARC writing stopped after an earlier failure: {self.failure}")
        name, start = self._name, None
        try:
            if self._fh is None or self._fh.tell() >= self.max_size:
                self.open()
            name, start = self._name, self._fh.tell()  # type: ignore[union-attr]
            return write()
        except WARCWriteError as e:  # no new file could be opened
            self.failure = e
            raise
        except OSError as e:
            self._salvage(start)
            self.failure = e
            raise WARCWriteError(f"cannot write to WARC file {name}: {e}") from e

    def _write_metadata(
        self, target_uri: str, fields: list[tuple[str, str]], refers_to: str | None
    ) -> RecordRef:
        record_id = self.record_id()
        block = warc_fields(fields)
        headers = [
            ("WARC-Type", "metadata"),
            ("WARC-Record-ID", record_id),
            ("WARC-Date", warc_date(self.clock())),
            ("WARC-Target-URI", target_uri),
            ("WARC-Warcinfo-ID", self._warcinfo_id or ""),
        ]
        if refers_to:
            headers.append(("WARC-Refers-To", refers_to))
        headers.append(("WARC-Block-Digest", sha1_digest(block)))
        ref = self._append(
            record_id, serialize_record("metadata", headers, block, "application/warc-fields")
        )
        self._flush()
        self._records_in_file += 1
        return ref

    def _salvage(self, pair_start: int | None) -> None:
        """After a failed write: cut the file back to its last whole exchange (or metadata
        record) and close it.

        Truncating needs no free space, so this works on a full disk too. If it fails as
        well, the ``.open`` file stays and is repaired on the next run.
        """
        fh, name = self._fh, self._name
        self._fh = self._name = None
        if fh is None or name is None:
            return
        try:
            fh.close()  # its buffer may fail to flush again; the cut below removes it
        except OSError:
            pass
        open_path = self.directory / (name + OPEN_SUFFIX)
        try:
            if pair_start is None or self._records_in_file == 0:
                open_path.unlink(missing_ok=True)
                return
            os.truncate(open_path, pair_start)
            os.replace(open_path, self.directory / name)
            self.files_written.append(name)
            logger.warning("Closed WARC file %s after a failed write", name)
        except OSError as e:
            logger.error("Could not close %s (%s); it will be repaired on the next run", name, e)

    def _http_record(
        self,
        record_type: str,
        record_id: str,
        partner_id: str,
        date: str,
        exchange: Exchange,
        head: bytes,
        payload: bytes,
        extra: Iterable[tuple[str, str]] = (),
        payload_digest: str | None = None,
    ) -> bytes:
        """A request or response record; its partner is named in WARC-Concurrent-To."""
        block = head + payload
        headers = [
            ("WARC-Type", record_type),
            ("WARC-Record-ID", record_id),
            ("WARC-Date", date),
            ("WARC-Target-URI", exchange.url),
        ]
        if exchange.ip_address:
            headers.append(("WARC-IP-Address", exchange.ip_address))
        headers += [
            ("WARC-Warcinfo-ID", self._warcinfo_id or ""),
            ("WARC-Concurrent-To", partner_id),
            ("WARC-Payload-Digest", payload_digest or sha1_digest(payload)),
            ("WARC-Block-Digest", sha1_digest(block)),
            *extra,
        ]
        msgtype = "request" if record_type == "request" else "response"
        content_type = f"application/http;msgtype={msgtype}"
        return serialize_record(record_type, headers, block, content_type)

    def _write_pair(self, exchange: Exchange, revisit: Revisit | None = None) -> WrittenExchange:
        date = warc_date(exchange.date)
        response_id, request_id = self.record_id(), self.record_id()
        body = exchange.body
        head = exchange.response.to_bytes(len(body))
        extra = list(exchange.extra_warc_headers.items())
        if revisit is None:
            record_type, payload, payload_digest = "response", body, sha1_digest(body)
        else:
            # The block is the HTTP head only; the payload is the earlier record's.
            record_type, payload, payload_digest = "revisit", b"", revisit.payload_digest
            extra += [
                ("WARC-Profile", revisit.profile),
                ("WARC-Refers-To", revisit.refers_to_id),
                ("WARC-Refers-To-Target-URI", revisit.refers_to_uri),
                ("WARC-Refers-To-Date", revisit.refers_to_date),
            ]
        response = self._http_record(
            record_type, response_id, request_id, date, exchange, head, payload, extra,
            payload_digest,
        )  # fmt: skip
        request = self._http_record(
            "request", request_id, response_id, date, exchange,
            exchange.request.to_bytes(), exchange.request.body,
        )  # fmt: skip
        response_ref = self._append(response_id, response)
        request_ref = self._append(request_id, request)
        self._flush()
        self._records_in_file += 1
        return WrittenExchange(
            response=response_ref,
            request=request_ref,
            warc_date=date,
            payload_digest=payload_digest,
            payload_length=len(body),
            record_type=record_type,
        )
