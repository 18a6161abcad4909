"""The crawl frontier on disk, so that a killed crawl can go on where it stopped.

Every request a crawl schedules is recorded as ``queued``; once its response (or failure)
has been handled, and so the requests it led to are recorded too, it becomes ``done``.
Both happen on one connection, in order, so a committed ``done`` implies its children are
committed. After ``kill -9``, the rows still ``queued`` are what the next run must do.

Scrapy's JOBDIR keeps a seen-set that marks requests when they are *scheduled*, so pages in
flight at the kill would be lost; this keeps them. The frontier lives in its own SQLite file
(``DIR/state/frontier.db``) so its writes never wait on ``archive.db``'s.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pending:
    fingerprint: str
    url: str
    kind: str
    depth: int
    #: ``request.meta`` to give it again, when the frontier keeps more than kind and depth.
    meta: dict | None = None


class Frontier:
    def __init__(self, path: str | Path, key: str) -> None:
        self.key = key
        self.con = sqlite3.connect(str(path), isolation_level=None)
        self.con.execute("pragma journal_mode = wal")
        self.con.execute("pragma synchronous = normal")
        self.con.execute(
            "create table if not exists frontier (key text, fingerprint text, url text,"
            " kind text, depth integer, state text, primary key (key, fingerprint))"
        )

    def _begin(self) -> None:
        if not self.con.in_transaction:
            self.con.execute("begin")

    def commit(self) -> None:
        # SQLite's own state, not a flag of ours: after a full disk it rolls the
        # transaction back by itself, and a "commit" then would raise a second error.
        if self.con.in_transaction:
            self.con.execute("commit")

    def known(self) -> set[str]:
        """Fingerprints of every request of this crawl so far (queued or done)."""
        rows = self.con.execute("select fingerprint from frontier where key = ?", [self.key])
        return {r[0] for r in rows}

    def pending(self) -> Iterator[Pending]:
        rows = self.con.execute(
            "select fingerprint, url, kind, depth from frontier"
            " where key = ? and state = 'queued' order by rowid",
            [self.key],
        ).fetchall()
        return (Pending(*row) for row in rows)

    def is_done(self, fingerprint: str) -> bool:
        row = self.con.execute(
            "select state from frontier where key = ? and fingerprint = ?", [self.key, fingerprint]
        ).fetchone()
        return row is not None and row[0] == "done"

    def add(self, fingerprint: str, url: str, kind: str, depth: int) -> None:
        self._begin()
        self.con.execute(
            "insert or ignore into frontier values (?, ?, ?, ?, ?, 'queued')",
            [self.key, fingerprint, url, kind, depth],
        )

    def done_many(self, requests: Iterable[tuple[str, str, str, int]]) -> None:
        """``(fingerprint, url, kind, depth)`` of requests handled without being sent,
        queued before or not: done, committed."""
        self._begin()
        self.con.executemany(
            "insert into frontier values (?, ?, ?, ?, ?, 'done')"
            " on conflict (key, fingerprint) do update set state = 'done'",
            [(self.key, *request) for request in requests],
        )
        self.commit()

    def done(self, fingerprint: str) -> None:
        """Mark a request handled and commit, with the requests it led to."""
        self._begin()
        self.con.execute(
            "update frontier set state = 'done' where key = ? and fingerprint = ?",
            [self.key, fingerprint],
        )
        self.commit()

    def clear(self) -> None:
        """Forget this crawl's frontier (it finished: the next crawl starts afresh)."""
        self.commit()
        self.con.execute("delete from frontier where key = ?", [self.key])

    def close(self) -> None:
        self.commit()
        self.con.close()
