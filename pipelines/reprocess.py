"""Rebuild ``captures``, ``articles`` and ``article_versions`` from the WARC files alone.

The same code as the crawl: every response and revisit record becomes a ``captures`` row, and
every HTML page one of them shows (a revisit shows its original's payload) goes through
:func:`pipelines.extraction.analyze_page` in the extraction pool (all cores) and, if it is an
article, into :class:`archive.articles.ArticleStore`. Files are read in name order (their names
start with the time they were opened) so sightings keep their order. Idempotent: records
already indexed are not added again, and storing a capture's article again changes nothing
(see :class:`archive.articles.ArticleStore`), so a run killed part-way and run again ends with
the tables of one uninterrupted run.
"""

from __future__ import annotations

import asyncio
import logging
import re
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from warcio.exceptions import ArchiveLoadFailed

from archive.articles import ArticleStore
from archive.database import ArchiveDB, CaptureRow
from archive.datadir import DataDir
from archive.decoding import decode_body
from archive.errors import ArchiveError
from archive.warc_reader import StoredRecord, iter_records, locate, read_record
from pipelines.page import PageInput, is_html_page
from pipelines.pool import ExtractionFailed, ExtractionPool, ExtractionTimeout

logger = logging.getLogger(__name__)

#: warcinfo field naming the source's article pattern, written by the crawl.
ARTICLE_PATTERN_FIELD = "article-pattern"
#: Largest decoded body analyzed, as in the crawl (DOWNLOAD_MAXSIZE).
MAX_BODY = 32 * 1024 * 1024
#: Pages in the pool at once.
WINDOW = 32


@dataclass
class ReprocessResult:
    files: int = 0
    records: int = 0
    captures_added: int = 0
    pages: int = 0
    articles_new: int = 0
    versions_new: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass
class _Page:
    capture_id: int
    fetched_at: str
    page: PageInput


def _files(warc_dir: Path, skip: set[str]) -> list[Path]:
    return [p for p in sorted(warc_dir.glob("*.warc.gz")) if p.name not in skip]


def _pages(path: Path, archive: ArchiveDB, result: ReprocessResult) -> Iterator[_Page]:
    """Index the response and revisit records of ``path``; yield the HTML pages to analyze."""
    pattern: re.Pattern[str] | None = None
    for record in iter_records(path):
        result.records += 1
        if record.record_type == "warcinfo":
            fields = dict(
                line.split(": ", 1) for line in record.payload.decode("utf-8", "replace").split(
                    "\r\n") if ": " in line
            )  # fmt: skip
            value = fields.get(ARTICLE_PATTERN_FIELD)
            pattern = re.compile(value) if value else None
            continue
        if record.record_type not in ("response", "revisit"):
            continue
        url = record.header("WARC-Target-URI") or ""
        status, headers = record.http_status, record.http_headers
        refers_to_id = archive.capture_id_of(record.header("WARC-Refers-To"))
        original_type, original_length = archive.original_of(refers_to_id)
        content_type = headers.get("content-type") or original_type
        row = CaptureRow(
            url=url,
            fetched_at=record.header("WARC-Date") or "",
            status=status,
            content_type=content_type,
            record_type=record.record_type,
            payload_digest=record.header("WARC-Payload-Digest") or "",
            payload_length=len(record.payload) if original_length is None else original_length,
            warc_file=record.warc_file,
            warc_offset=record.offset,
            warc_length=record.length,
            warc_record_id=record.header("WARC-Record-ID") or "",
            ip_address=record.header("WARC-IP-Address"),
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            refers_to_id=refers_to_id,
        )
        capture_id, added = archive.ensure_capture(row)
        result.captures_added += added
        try:
            shown = _shown(path.parent, archive, record, refers_to_id)
            if shown is None:
                continue
            payload, headers = shown
            body = decode_body(payload, headers.get("content-encoding"), MAX_BODY)
        except (ArchiveError, OSError, ValueError) as e:
            result.failures.append(f"{url}: {e}")
            continue
        if not is_html_page(headers.get("content-type"), body):
            continue
        yield _Page(
            capture_id,
            row.fetched_at,
            PageInput(
                url=url,
                body=body,
                content_type=headers.get("content-type"),
                content_language=headers.get("content-language"),
                matches_article_pattern=bool(pattern and pattern.search(url)),
                links=False,  # nothing to crawl: only the article is wanted
            ),
        )


