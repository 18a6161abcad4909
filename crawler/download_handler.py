"""An HTTP/1.1 download handler that remembers the response head as it was received.

Scrapy hands on a parsed header map: names re-cased, repeated names grouped, and
connection headers (Content-Length, Transfer-Encoding, Connection, Keep-Alive) removed;
the reason phrase is dropped. An archive needs the head as the server sent it. Twisted's
HTTP parser sees every status and header line, so a subclass of Scrapy's lenient parser
records them on the Twisted response (installed the way Scrapy installs its own parser),
and this handler hands them on with the response: in ``request.meta[RAW_HEAD_META]`` of the
request it answers, where the capture (:mod:`crawler.capture`, the outermost middleware)
takes them with :func:`take_raw_head` before any other component sees the response. Header
lines are kept in order with their names' case; the parser has already joined folded lines
and trimmed values.

It subclasses private parts of Scrapy's HTTP/1.1 handler (``http11._ScrapyAgent``, the
lenient parser, protocol and factory), which is why pyproject pins Scrapy to the minor
versions this was tested on.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.core.downloader.handlers import http11
from scrapy.exceptions import ResponseDataLossError
from scrapy.http import Request, Response
from scrapy.utils._download_handlers import get_dataloss_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future

from archive.exchange import Header, ResponseHead
from crawler.host_health import HostHealth

logger = logging.getLogger(__name__)

#: ``request.meta`` key: the head of the response to this request, as received.
RAW_HEAD_META = "reviewarc_raw_head"


class RecordingHTTPClientParser(http11._LenientHTTPClientParser):
    """Scrapy's lenient response parser, also keeping the status and header lines."""

    def statusReceived(self, status: bytes) -> None:
        super().statusReceived(status)
        self.response._reviewarc_status_line = status
        self.response._reviewarc_headers = []

    def headerReceived(self, name: bytes, value: bytes) -> None:
        headers = getattr(getattr(self, "response", None), "_reviewarc_headers", None)
        if headers is not None:
            headers.append((name, value))
        super().headerReceived(name, value)


class RecordingHTTP11ClientProtocol(http11._LenientHTTP11ClientProtocol):
    def request(self, request: Any) -> Any:
        d = super().request(request)
        # Scrapy swaps the parser's class the same way; ours only adds bookkeeping.
        if self._parser is not None:
            self._parser.__class__ = RecordingHTTPClientParser
        return d


class RecordingHTTP11ClientFactory(http11._LenientHTTP11ClientFactory):
    def buildProtocol(self, addr: Any) -> Any:
        return RecordingHTTP11ClientProtocol(self._quiescentCallback)


def _head_from_txresponse(txresponse: Any) -> ResponseHead | None:
    status_line: bytes | None = getattr(txresponse, "_reviewarc_status_line", None)
    headers: list[Header] | None = getattr(txresponse, "_reviewarc_headers", None)
    if status_line is None or headers is None:
        return None
    parts = status_line.split(b" ", 2)
    protocol = parts[0]
    reason = parts[2] if len(parts) > 2 else b""
    return ResponseHead(
        status=int(txresponse.code),
        headers=list(headers),
        protocol=protocol,
        reason=reason,
        raw=True,
    )


class _RecordingAgent(http11._ScrapyAgent):
    """One per download: keeps the head of the response it received."""

    raw_head: ResponseHead | None = None

    def _cb_bodydone(self, result: Any, url: str) -> Response:
        response = super()._cb_bodydone(result, url)
        self.raw_head = _head_from_txresponse(result["txresponse"])
        return response


class RecordingHTTP11DownloadHandler(http11.HTTP11DownloadHandler):
    """``http``/``https`` handler: Scrapy's HTTP/1.1 handler plus raw response heads."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._pool._factory = RecordingHTTP11ClientFactory
        self.health = HostHealth.of(crawler)

    async def download_request(self, request: Request) -> Response:
        """Download, and tell the crawl's :class:`HostHealth` how it went; a request whose
        host died while it waited in its slot's queue fails at once."""
        self.health.check(request)
        try:
            response = await self._download(request)
        except Exception as e:
            self.health.failed(request.url, e)
            if self.health.refusal(request.url) is not None:
                request.meta["dont_retry"] = True  # its host is dead: not tried again
            raise
        self.health.ok(request.url)
        return response

    async def _download(self, request: Request) -> Response:
        agent = _RecordingAgent(
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=self._default_maxsize,
            warnsize=self._default_warnsize,
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        try:
            with wrap_twisted_exceptions():
                response = await maybe_deferred_to_future(agent.download_request(request))
        except ResponseDataLossError:
            if not self._fail_on_dataloss_warned:
                logger.warning(get_dataloss_msg(request.url))
                self._fail_on_dataloss_warned = True
            raise
        request.meta[RAW_HEAD_META] = agent.raw_head
        return response


def take_raw_head(request: Request) -> ResponseHead | None:
    """The head of the response to ``request`` as received, if this handler downloaded it;
    taken, so that a request made from this one (a redirect) does not carry it on."""
    return request.meta.pop(RAW_HEAD_META, None)
