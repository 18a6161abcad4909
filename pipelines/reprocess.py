"""Rebuild the database from the WARC files alone, through the crawl's own path.

Every response and revisit record becomes a ``captures`` row by the crawl's rule
(:func:`archive.capture_store.capture_row`, with its request record's place); every page one
of them shows (:func:`archive.shown.shown_page`: a revisit shows its original's payload, as
in the crawl) goes through :func:`pipelines.extraction.analyze_page` in the extraction pool
(all cores); an article is stored by :class:`pipelines.store.PageStore` after the
rel=canonical rule of :mod:`pipelines.canonical`, applied in capture order as the crawl
applies it (a page deferring to its canonical URL waits for that URL's capture; redirects
are followed through the file's 3xx records). So a database rebuilt from a crawl's WARCs
equals the crawl's, table by table, but for what only a crawl knows (``crawls``,
``failures`` and ``captures.crawl_id``); see ``tests/test_rebuild.py``. Files that name
their run (a distributed crawl's workers write them: :mod:`archive.run_records`) give those
too: the run's ``crawls`` row, its captures' ``crawl_id``, its failures and its end. One
difference is known: reprocess has no seeds, so a canonical URL counts as "another page of
the site" when it is on the page's own host (the crawl takes any host in its scope).

Files are read in name order (their names start with the time they were opened) so
sightings keep their order. Idempotent: records already indexed are not added again, and
storing a capture's article again changes nothing (see :class:`archive.articles.
ArticleStore`), so a run killed part-way and run again ends with the tables of one
uninterrupted run.
"""

from __future__ import annotations

import asyncio
import logging
import re
import zlib
from collections import defaultdict, deque
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from warcio.exceptions import ArchiveLoadFailed

from archive.articles import Article
from archive.capture_store import capture_row, recover
from archive.database import ArchiveDB
from archive.datadir import DataDir
from archive.errors import ArchiveError
from archive.run_records import read_failure, read_run_end, read_run_info
from archive.shown import shown_page
from archive.warc_reader import (
    StoredRecord,
    is_archive_name,
    iter_records,
    unreadable_reason,
    warcinfo_fields,
)
from archive.warc_writer import RecordRef
from pipelines.canonical import CanonicalWaits, canonical_elsewhere
from pipelines.page import PageInput, is_html_page
from pipelines.pool import ExtractionFailed, ExtractionPool, ExtractionTimeout
from pipelines.store import NotStored, PageStore
from pipelines.urls import absolute_url, clean_link, same_site

logger = logging.getLogger(__name__)

#: warcinfo field naming the source's article pattern, written by the crawl.
ARTICLE_PATTERN_FIELD = "article-pattern"
#: Largest decoded body analyzed, as in the crawl (DOWNLOAD_MAXSIZE).
MAX_BODY = 32 * 1024 * 1024
#: Pages in the pool at once.
WINDOW = 32
#: ``failures.kind`` of a WARC file or record that cannot be read (or is cut short).
WARC_FAILURE = "warc"
#: ``failures.kind`` of a page that could not be decoded or analyzed.
EXTRACTION_FAILURE = "extraction"


@dataclass
class ReprocessResult:
    files: int = 0
    records: int = 0
    captures_added: int = 0
    pages: int = 0
    articles_new: int = 0
    versions_new: int = 0
    #: Failure records (of a run's files) added as ``failures`` rows.
    failures_recorded: int = 0
    failures: list[str] = field(default_factory=list)
    #: The files read, in order.
    names: list[str] = field(default_factory=list)


def _fail(archive: ArchiveDB, result: ReprocessResult, kind: str, url: str, reason: str) -> None:
    """A problem said once (``result.failures``, one line) and kept as a ``failures`` row,
    not again when the same file is read again."""
    result.failures.append(f"{url}: {reason}")
    archive.add_failure_once(url, kind, reason)


@dataclass
class _Capture:
    """A response or revisit record, indexed; ``page`` when it shows an HTML page."""

    capture_id: int
    fetched_at: str
    #: The URLs it answers: its own and those that redirected to it (in this file).
    here: list[str]
    page: PageInput | None
    #: For a redirect: where it leads (clean).
    redirect_to: str | None = None


def _files(warc_dir: Path, skip: set[str]) -> list[Path]:
    """The WARC and ARC files of ``warc_dir`` (gzipped or not), in name order."""
    return [
        p
        for p in sorted(warc_dir.iterdir())
        if is_archive_name(p.name) and p.is_file() and p.name not in skip
    ]


