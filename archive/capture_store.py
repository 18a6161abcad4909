"""Capture = WARC records first, then the database row that points at them.

:class:`CaptureStore` owns the order that makes the archive crash-safe: the records of an
exchange are written and flushed before the ``captures`` row is committed, so a row never
points at a record that is not on disk.

:meth:`CaptureStore.capture_async` does the writing (digests, gzip, write, flush) in one
writer thread, in the order exchanges arrive, while the caller's event loop goes on: hashing
and compressing release the GIL, so the crawl uses a second core for them. The row is still
inserted by the caller's thread, once the records are flushed. :meth:`CaptureStore.record_metadata`
and :meth:`CaptureStore.seal` go through the same thread, so they keep their place among the
captures.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from archive.database import ArchiveDB, CaptureRow, LastResponse
from archive.datadir import DataDir
from archive.exchange import Exchange
from archive.warc_repair import RepairResult, repair_open_files
from archive.warc_writer import (
    IDENTICAL_PAYLOAD,
    SERVER_NOT_MODIFIED,
    RecordRef,
    Revisit,
    WARCFileWriter,
    WrittenExchange,
    sha1_digest,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaptureRef:
    """What the rest of the pipeline needs to know about a stored capture."""

    capture_id: int
    url: str
    warc_file: str
    warc_offset: int
    record_id: str
    fetched_at: str
    payload_digest: str
    record_type: str = "response"
    #: For a revisit: the earlier response whose payload it stands for.
    original: LastResponse | None = None


class CaptureStore:
    def __init__(self, writer: WARCFileWriter, db: ArchiveDB, crawl_id: int | None = None) -> None:
        self.writer = writer
        self.db = db
        self.crawl_id = crawl_id
        self._thread: ThreadPoolExecutor | None = None
        #: Where the latest full response of a URL is looked up (a shared crawl's worker
        #: also asks the other workers' captures and the indexed archive).
        self.last_response: Callable[[str], LastResponse | None] = db.last_response

    def revisit_for(
        self, exchange: Exchange, conditional: bool
    ) -> tuple[Revisit | None, LastResponse | None]:
        """A revisit when the server said 304 to our conditional request, or sent the very
        payload of the URL's last full response; else None (a full response record)."""
        status = exchange.response.status
        if status not in (200, 304) or exchange.request.method != b"GET":
            return None, None
        last = self.last_response(exchange.url)
        if last is None:
            return None, None
        if status == 304 and conditional:
            profile = SERVER_NOT_MODIFIED
        elif status == 200 and sha1_digest(exchange.body) == last.payload_digest:
            profile = IDENTICAL_PAYLOAD
        else:
            return None, None
        revisit = Revisit(
            profile, last.url, last.fetched_at, last.warc_record_id, last.payload_digest
        )
        return revisit, last

    def capture(self, exchange: Exchange, conditional: bool = False) -> CaptureRef:
        """Archive one exchange: a response record, or a revisit record when nothing changed
        since the URL's last full response. ``conditional``: the request carried validators
        from that response."""
        revisit, original = self.revisit_for(exchange, conditional)
        written = self.writer.write_exchange(exchange, revisit)  # flushed when it returns
        return self._record(exchange, written, original)

    async def capture_async(self, exchange: Exchange, conditional: bool = False) -> CaptureRef:
        """:meth:`capture`, with the records written by the writer thread."""
        revisit, original = self.revisit_for(exchange, conditional)
        future = self._writer_thread().submit(self.writer.write_exchange, exchange, revisit)
        written = await asyncio.wrap_future(future)  # flushed when it completes
        return self._record(exchange, written, original)

    def _writer_thread(self) -> ThreadPoolExecutor:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warc-writer")
        return self._thread

    def record_metadata(
        self, target_uri: str, fields: list[tuple[str, str]], refers_to: str | None = None
    ) -> RecordRef:
        """Write a ``metadata`` record (:meth:`WARCFileWriter.write_metadata`) in the writer
        thread, after every capture submitted before it, and wait until it is flushed.
        Raises :class:`archive.errors.WARCWriteError` as a capture would."""
        future = self._writer_thread().submit(
            self.writer.write_metadata, target_uri, fields, refers_to
        )
        return future.result()

    def seal(self) -> str | None:
        """Close the current WARC file in the writer thread, after every capture submitted
        before (the next write opens a new file), and return its final name; None when no
        file was open or it held nothing but its warcinfo record (removed)."""
        return self._writer_thread().submit(self.writer.close).result()

    def _record(
        self, exchange: Exchange, written: WrittenExchange, original: LastResponse | None
    ) -> CaptureRef:
        """Commit the row of an exchange whose records are flushed."""
        response = written.response
        row = capture_row(
            url=exchange.url,
            warc_date=written.warc_date,
            status=exchange.response.status,
            content_type=exchange.content_type,
            etag=_text(exchange.response.get(b"etag")),
            last_modified=_text(exchange.response.get(b"last-modified")),
            record_type=written.record_type,
            payload_digest=written.payload_digest,
            payload_length=written.payload_length,
            response=response,
            request=written.request,
            ip_address=exchange.ip_address,
            crawl_id=self.crawl_id,
            original=original,
        )
        capture_id = self.db.add_capture(row)
        return CaptureRef(
            capture_id,
            exchange.url,
            response.warc_file,
            response.offset,
            response.record_id,
            written.warc_date,
            written.payload_digest,
            written.record_type,
            original,
        )

    def close(self) -> None:
        """Wait for the writer thread's queue to drain, then close the current file."""
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        self.writer.close()


def capture_row(
    *,
    url: str,
    warc_date: str,
    status: int,
    content_type: str | None,
    etag: str | None,
    last_modified: str | None,
    record_type: str,
    payload_digest: str,
    payload_length: int,
    response: RecordRef,
    request: RecordRef | None,
    ip_address: str | None,
    crawl_id: int | None,
    original: LastResponse | None,
) -> CaptureRow:
    """The ``captures`` row of a response or revisit record, as the crawl writes it and
    ``reprocess`` reads it back: one rule for both. A revisit (``original``: the full
    response it stands for) takes that response's content type when it states none, and
    its payload length, since the payload it shows is that one."""
    return CaptureRow(
        url=url,
        fetched_at=warc_date,
        status=status,
        content_type=content_type or (original.content_type if original else None),
        record_type=record_type,
        payload_digest=payload_digest,
        payload_length=original.payload_length if original else payload_length,
        warc_file=response.warc_file,
        warc_offset=response.offset,
        warc_length=response.length,
        warc_record_id=response.record_id,
        request_offset=request.offset if request else None,
        request_length=request.length if request else None,
        ip_address=ip_address,
        crawl_id=crawl_id,
        etag=etag,
        last_modified=last_modified,
        refers_to_id=original.capture_id if original else None,
    )


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1").strip() if value else None


def recover(datadir: DataDir, db: ArchiveDB) -> list[RepairResult]:
    """Repair ``.open`` files a crash left behind and drop rows pointing past their end.

    Call while holding the data directory lock.
    """
    results = repair_open_files(datadir.warc_dir)
    for result in results:
        dropped = db.forget_captures_after(result.name, result.kept_bytes)
        if dropped:
            logger.warning("Dropped %d capture rows lost with %s", dropped, result.name)
    return results
