"""Responses rebuilt from the archive, for the spider to handle as if just downloaded.

Two uses: a ``304 Not Modified`` (the page's links are followed from its last archived copy),
and resuming a killed crawl (pages it had captured but not yet handled are read back from
their WARC records instead of being fetched twice). Which page a capture shows is decided
by :func:`archive.shown.shown_page`, the rule ``reprocess`` follows too.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from scrapy.http import Request, Response

from archive.capture_store import CaptureRef
from archive.database import ArchiveDB, CaptureRow
from archive.errors import ArchiveError
from archive.shown import shown_page
from archive.warc_reader import WarcDirs, locate, read_record
from crawler.items import CAPTURE_META

logger = logging.getLogger(__name__)


async def as_async(outputs: Any) -> AsyncIterator[Any]:
    """Iterate a callback's output, whether it is an async or a plain generator."""
    if hasattr(outputs, "__aiter__"):
        async for output in outputs:
            yield output
    else:
        for output in outputs:
            yield output


def unchanged_page(response: Response, warc_dir: WarcDirs, max_size: int) -> Response | None:
    """For a 304 answered to a conditional request: the page as last archived."""
    capture = response.meta.get(CAPTURE_META)
    original = getattr(capture, "original", None)
    try:
        shown = shown_page(warc_dir, record_type="revisit", status=304, headers={},
                           payload=None, original=original, max_size=max_size)  # fmt: skip
    except (OSError, ValueError, ArchiveError) as e:
        logger.warning("Cannot read the archived copy of %s: %s", response.url, e)
        return None
    if shown is None:
        return None
    return Response(
        response.url, status=200, body=shown.body, request=response.request,
        headers={"Content-Type": shown.content_type or "text/html"},
    )  # fmt: skip


def captured_response(
    archive: ArchiveDB, capture_id: int, row: CaptureRow, meta: dict, warc_dir: WarcDirs,
    max_size: int,
) -> Response | None:  # fmt: skip
    """A captured response rebuilt from its WARC record, as its callback would get it;
    None for a redirect (its target is a request of its own) or an unreadable record."""
    original = archive.response_of_capture(row.refers_to_id)
    if original is not None:  # the latest full response, as at capture time
        original = archive.last_response(original.url) or original
    ref = CaptureRef(capture_id, row.url, row.warc_file, row.warc_offset, row.warc_record_id,
                     row.fetched_at, row.payload_digest, row.record_type, original)  # fmt: skip
    request = Request(row.url, meta={**meta, CAPTURE_META: ref})
    if 300 <= row.status < 400:
        return Response(row.url, status=304, request=request) if row.status == 304 else None
    try:
        if row.record_type == "revisit":
            shown = shown_page(warc_dir, record_type="revisit", status=row.status,
                               headers={"content-type": row.content_type or ""}, payload=None,
                               original=original, max_size=max_size)  # fmt: skip
        else:
            record = read_record(locate(warc_dir, row.warc_file), row.warc_offset)
            shown = shown_page(warc_dir, record_type="response", status=row.status,
                               headers=record.http_headers, payload=record.payload,
                               original=None, max_size=max_size)  # fmt: skip
            if shown is None:  # an error page: its callback records it
                return Response(row.url, status=row.status, request=request)
    except (OSError, ValueError, ArchiveError) as e:
        logger.warning("Cannot read the capture of %s: %s", row.url, e)
        return None
    if shown is None:
        return None
    content_type = shown.content_type or row.content_type or ""
    return Response(row.url, status=row.status, body=shown.body, request=request,
                    headers={"Content-Type": content_type})  # fmt: skip