def _shown(
    warc_dir: Path, archive: ArchiveDB, record: StoredRecord, refers_to_id: int | None
) -> tuple[bytes, dict[str, str]] | None:
    """Payload and HTTP headers of the page a record shows, or None for no page.

    A 2xx response shows its own. A revisit shows its original's payload, as in the crawl,
    which stores the article of an unchanged page again (moving its ``last_seen``): a 304
    gets the page as last archived with only its content type, a 200 whose payload was the
    last capture's keeps its own headers.
    """
    status = record.http_status
    if record.record_type == "response":
        return (record.payload, record.http_headers) if 200 <= status < 300 else None
    if refers_to_id is None or status not in (200, 304):
        return None
    found = archive.db.execute(
        "select warc_file, warc_offset, content_type from captures where id = ?", [refers_to_id]
    ).fetchone()
    if found is None:
        return None
    original = read_record(locate(warc_dir, found[0]), found[1])
    if status == 200:
        return original.payload, record.http_headers
    headers = {"content-type": found[2] or "text/html"}
    encoding = original.http_headers.get("content-encoding")
    return original.payload, {**headers, "content-encoding": encoding} if encoding else headers


#: What reading a damaged WARC file raises (warcio, gzip, ISA-L).
UNREADABLE = (ArchiveLoadFailed, ArchiveError, OSError, EOFError, zlib.error)


def _canonical_elsewhere(archive: ArchiveDB, url: str, canonical: str | None) -> bool:
    """The crawl stores an article under its rel=canonical URL when that is another page of
    the same site that was fetched; do the same here."""
    if not canonical or urlsplit(canonical).netloc != urlsplit(url).netloc:
        return False
    canonical = canonical.split("#", 1)[0]
    if canonical == url:
        return False
    return (
        archive.db.execute(
            "select 1 from captures where url = ? and status between 200 and 299 limit 1",
            [canonical],
        ).fetchone()
        is not None
    )


async def _run(
    datadir: DataDir,
    archive: ArchiveDB,
    pool: ExtractionPool,
    files: list[Path],
    result: ReprocessResult,
    progress: Callable[[Path, int], None],
) -> None:
    store = ArticleStore(archive.db)
    # A window of pages in the pool: workers stay busy while results are stored in order.
    window: deque[tuple[_Page, asyncio.Future]] = deque()

    def store_oldest(item: _Page, analysis: object) -> None:
        result.pages += 1
        if isinstance(analysis, ExtractionTimeout | ExtractionFailed):
            result.failures.append(f"{item.page.url}: {analysis}")
            return
        if isinstance(analysis, BaseException):
            raise analysis
        article = analysis.article  # type: ignore[attr-defined]
        if article is None or _canonical_elsewhere(archive, article.url, article.canonical_url):
            return
        try:
            saved = store.save(article, item.capture_id, item.fetched_at)
        except Exception as e:
            # save() rolled back to its savepoint, so the file's transaction goes on without
            # this article, as the crawl goes on after a failure row. An error that ended the
            # transaction itself would leave the file half indexed: that one stops the run.
            if not archive.db.conn.in_transaction:
                raise
            logger.warning("Could not store the article of %s: %s", item.page.url, e)
            result.failures.append(f"{item.page.url}: could not store: {e}")
            return
        result.articles_new += saved.new_article
        result.versions_new += saved.new_version

    async def drain(keep: int) -> None:
        while len(window) > keep:
            item, future = window.popleft()
            try:
                analysis = await future
            except (ExtractionTimeout, ExtractionFailed) as e:
                analysis = e
            store_oldest(item, analysis)

    for path in files:
        # One transaction per file: its captures and articles appear together or not at all
        # (so ``--new`` never skips a half-indexed file), and one commit instead of thousands.
        archive.db.begin()
        try:
            try:
                for page in _pages(path, archive, result):
                    window.append((page, asyncio.ensure_future(pool.analyze(page.page))))
                    await drain(keep=WINDOW)
            except UNREADABLE as e:
                # A broken file (bad gzip members, a record that is not one): what was read
                # before the break is indexed, the rest is said, the next file goes on.
                reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                logger.warning("%s is unreadable past this point: %s", path.name, reason)
                result.failures.append(f"{path.name}: unreadable WARC record: {reason}")
            await drain(keep=0)
        except BaseException:
            archive.db.rollback()
            raise
        archive.db.commit()
        result.files += 1
        progress(path, result.records)


def reprocess(
    datadir: DataDir,
    *,
    only_new: bool = False,
    workers: int | None = None,
    progress: Callable[[Path, int], None] = lambda path, records: None,
) -> ReprocessResult:
    """Rebuild the database from ``datadir``'s WARC files. Holds the data directory lock."""
    datadir.create()
    datadir.lock()
    try:
        pool = ExtractionPool(workers)  # its workers start while the archive is opened
        try:
            archive = ArchiveDB.open(datadir.db_path)
        except BaseException:
            pool.close()
            raise
        from archive.capture_store import recover

        try:
            recover(datadir, archive)
            skip = archive.warc_files_indexed() if only_new else set()
            files = _files(datadir.warc_dir, skip)
            result = ReprocessResult()
            asyncio.run(_run(datadir, archive, pool, files, result, progress))
        finally:
            pool.close()  # before the checkpoint: every page is analyzed by now
            archive.close()
        return result
    finally:
        datadir.unlock()


def warc_files(datadir: DataDir) -> list[Path]:
    return _files(datadir.warc_dir, set())
