"""``crawls`` and ``failures`` rows as a crawl's own WARC records tell them
(:mod:`archive.run_records`): what ``reprocess`` and ``reviewarc index`` rebuild them from.

Every write is idempotent: a run's row is found by its run id, a worker's end and a failure
by the id of the record that states it, so reading the same files again changes nothing.

A row a crawl made itself (:meth:`archive.database.ArchiveDB.start_crawl` with its ``run``,
``warc_files`` NULL) is the crawl's own: reading its files again only gives it the captures
it lacks, so that ``reprocess`` over a crawl's own database changes nothing. Rows made here
(``warc_files`` a JSON array) follow their files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlite_utils import Database


class RunStore:
    """Runs and their failures on ``db`` (called inside the reader's transaction)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def run_crawl(
        self,
        run: str,
        *,
        seeds: Iterable[str] = (),
        source: str | None = None,
        key: str | None = None,
        started_at: str | None = None,
    ) -> int:
        """The ``crawls`` row of run ``run``, made if there is none; ``started_at`` (a
        warcinfo's WARC-Date) moves its start earlier, and what it lacks is filled in."""
        found = self.db.execute(
            "select id, started_at, warc_files is not null from crawls where run = ?", [run]
        ).fetchone()
        if found is None:
            table = self.db["crawls"].insert(
                {"source": source, "seeds": json.dumps(list(seeds)), "started_at": started_at,
                 "crawl_key": key, "run": run, "captures": 0, "failures": 0, "pages": 0,
                 "warc_files": "[]"}
            )  # fmt: skip
            return int(table.last_pk)
        crawl_id, started, from_files = found
        if not from_files:  # the crawl's own row
            return int(crawl_id)
        if started_at and (started is None or started_at < started):
            self.db.execute("update crawls set started_at = ? where id = ?", [started_at, crawl_id])
        seeds_json = json.dumps(list(seeds))
        self.db.execute(
            "update crawls set source = coalesce(source, ?), crawl_key = coalesce(crawl_key, ?),"
            " seeds = case when seeds is null or seeds = '[]' then ? else seeds end"
            " where id = ?",
            [source, key, seeds_json, crawl_id],
        )
        return int(crawl_id)

    def note_run_file(self, crawl_id: int, warc_file: str) -> None:
        """Remember that ``warc_file`` of the run was read (it may hold no capture)."""
        (files,) = self.db.execute(
            "select warc_files from crawls where id = ?", [crawl_id]
        ).fetchone()
        if files is None:  # the crawl's own row
            return
        names = json.loads(files)
        if warc_file not in names:
            names.append(warc_file)
            self.db.execute(
                "update crawls set warc_files = ? where id = ?", [json.dumps(names), crawl_id]
            )

    def add_run_end(
        self,
        crawl_id: int,
        record_id: str,
        *,
        outcome: str,
        pages: int,
        worker: str | None,
        last: bool,
        at: str,
    ) -> bool:
        """A worker's end record (once per ``record_id``): the run's pages are the sum of its
        end records', its outcome and finish time those of the last worker out (``last``;
        until then it is unfinished). Whether it was new."""
        stored, from_files = self.db.execute(
            "select run_ends, warc_files is not null from crawls where id = ?", [crawl_id]
        ).fetchone()
        ends: dict[str, dict] = json.loads(stored or "{}")
        if not from_files or record_id in ends:
            return False
        ends[record_id] = {"outcome": outcome, "pages": pages, "worker": worker, "last": last,
                           "at": at}  # fmt: skip
        update: dict[str, object] = {
            "run_ends": json.dumps(ends, sort_keys=True),
            "pages": sum(int(end["pages"]) for end in ends.values()),
        }
        finals = sorted((end["at"], end["outcome"]) for end in ends.values() if end["last"])
        if finals:
            update["finished_at"], update["outcome"] = finals[-1]
        self.db["crawls"].update(crawl_id, update)
        return True

    def count_crawl(self, crawl_id: int) -> None:
        """Set a run's ``captures`` and ``failures`` counts, as ``finish_crawl`` does (not
        those of a crawl's own row, which its crawl counted)."""
        self.db.execute(
            "update crawls set captures = (select count(*) from captures where crawl_id = :id),"
            " failures = (select count(*) from failures where crawl_id = :id)"
            " where id = :id and warc_files is not null",
            {"id": crawl_id},
        )

    def claim_capture(self, capture_id: int, crawl_id: int) -> None:
        """Give a capture indexed without its crawl (an older reviewarc's index) to it."""
        self.db.execute(
            "update captures set crawl_id = ? where id = ? and crawl_id is null",
            [crawl_id, capture_id],
        )

    def has_failure_record(self, warc_record_id: str) -> bool:
        """Is the failure that metadata record states already a row?"""
        found = self.db.execute(
            "select 1 from failures where warc_record_id = ?", [warc_record_id]
        ).fetchone()
        return found is not None

    def capture_of_record(self, warc_record_id: str | None) -> int | None:
        """The id of the capture of record ``warc_record_id``, if it is indexed."""
        if not warc_record_id:
            return None
        found = self.db.execute(
            "select id from captures where warc_record_id = ? order by id limit 1",
            [warc_record_id],
        ).fetchone()
        return int(found[0]) if found else None
