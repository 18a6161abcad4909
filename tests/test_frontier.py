"""The on-disk frontier when its disk fills up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from archive.frontier import Frontier


def test_a_full_disk_leaves_the_frontier_usable(tmp_path: Path) -> None:
    """SQLite rolls a transaction back by itself when the disk is full. The frontier used
    to believe its transaction was still open, so the next ``done`` raised "cannot commit -
    no transaction is active": a second, misleading traceback for every page in flight
    (seen in CI's full-disk test). A full disk is reported as itself, once, and the
    frontier works again when there is room."""
    frontier = Frontier(tmp_path / "frontier.db", "key")
    frontier.add("a", "http://example.test/a", "page", 0)
    frontier.done("a")
    pages = frontier.con.execute("pragma page_count").fetchone()[0]
    frontier.con.execute(f"pragma max_page_count = {pages}")  # the disk is now full
    with pytest.raises(sqlite3.OperationalError, match="full"):
        for n in range(10_000):
            frontier.add(f"fp{n}", "http://example.test/" + "x" * 500 + str(n), "page", 1)
    frontier.done("a")  # nothing pending: no error of its own
    frontier.con.execute("pragma max_page_count = 1000000")  # room again
    frontier.add("b", "http://example.test/b", "page", 1)
    frontier.done("b")
    frontier.close()
    assert Frontier(tmp_path / "frontier.db", "key").is_done("b")
