"""Responses rebuilt from the archive, for the spider to handle as if just downloaded.

Two uses: a ``304 Not Modified`` (the page's links are followed from its last archived copy),
and resuming a killed crawl (pages it had captured but not yet handled are read back from
their WARC records instead of being fetched twice).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy.http import Request, Response

from archive.capture_store import CaptureRef
from archive.database import ArchiveDB, CaptureRow, last_response
from archive.decoding import decode_body
from archive.errors import ArchiveError
from archive.warc_reader import locate, read_record
from pipelines.items import CAPTURE_META

logger = logging.getLogger(__name__)


async def as_async(outputs: Any) -> AsyncIterator[Any]:
    """Iterate a callback's output, whether it is an async or a plain generator."""
    if hasattr(outputs, "__aiter__"):
        async for output in outputs:
            yield output
    else:
        for output in outputs:
            yield output


def read_body(warc_dir: Path, warc_file: str, offset: int, max_size: int) -> tuple[dict, bytes]:
    """Headers and decoded body of the response record at ``offset``.

    Raises OSError, ValueError or ArchiveError when it cannot be read.
    """
    record = read_record(locate(warc_dir, warc_file), offset)
    headers = record.http_headers
    return headers, decode_body(record.payload, headers.get("content-encoding"), max_size)


def unchanged_page(response: Response, warc_dir: Path, max_size: int) -> Response | None:
    """For a 304 answered to a conditional request: the page as last archived."""
    capture = response.meta.get(CAPTURE_META)
    original = getattr(capture, "original", None)
    if original is None:
        return None
    try:
        _, body = read_body(warc_dir, original.warc_file, original.warc_offset, max_size)
    except (OSError, ValueError, ArchiveError) as e:
        logger.warning("Cannot read the archived copy of %s: %s", response.url, e)
        return None
    return Response(
        response.url, status=200, body=body, request=response.request,
        headers={"Content-Type": original.content_type or "text/html"},
    )  # fmt: skip


def captured_response(
    archive: ArchiveDB, capture_id: int, row: CaptureRow, meta: dict, warc_dir: Path,
    max_size: int,
) -> Response | None:  # fmt: skip
    """A captured response rebuilt from its WARC record, as its callback would get it;
    None for a redirect (its target is a request of its own) or an unreadable record."""
    original = None
    if row.refers_to_id is not None:
        found = archive.db.execute(
            "select url from captures where id = ?", [row.refers_to_id]
        ).fetchone()
        original = last_response(archive.db.conn, found[0]) if found else None
    ref = CaptureRef(capture_id, row.url, row.warc_file, row.warc_offset, row.warc_record_id,
                     row.fetched_at, row.payload_digest, row.record_type, original)  # fmt: skip
    request = Request(row.url, meta={**meta, CAPTURE_META: ref})
    if 300 <= row.status < 400:
        return Response(row.url, status=304, request=request) if row.status == 304 else None
    if row.record_type == "revisit":  # the payload is the earlier response's
        if original is None:
            return None
        location = (original.warc_file, original.warc_offset)
    else:
        location = (row.warc_file, row.warc_offset)
    try:
        headers, body = read_body(warc_dir, *location, max_size)
    except (OSError, ValueError, ArchiveError) as e:
        logger.warning("Cannot read the capture of %s: %s", row.url, e)
        return None
    content_type = headers.get("content-type") or row.content_type or ""
    return Response(row.url, status=row.status, body=body, request=request,
                    headers={"Content-Type": content_type})  # fmt: skip
