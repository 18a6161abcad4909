"""The page a capture shows: one rule for the crawl (a 304, a resumed crawl) and ``reprocess``.

A 2xx response shows its own payload. A revisit shows the payload of the full response it
stands for (its ``WARC-Refers-To``), since that is what the server would have sent again:

- a revisit of a 200 whose payload was the last capture's keeps its own headers;
- a 304 to a conditional request has no headers of the page's own worth keeping: the page is
  shown as last archived, with that response's content type (and content coding, so that
  its stored bytes decode).

Anything else (a redirect, an error, a revisit whose original is not indexed) shows no page.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.database import LastResponse
from archive.decoding import decode_payload
from archive.warc_reader import WarcDirs, locate, read_record


@dataclass(frozen=True)
class ShownPage:
    #: Lower-case HTTP header names to values, as the page is to be read.
    headers: dict[str, str]
    #: The body with its content coding removed.
    body: bytes

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


def shown_page(
    warc_dir: WarcDirs,
    *,
    record_type: str,
    status: int,
    headers: dict[str, str],
    payload: bytes | None,
    original: LastResponse | None,
    max_size: int,
) -> ShownPage | None:
    """The page a response or revisit record shows (see the module's rules), or None.

    ``headers`` and ``payload`` are the record's own (``payload`` may be None for a
    revisit). Raises OSError, ValueError or ArchiveError when a record cannot be read or
    decoded.
    """
    if record_type == "response":
        if not 200 <= status < 300 or payload is None:
            return None
        return ShownPage(headers, decode_payload(payload, headers, max_size))
    if original is None or status not in (200, 304):
        return None
    stored = read_record(locate(warc_dir, original.warc_file), original.warc_offset)
    if status == 200:  # the same payload: coded as this response says
        shown = headers
    else:
        shown = {"content-type": original.content_type or "text/html"}
        for name in ("content-encoding", "transfer-encoding"):
            if stored.http_headers.get(name):
                shown[name] = stored.http_headers[name]
    return ShownPage(shown, decode_payload(stored.payload, shown, max_size))