class _FileReader:
    """Indexes the records of one WARC file, in order, as the crawl indexed them."""

    def __init__(self, path: Path, archive: ArchiveDB, result: ReprocessResult) -> None:
        self.path = path
        self.archive = archive
        self.result = result
        self.pattern: re.Pattern[str] | None = None
        #: Redirect targets (clean) to the URLs that redirected there, in this file.
        self.redirected_from: dict[str, set[str]] = defaultdict(set)
        self.added: set[str] = set()  # record ids of the captures added from this file
        #: Where the next record starts: the end of the last one read whole.
        self.position = 0
        self.runs = archive.runs()
        #: The ``crawls`` row of the run the current warcinfo names (None: no run).
        self.crawl_id: int | None = None
        self.run: str | None = None
        #: Every run this file has touched: its counts are set again at the end.
        self.crawl_ids: set[int] = set()

    def captures(self) -> Iterator[_Capture]:
        for record in iter_records(self.path):
            self.result.records += 1
            self.position = max(self.position, record.offset + record.length)
            if record.truncated is not None:
                self._cut_short(record)
                continue
            if record.record_type == "warcinfo":
                fields = warcinfo_fields(record)
                value = fields.get(ARTICLE_PATTERN_FIELD)
                self.pattern = re.compile(value) if value else None
                self._warcinfo_run(record, fields)
            elif record.record_type == "metadata":
                self._metadata(record)
            elif record.record_type == "request":
                self._request(record)
            elif record.record_type in ("response", "revisit"):
                capture = self._capture(record)
                if capture is not None:
                    yield capture

    def _warcinfo_run(self, record: StoredRecord, fields: dict[str, str]) -> None:
        """The run this file belongs to, from its warcinfo: found or made."""
        info = read_run_info(fields)
        if info is None:
            self.crawl_id = self.run = None
            return
        self.run = info.run
        self.crawl_id = self.runs.run_crawl(
            info.run, seeds=info.seeds, source=info.source, key=info.crawl_key,
            started_at=record.header("WARC-Date"),
        )  # fmt: skip
        self.runs.note_run_file(self.crawl_id, self.path.name)
        self.crawl_ids.add(self.crawl_id)

    def _metadata(self, record: StoredRecord) -> None:
        """A failure or a worker's end (other metadata, such as Heritrix's, is skipped)."""
        if b"reviewarc-" not in record.payload:
            return
        fields = warcinfo_fields(record)
        record_id = record.header("WARC-Record-ID") or ""
        url = record.header("WARC-Target-URI") or ""
        date = record.header("WARC-Date") or ""
        end = read_run_end(url, fields)
        if end is not None and record_id:
            crawl_id = self.crawl_id if end.run == self.run else None
            if crawl_id is None:
                crawl_id = self.runs.run_crawl(end.run)
            self.runs.add_run_end(
                crawl_id, record_id, outcome=end.outcome, pages=end.pages, worker=end.worker,
                last=end.last, at=date,
            )  # fmt: skip
            self.crawl_ids.add(crawl_id)
            return
        failure = read_failure(fields)
        if failure is None or not record_id or self.runs.has_failure_record(record_id):
            return
        self.archive.add_failure(
            url, failure.kind, failure.reason, status=failure.status,
            capture_id=self.runs.capture_of_record(record.header("WARC-Refers-To")),
            crawl_id=self.crawl_id, failed_at=date or None, warc_record_id=record_id,
        )  # fmt: skip
        self.result.failures_recorded += 1

    def finish(self) -> None:
        """The end of the file: the counts of the runs it touched, as a crawl's end sets them."""
        for crawl_id in self.crawl_ids:
            self.runs.count_crawl(crawl_id)

    def _cut_short(self, record: StoredRecord) -> None:
        """A record holding fewer bytes than its header says is neither indexed nor read:
        its page would be shown, and replayed, as if whole."""
        url = record.header("WARC-Target-URI") or self.path.name
        block = len(record.http_head) + len(record.payload)
        reason = (
            f"{self.path.name} at offset {record.offset}: {record.record_type} record cut "
            f"short ({block} of {record.truncated} bytes)"
        )
        logger.info("%s: %s", url, reason)
        _fail(self.archive, self.result, WARC_FAILURE, url, reason)

    def _request(self, record: StoredRecord) -> None:
        """The crawl writes an exchange's request record after its response's."""
        response_id = record.header("WARC-Concurrent-To")
        if response_id in self.added:
            self.archive.set_request_record(response_id, record.offset, record.length)

    def _capture(self, record: StoredRecord) -> _Capture | None:
        url = record.header("WARC-Target-URI") or ""
        if not url:
            reason = f"{self.path.name} at offset {record.offset}: record has no WARC-Target-URI"
            _fail(self.archive, self.result, WARC_FAILURE, self.path.name, reason)
            return None
        status, headers = record.http_status, record.http_headers
        original = self.archive.response_of_record(record.header("WARC-Refers-To"))
        row = capture_row(
            url=url,
            warc_date=record.header("WARC-Date") or "",
            status=status,
            content_type=headers.get("content-type"),
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            record_type=record.record_type,
            payload_digest=record.header("WARC-Payload-Digest") or "",
            payload_length=len(record.payload),
            response=RecordRef(
                record.header("WARC-Record-ID") or "",
                record.warc_file,
                record.offset,
                record.length,
            ),
            request=None,
            ip_address=record.header("WARC-IP-Address"),
            crawl_id=self.crawl_id,
            original=original,
        )
        capture_id, added = self.archive.ensure_capture(row)
        if added:
            self.added.add(row.warc_record_id)
        elif self.crawl_id is not None:
            self.runs.claim_capture(capture_id, self.crawl_id)
        self.result.captures_added += added
        if 300 <= status < 400 and status != 304:
            location = absolute_url(url, (headers.get("location") or "").strip())
            if not location:  # none, or no URL can be made of it
                return None
            target = clean_link(location)
            self.redirected_from[target].add(clean_link(url))
            # The crawl handles the page it redirects to, not the redirect itself.
            return _Capture(capture_id, row.fetched_at, [url], None, redirect_to=target)
        here = self._here(url)
        try:
            shown = shown_page(self.path.parent, record_type=record.record_type, status=status,
                               headers=headers, payload=record.payload, original=original,
                               max_size=MAX_BODY)  # fmt: skip
        except (ArchiveError, OSError, ValueError) as e:
            _fail(self.archive, self.result, EXTRACTION_FAILURE, url, str(e))
            return _Capture(capture_id, row.fetched_at, here, None)
        if shown is None or not is_html_page(shown.content_type, shown.body):
            return _Capture(capture_id, row.fetched_at, here, None)
        page = PageInput(
            url=url,
            body=shown.body,
            content_type=shown.content_type,
            content_language=shown.headers.get("content-language"),
            matches_article_pattern=bool(self.pattern and self.pattern.search(url)),
            links=False,  # nothing to crawl: only the article is wanted
        )
        return _Capture(capture_id, row.fetched_at, here, page)

    def _here(self, url: str) -> list[str]:
        """``url`` and every URL that redirected to it, through any chain (in this file)."""
        here, todo = [url], [clean_link(url)]
        seen = set(todo)
        while todo:
            for source in self.redirected_from.get(todo.pop(), ()):
                if source not in seen:
                    seen.add(source)
                    here.append(source)
                    todo.append(source)
        return here


