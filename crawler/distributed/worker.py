"""A crawl's capture as one worker of a shared crawl (``reviewarc crawl --redis URL``).

Built by :class:`crawler.capture.WarcCapture` when ``REVIEWARC_REDIS_URL`` is set. The worker
writes what a one-machine crawl writes, in its own data directory ``DATA/workers/NAME/``
(its WARC files are named ``PREFIX-TIME-SERIAL-NAME.warc.gz``), and adds what the indexer
(``reviewarc index``) needs to build ``DATA/archive.db`` from the WARC files alone: the run's
id, crawl key and seeds in each warcinfo record, a ``metadata`` record for every failure,
and one when the worker leaves. It shares with the other workers, through Redis, the
frontier (:mod:`crawler.distributed.frontier`), the trap counters, the robots.txt files and
the validators of the pages captured in this run; validators of earlier runs come from
``DATA/archive.db``, which the indexer keeps.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any

from archive.capture_store import CaptureRef
from archive.database import LastResponse, last_response
from archive.run_records import failure_fields, run_end_fields, run_uri, warcinfo_run_fields
from archive.warc_repair import RepairResult
from crawler.distributed.frontier import SharedFrontier
from crawler.distributed.state import SharedState, connect

logger = logging.getLogger(__name__)

#: A worker's directory for files a dead run left that the crawl has since done again.
SUPERSEDED = "superseded"


class Worker:
    def __init__(self, crawler: Any, capture: Any, repaired: list[RepairResult]) -> None:
        config = capture.config
        self.crawler = crawler
        self.capture = capture
        self.name: str = config.worker
        self.data_dir: Path = config.data_dir
        spider = crawler.spider
        self.crawl_key: str = spider.crawl_key
        self.seeds: list[str] = list(getattr(spider, "seeds", []))
        self.state = SharedState(connect(config.redis_url), self.crawl_key, self.name,
                                 config.lease_ttl)  # fmt: skip
        self.frontier = SharedFrontier(
            crawler, self.state, lambda: capture.writer.current_name, config.lease_ttl
        )
        if self.frontier.left_inflight or self.frontier.left_unsealed:
            logger.info("Worker %s takes back %d request(s) of its earlier run", self.name,
                        self.frontier.left_inflight)  # fmt: skip
        elif repaired:
            self._supersede(repaired)
        self._archive: sqlite3.Connection | None = None
        self._archive_checked = False

    def _supersede(self, repaired: list[RepairResult]) -> None:
        """Files an earlier run left open, whose requests were given to other workers (it
        was found dead) or whose crawl ended: kept, but out of the indexer's way."""
        target = self.capture.datadir.path / SUPERSEDED
        target.mkdir(exist_ok=True)
        for result in repaired:
            source = self.capture.datadir.warc_dir / result.name
            if source.exists():
                shutil.move(str(source), str(target / result.name))
                logger.warning("%s: its requests were crawled again by others; moved to %s",
                               result.name, target)  # fmt: skip

    def warcinfo(self) -> dict[str, str]:
        return warcinfo_run_fields(self.frontier.run_id, self.crawl_key, self.seeds, self.name)

    @property
    def warc_dirs(self) -> tuple[Path, ...]:
        """Where an earlier capture's record may be: this worker's files, the indexed
        ones, the other workers'."""
        others = sorted(self.data_dir.glob("workers/*/warcs"))
        return (self.capture.datadir.warc_dir, self.data_dir / "warcs", *others)

    # -- validators ---------------------------------------------------------------------

    def last_response(self, url: str) -> LastResponse | None:
        """The URL's latest full response: captured in this run by any worker (Redis), or
        else the latest of the indexed archive's and this worker's own."""
        shared = self.state.last_response(url)
        if shared is not None:
            return LastResponse(capture_id=None, **shared)  # type: ignore[arg-type]
        own = self.capture.archive.last_response(url)
        indexed = self._indexed(url)
        if indexed is not None and (own is None or indexed.fetched_at > own.fetched_at):
            return indexed
        return own

    def _indexed(self, url: str) -> LastResponse | None:
        if not self._archive_checked:
            self._archive_checked = True
            path = self.data_dir / "archive.db"
            if path.is_file():
                try:
                    self._archive = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                except sqlite3.Error as e:
                    logger.warning("Cannot read %s for earlier captures: %s", path, e)
        if self._archive is None:
            return None
        try:
            found = last_response(self._archive, url)
        except sqlite3.Error as e:
            logger.debug("Cannot read an earlier capture of %s: %s", url, e)
            return None
        if found is None:
            return None
        fields = asdict(found)
        fields["capture_id"] = None  # a row of another database
        return LastResponse(**fields)

    def remember(self, ref: CaptureRef, status: int, etag: str | None,
                 last_modified: str | None, content_type: str | None,
                 payload_length: int) -> None:  # fmt: skip
        """Share a full response's validators, once its records are flushed."""
        if ref.record_type != "response" or status != 200:
            return
        self.state.remember_response(ref.url, {
            "url": ref.url, "fetched_at": ref.fetched_at, "payload_digest": ref.payload_digest,
            "warc_record_id": ref.record_id, "warc_file": ref.warc_file,
            "warc_offset": ref.warc_offset, "content_type": content_type, "etag": etag,
            "last_modified": last_modified, "payload_length": payload_length,
        })  # fmt: skip

    # -- records for the indexer --------------------------------------------------------

    def record_failure(self, url: str, kind: str, reason: str, status: int | None,
                       capture_id: int | None) -> None:  # fmt: skip
        """The failure as a metadata record, for the indexer's ``failures`` table."""
        refers_to = None
        if capture_id is not None:
            row = self.capture.archive.db.execute(
                "select warc_record_id from captures where id = ?", [capture_id]
            ).fetchone()
            refers_to = row[0] if row else None
        store = self.capture.store
        if store is None:
            return
        store.record_metadata(url, failure_fields(kind, reason, status), refers_to)

    def closing(self, reason: str) -> None:
        """Before the WARC file is closed: the worker's end, as a metadata record."""
        store = self.capture.store
        if store is None or self.capture.error is not None:
            return
        last = reason == "finished" and self.state.leaving()
        pages = self.crawler.stats.get_value("response_received_count", 0)
        try:
            store.record_metadata(
                run_uri(self.frontier.run_id),
                run_end_fields(reason, pages, self.name, last),
            )
        except OSError as e:
            logger.error("Could not record the end of this worker's run: %s", e)

    def closed(self, reason: str, files_closed: bool) -> None:
        """After the WARC file is closed: this worker's handled requests are done for
        good (if its files closed), the rest go back to the queue, and it leaves."""
        try:
            if files_closed:
                self.state.seal(None)
            self.frontier.leave(finished=reason == "finished" and files_closed)
        except Exception as e:  # Redis gone: the lease expires and others take over
            logger.error("Could not leave the shared crawl cleanly: %s: %s",
                         type(e).__name__, e)  # fmt: skip
        finally:
            self.frontier.close()
            if self._archive is not None:
                self._archive.close()

    def spider_idle(self) -> None:
        store = self.capture.store
        self.frontier.spider_idle(seal=store.seal if store is not None else lambda: None)
