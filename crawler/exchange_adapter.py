"""Scrapy request/response -> :class:`archive.exchange.Exchange`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scrapy.http import Headers, Request, Response

from archive.exchange import Exchange, Header, RequestHead, ResponseHead
from crawler.download_handler import take_raw_head


def _header_list(headers: Headers) -> list[Header]:
    return [(bytes(k), bytes(v)) for k, values in headers.items() for v in values]


def response_head(request: Request, response: Response) -> ResponseHead:
    """The head as received when the download handler kept it, else rebuilt from Scrapy's
    parsed headers (which lack the reason phrase and connection headers)."""
    head = take_raw_head(request)
    if head is not None:
        return head
    protocol = (response.protocol or "HTTP/1.1").encode("ascii")
    headers = _header_list(response.headers)
    if not any(k.lower() in (b"content-length", b"transfer-encoding") for k, _ in headers):
        headers.append((b"Content-Length", str(len(response.body)).encode("ascii")))
    return ResponseHead(status=response.status, headers=headers, protocol=protocol)


def exchange_from_scrapy(
    request: Request, response: Response, now: datetime | None = None
) -> Exchange:
    """An exchange dated when its download started (now less the download latency)."""
    now = now or datetime.now(UTC)
    latency = request.meta.get("download_latency")
    started = now - timedelta(seconds=latency) if isinstance(latency, int | float) else now
    return Exchange(
        url=response.url,
        date=started,
        request=RequestHead(
            method=request.method.encode("ascii"),
            url=response.url,
            headers=_header_list(request.headers),
            body=request.body,
        ),
        response=response_head(request, response),
        body=response.body,
        ip_address=str(response.ip_address) if response.ip_address is not None else None,
    )