#: What reading a damaged WARC file raises (warcio, gzip, ISA-L).
UNREADABLE = (ArchiveLoadFailed, ArchiveError, OSError, EOFError, zlib.error)


class _Storer:
    """Stores the analyses of one file's captures in order, through the crawl's path: the
    rel=canonical rule of :mod:`pipelines.canonical` (an article deferring to another URL
    waits for that URL's capture, as in the crawl) and :class:`pipelines.store.PageStore`."""

    def __init__(self, archive: ArchiveDB, result: ReprocessResult) -> None:
        self.archive = archive
        self.store = PageStore(archive, in_transaction=True)
        self.result = result
        self.waits: CanonicalWaits[tuple[_Capture, Article]] = CanonicalWaits()

    def handled(self, capture: _Capture, analysis: object) -> None:
        """One capture, in file order: a redirect moves what waits on its URL; a page's
        article is stored, waits on its canonical URL, or is dropped for it; then what
        waited on this page is settled."""
        if capture.redirect_to is not None:
            release, _ = self.waits.redirect(clean_link(capture.here[0]), capture.redirect_to)
            self._save_all(release)
            return
        article = self._article(capture, analysis)
        stored = article is not None and self._store_or_wait(capture, article)
        release, _ = self.waits.settle([clean_link(u) for u in capture.here], stored)
        self._save_all(release)

    def _article(self, capture: _Capture, analysis: object) -> Article | None:
        if capture.page is None:
            return None
        self.result.pages += 1
        if isinstance(analysis, ExtractionTimeout | ExtractionFailed):
            _fail(self.archive, self.result, EXTRACTION_FAILURE, capture.page.url, str(analysis))
            return None
        if isinstance(analysis, BaseException):
            raise analysis
        return None if analysis is None else analysis.article  # type: ignore[attr-defined]

    def _store_or_wait(self, capture: _Capture, article: Article) -> bool:
        """Store ``article`` unless its page defers to another URL (the crawl's rule);
        whether it was stored now."""
        canonical = canonical_elsewhere(
            article.canonical_url, capture.here, partial(same_site, article.url)
        )
        if canonical is None:
            return self._save(capture, article)
        decision = self.waits.decide(canonical)
        if decision == "wait":
            here = [clean_link(u) for u in capture.here]
            self.waits.wait(canonical, (capture, article), here)
        return decision == "store" and self._save(capture, article)

    def _save_all(self, waiting: list[tuple[_Capture, Article]]) -> None:
        for capture, article in waiting:
            self._save(capture, article)

    def finish(self) -> None:
        """End of the file: articles whose canonical URL was never captured are stored from
        their own pages, as the crawl stores them when that URL fails."""
        self._save_all(self.waits.unsettled())

    def _save(self, capture: _Capture, article: Article) -> bool:
        saved = self.store.save(article, capture.capture_id, capture.fetched_at)
        if isinstance(saved, NotStored):
            self.result.failures.append(f"{article.url}: {saved.reason}")
            return False
        self.result.articles_new += saved.new_article
        self.result.versions_new += saved.new_version
        return True


