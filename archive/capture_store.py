"""Capture = WARC records first, then the database row that points at them.

:class:`CaptureStore` owns the order that makes the archive crash-safe: the records of an
exchange are written and flushed before the ``captures`` row is committed, so a row never
points at a record that is not on disk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from archive.database import ArchiveDB, CaptureRow
from archive.datadir import DataDir
from archive.exchange import Exchange
from archive.warc_repair import RepairResult, repair_open_files
from archive.warc_writer import WARCFileWriter

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


class CaptureStore:
    def __init__(self, writer: WARCFileWriter, db: ArchiveDB, crawl_id: int | None = None) -> None:
        self.writer = writer
        self.db = db
        self.crawl_id = crawl_id

    def capture(self, exchange: Exchange) -> CaptureRef:
        written = self.writer.write_exchange(exchange)  # flushed when it returns
        response = written.response
        row = CaptureRow(
            url=exchange.url,
            fetched_at=written.warc_date,
            status=exchange.response.status,
            content_type=exchange.content_type,
            record_type="response",
            payload_digest=written.payload_digest,
            payload_length=written.payload_length,
            warc_file=response.warc_file,
            warc_offset=response.offset,
            warc_length=response.length,
            warc_record_id=response.record_id,
            request_offset=written.request.offset,
            request_length=written.request.length,
            ip_address=exchange.ip_address,
            crawl_id=self.crawl_id,
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
        )

    def close(self) -> None:
        self.writer.close()


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
