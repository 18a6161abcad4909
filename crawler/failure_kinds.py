"""Name what went wrong with a request, for the ``failures`` table."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import DNSLookupError, TCPTimedOutError, TimeoutError

_KINDS: list[tuple[tuple[type[BaseException], ...], str]] = [
    ((DownloadTimeoutError, TimeoutError, TCPTimedOutError), "timeout"),
    ((CannotResolveHostError, DNSLookupError), "dns"),
    ((DownloadConnectionRefusedError,), "connection"),
    ((ResponseDataLossError,), "data_loss"),
    ((HttpError,), "http"),
    ((DownloadFailedError,), "connection"),
]


def classify(exc: BaseException) -> str:
    """One word for the failure: timeout, dns, connection, too_large, robots, http, ..."""
    message = str(exc)
    if (
        isinstance(exc, DownloadCancelledError)
        or "DOWNLOAD_MAXSIZE" in message
        or "maxsize" in message
    ):
        return "too_large"
    if isinstance(exc, IgnoreRequest):
        if "robots.txt" in message:
            return "robots"
        if message.startswith("Offsite") or message.startswith("Not an http"):
            return "offsite"
        if message.startswith(("Redirect loop", "Bad redirect")):
            return "redirect"
        return "ignored"
    for types, kind in _KINDS:
        if isinstance(exc, types):
            return kind
    return "error"