async def _run(
    archive: ArchiveDB,
    pool: ExtractionPool,
    files: list[Path],
    result: ReprocessResult,
    progress: Callable[[Path, int], None],
    stop: Callable[[], bool],
) -> None:
    for path in files:
        if stop():  # between files: each is indexed whole or not at all
            break
        # One transaction per file: its captures and articles appear together or not at all
        # (so ``--new`` never skips a half-indexed file), and one commit instead of thousands.
        with archive.transaction():
            await _index_file(path, archive, pool, result)
        result.files += 1
        progress(path, result.records)


async def _index_file(
    path: Path, archive: ArchiveDB, pool: ExtractionPool, result: ReprocessResult
) -> None:
    storer = _Storer(archive, result)
    records_before = result.records
    # A window of pages in the pool: workers stay busy while results are stored in order.
    window: deque[tuple[_Capture, asyncio.Future | None]] = deque()

    async def drain(keep: int) -> None:
        while len(window) > keep:
            capture, future = window.popleft()
            try:
                analysis = None if future is None else await future
            except (ExtractionTimeout, ExtractionFailed) as e:
                analysis = e
            storer.handled(capture, analysis)

    reader = _FileReader(path, archive, result)
    try:
        for capture in reader.captures():
            future = None
            if capture.page is not None:
                future = asyncio.ensure_future(pool.analyze(capture.page))
            window.append((capture, future))
            await drain(keep=WINDOW)
    except UNREADABLE as e:
        # A broken file (bad gzip members, a record that is not one, not a WARC at all):
        # what was read before the break is indexed, the rest is said, the next file goes on.
        reason = f"{path.name} at offset {reader.position}: unreadable: {unreadable_reason(e)}"
        logger.info("%s", reason)
        _fail(archive, result, WARC_FAILURE, path.name, reason)
    else:
        if result.records == records_before:
            reason = f"{path.name}: empty file, no records"
            _fail(archive, result, WARC_FAILURE, path.name, reason)
    await drain(keep=0)
    storer.finish()
    reader.finish()
    result.names.append(path.name)


def reprocess(
    datadir: DataDir,
    *,
    only_new: bool = False,
    workers: int | None = None,
    progress: Callable[[Path, int], None] = lambda path, records: None,
    exclude: Collection[str] = (),
    stop: Callable[[], bool] = lambda: False,
) -> ReprocessResult:
    """Rebuild the database from ``datadir``'s WARC files. Holds the data directory lock.

    ``only_new``: only files that are not indexed yet; ``exclude``: file names not to read;
    ``stop``: asked before each file, true to stop there (the files read stay indexed).
    """
    datadir.create()
    datadir.lock()
    try:
        # Its workers start while the archive is opened; none when there is nothing to read
        # (a ``.open`` file counts: recover() closes it).
        anything = any(p.is_file() and p.name not in exclude for p in datadir.warc_dir.iterdir())
        pool = ExtractionPool(workers if anything else 0)
        try:
            archive = ArchiveDB.open(datadir.db_path)
        except BaseException:
            pool.close()
            raise
        try:
            recover(datadir, archive)
            skip = archive.warc_files_indexed() if only_new else set()
            files = _files(datadir.warc_dir, skip | set(exclude))
            result = ReprocessResult()
            asyncio.run(_run(archive, pool, files, result, progress, stop))
        finally:
            pool.close()  # before the checkpoint: every page is analyzed by now
            archive.close()
        return result
    finally:
        datadir.unlock()


def warc_files(datadir: DataDir) -> list[Path]:
    return _files(datadir.warc_dir, set())
