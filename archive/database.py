"""The archive database (``DIR/archive.db``): a derived view of the WARC files."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlite_utils import Database

from archive import rows
from archive.articles import ArticleStore
from archive.migrations import migrate
from archive.runs import RunStore

logger = logging.getLogger(__name__)


def completes(outcome: str) -> bool:
    """Did a run that ended so complete its crawl (so the next run starts afresh)? Any
    other outcome (killed, stopped, a failed write) leaves the frontier to the next run."""
    return outcome == "finished" or outcome.startswith("closespider")


#: The SQL form of :func:`completes`, over ``crawls.outcome``.
_COMPLETED = "(outcome = 'finished' or outcome like 'closespider%')"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class CaptureRow:
    url: str
    fetched_at: str
    status: int
    content_type: str | None
    record_type: str
    payload_digest: str
    payload_length: int
    warc_file: str
    warc_offset: int
    warc_length: int
    warc_record_id: str
    request_offset: int | None = None
    request_length: int | None = None
    ip_address: str | None = None
    crawl_id: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    refers_to_id: int | None = None


@dataclass(frozen=True)
class LastResponse:
    """A full response record's capture: the latest 200 of a URL (the one a new revisit
    stands for), or the one an archived revisit refers to."""

    capture_id: int
    url: str
    fetched_at: str
    payload_digest: str
    warc_record_id: str
    warc_file: str
    warc_offset: int
    content_type: str | None
    etag: str | None
    last_modified: str | None
    payload_length: int


_RESPONSE_COLUMNS = (
    "id, url, fetched_at, payload_digest, warc_record_id, warc_file, warc_offset,"
    " content_type, etag, last_modified, payload_length"
)


def last_response(con: sqlite3.Connection, url: str) -> LastResponse | None:
    """The latest full 200 response archived for ``url`` (any connection, read-only too)."""
    row = con.execute(
        f"select {_RESPONSE_COLUMNS} from captures"
        " where url = ? and status = 200 and record_type = 'response'"
        " order by fetched_at desc, id desc limit 1",
        [url],
    ).fetchone()
    return LastResponse(*row) if row else None


def connect(path: str | os.PathLike[str] | None = None, *, memory: bool = False) -> Database:
    """Open (or create) an archive database in WAL mode with a busy timeout."""
    db = Database(memory=True) if memory else Database(path)
    db.execute("PRAGMA busy_timeout = 10000")
    if not memory:
        db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


class ArchiveDB:
    """Typed access to the archive database. Takes a :class:`Database`.

    :meth:`open` is the writer's handle (one per crawl or reprocess run, holding the data
    directory's lock); :meth:`open_readonly` is every reader's (commands, the web view,
    tests): it can only read, whatever SQL it is given.
    """

    def __init__(self, db: Database, *, readonly: bool = False) -> None:
        self.db = db
        self.readonly = readonly
        if not readonly:
            migrate(db)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> ArchiveDB:
        return cls(connect(path))

    @classmethod
    def open_readonly(cls, path: str | os.PathLike[str]) -> ArchiveDB:
        """A reader's handle on an existing ``archive.db`` (see :mod:`archive.readonly`). An
        archive made by an older reviewarc is first brought to the current schema (the one
        write a reader makes, and only then)."""
        from archive.migrations import MIGRATIONS, schema_version
        from archive.readonly import connect_readonly

        db = Database(connect_readonly(path), recursive_triggers=False, execute_plugins=False)
        if schema_version(db) < len(MIGRATIONS):
            db.close()
            cls.open(path).close()
            db = Database(connect_readonly(path), recursive_triggers=False, execute_plugins=False)
        return cls(db, readonly=True)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction around the block: committed when it ends, rolled back when it
        raises (anything, KeyboardInterrupt too)."""
        self.db.begin()
        try:
            yield
        except BaseException:
            self.db.rollback()
            raise
        self.db.commit()

    @property
    def in_transaction(self) -> bool:
        """Is a transaction open (SQLite's own answer: after some errors, such as a full
        disk, it has rolled back by itself)?"""
        return self.db.conn.in_transaction

    def articles(self) -> ArticleStore:
        """The article store on this handle's connection."""
        return ArticleStore(self.db)

    def runs(self) -> RunStore:
        """The runs' rows as their WARC files tell them, on this handle's connection."""
        return RunStore(self.db)

    def close(self) -> None:
        """Fold the write-ahead log back into ``archive.db`` and close: the file alone is then
        the whole database (for a copy, a backup, or a tool that ignores ``-wal`` files)."""
        if self.readonly:
            self.db.close()
            return
        try:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as e:  # a reader holding the log open: it is folded in later
            logger.debug("No checkpoint on close: %s", e)
        self.db.close()

    # -- crawls --------------------------------------------------------------------------

    def start_crawl(
        self,
        seeds: Iterable[str],
        source: str | None = None,
        key: str | None = None,
        run: str | None = None,
    ) -> int:
        """A new ``crawls`` row. ``run``: the run id its WARC files' warcinfo names
        (``reviewarc-run``), so that reading them again finds this row."""
        with self.db.atomic():
            # A run that never finished (killed) is continued by this one.
            self.db.execute(
                "update crawls set outcome = 'interrupted' where crawl_key = ? and outcome is null",
                [key],
            )
            table = self.db["crawls"].insert(
                {"source": source, "seeds": json.dumps(list(seeds)), "started_at": now_iso(),
                 "crawl_key": key, "run": run}
            )  # fmt: skip
        return int(table.last_pk)

    def unfinished_capture(self, key: str, url: str) -> tuple[int, CaptureRow] | None:
        """The capture of ``url`` made by an unfinished run of crawl ``key`` that the
        current run continues: one after the key's last run that ended (an interrupted run
        of an earlier crawl that was later finished holds that crawl's pages, not this one's).
        """
        row = self.db.execute(
            "select c.* from captures c join crawls k on k.id = c.crawl_id"
            " where k.crawl_key = :key and c.url = :url"
            " and k.outcome is not null"  # not the current run
            " and k.id > coalesce((select max(id) from crawls where crawl_key = :key"
            f" and {_COMPLETED}), 0)"
            " order by c.id desc limit 1",
            {"key": key, "url": url},
        ).fetchone()
        if row is None:
            return None
        columns = [d[0] for d in self.db.execute("select * from captures limit 0").description]
        values = dict(zip(columns, row, strict=True))
        capture_id = values.pop("id")
        return capture_id, CaptureRow(**values)

    def finish_crawl(self, crawl_id: int, outcome: str, *, pages: int = 0) -> None:
        counts = self.db.execute(
            "select (select count(*) from captures where crawl_id = :id),"
            " (select count(*) from failures where crawl_id = :id)",
            {"id": crawl_id},
        ).fetchone()
        with self.db.atomic():
            self.db["crawls"].update(
                crawl_id,
                {
                    "finished_at": now_iso(),
                    "outcome": outcome,
                    "pages": pages,
                    "captures": counts[0],
                    "failures": counts[1],
                },
            )

    def crawl_counts(self, crawl_id: int) -> tuple[int, int, int]:
        """Captures, WARC files and failures of crawl ``crawl_id``."""
        captures, files = self.db.execute(
            "select count(*), count(distinct warc_file) from captures where crawl_id = ?",
            [crawl_id],
        ).fetchone()
        (failures,) = self.db.execute(
            "select count(*) from failures where crawl_id = ?", [crawl_id]
        ).fetchone()
        return captures, files, failures

    def crawl_captures(self, crawl_id: int | None) -> list[tuple[int, str | None, str, str]]:
        """``(status, content type, URL, WARC file)`` of each capture of a crawl, in order."""
        return self.db.execute(
            "select status, content_type, url, warc_file from captures where crawl_id = ?"
            " order by id",
            [crawl_id],
        ).fetchall()

    def crawl_failures(self, crawl_id: int | None) -> list[tuple[str, str, str]]:
        """``(kind, URL, reason)`` of each failure of a crawl, in order."""
        return self.db.execute(
            "select kind, url, reason from failures where crawl_id = ? order by id", [crawl_id]
        ).fetchall()

    def crawl_articles(self, crawl_id: int | None) -> list[tuple]:
        """``(title, author, published, rating value, rating best, URL)`` of each article
        whose latest capture a crawl made, newest first."""
        return self.db.execute(
            "select a.title, a.author, a.published, a.rating_value, a.rating_best, a.url "
            "from articles a join captures c on c.id = a.capture_id where c.crawl_id = ? "
            "order by a.published desc",
            [crawl_id],
        ).fetchall()

    def latest_articles(self, limit: int = 20) -> list[tuple]:
        """The same columns for the archive's articles, whichever crawl found them, newest
        first."""
        return self.db.execute(
            "select title, author, published, rating_value, rating_best, url from articles "
            "order by published desc limit ?",
            [limit],
        ).fetchall()

    # -- captures ------------------------------------------------------------------------

    def add_capture(self, row: CaptureRow) -> int:
        """Insert one capture row and commit. Call after its WARC record is flushed."""
        with self.db.atomic():
            return rows.insert(self.db, "captures", vars(row))

    def last_response(self, url: str) -> LastResponse | None:
        return last_response(self.db.conn, url)

    def ensure_capture(self, row: CaptureRow) -> tuple[int, bool]:
        """The id of the row for this record, inserting it if missing; and whether it was."""
        found = self.db.execute(
            "select id from captures where warc_file = ? and warc_offset = ?",
            [row.warc_file, row.warc_offset],
        ).fetchone()
        if found:
            return int(found[0]), False
        return self.add_capture(row), True

    def response_of_record(self, record_id: str | None) -> LastResponse | None:
        """The full response whose WARC-Record-ID is ``record_id`` (what a revisit record's
        WARC-Refers-To names), if it is indexed."""
        if not record_id:
            return None
        row = self.db.execute(
            f"select {_RESPONSE_COLUMNS} from captures where warc_record_id = ?", [record_id]
        ).fetchone()
        return LastResponse(*row) if row else None

    def response_of_capture(self, capture_id: int | None) -> LastResponse | None:
        """Capture ``capture_id`` as a full response (a revisit's ``refers_to_id``)."""
        if capture_id is None:
            return None
        row = self.db.execute(
            f"select {_RESPONSE_COLUMNS} from captures where id = ?", [capture_id]
        ).fetchone()
        return LastResponse(*row) if row else None

    def has_article(self, url: str) -> bool:
        return self.db.execute("select 1 from articles where url = ?", [url]).fetchone() is not None

    def set_request_record(self, response_record_id: str, offset: int, length: int) -> None:
        """Note where the request record of an indexed response lies (``reprocess`` meets it
        after the response: the crawl writes the response first)."""
        self.db.execute(
            "update captures set request_offset = ?, request_length = ?"
            " where warc_record_id = ? and request_offset is null",
            [offset, length, response_record_id],
        )

    def warc_files_indexed(self) -> set[str]:
        """Names of WARC files that have rows in ``captures``, or were read as a run's."""
        return {
            r[0]
            for r in self.db.execute(
                "select distinct warc_file from captures union select j.value from crawls,"
                " json_each(crawls.warc_files) j where crawls.warc_files is not null"
            )
        }

    def forget_captures_after(self, warc_file: str, size: int) -> int:
        """Delete rows pointing past ``size`` bytes of ``warc_file`` (records lost in a
        crash and cut off by repair). Returns how many were deleted."""
        with self.db.atomic():
            cursor = self.db.execute(
                "delete from captures where warc_file = ? and warc_offset >= ?", [warc_file, size]
            )
        return cursor.rowcount

    # -- failures ------------------------------------------------------------------------

    def add_failures(self, failures: list[tuple[str, str, str]], crawl_id: int | None) -> None:
        """``(url, kind, reason)`` rows in one transaction: the requests a crawl failed
        without sending them (their host was found dead)."""
        when = now_iso()
        with self.db.atomic():
            self.db["failures"].insert_all(
                {"url": url, "failed_at": when, "kind": kind, "status": None,
                 "reason": reason, "capture_id": None, "crawl_id": crawl_id}
                for url, kind, reason in failures
            )  # fmt: skip

    def add_failure_once(self, url: str, kind: str, reason: str) -> None:
        """A failure of no crawl (``reprocess``), unless the same one is already recorded:
        reading the same files again adds no rows."""
        found = self.db.execute(
            "select 1 from failures where crawl_id is null and url = ? and kind = ? and reason = ?",
            [url, kind, reason],
        ).fetchone()
        if not found:
            self.add_failure(url, kind, reason)

    def add_failure(
        self,
        url: str,
        kind: str,
        reason: str,
        *,
        status: int | None = None,
        capture_id: int | None = None,
        crawl_id: int | None = None,
        failed_at: str | None = None,
        warc_record_id: str | None = None,
    ) -> int:
        """One ``failures`` row. ``warc_record_id``: the metadata record that states it in
        the WARC files (:func:`archive.run_records.failure_fields`), so that reading them
        again adds no second row."""
        with self.db.atomic():
            table = self.db["failures"].insert(
                {
                    "url": url,
                    "failed_at": failed_at or now_iso(),
                    "kind": kind,
                    "status": status,
                    "reason": reason,
                    "capture_id": capture_id,
                    "crawl_id": crawl_id,
                    "warc_record_id": warc_record_id,
                }
            )
        return int(table.last_pk)
