"""Plain INSERT and UPDATE statements for the tables written once per page.

sqlite-utils' ``Table.insert()`` and ``Table.update()`` read the table's schema on every call
(several PRAGMA queries), which on the per-page path costs more than the write itself. The
schema is fixed by :mod:`archive.migrations`, so these build the statement from the row's keys
and run it; sqlite3 caches the compiled statement. Values must be SQL scalars.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database


def _columns(row: Mapping[str, Any]) -> str:
    return ", ".join(f"[{name}]" for name in row)


def insert(db: Database, table: str, row: Mapping[str, Any], *, ignore: bool = False) -> int:
    """Insert ``row`` into ``table``; its rowid (0 when ``ignore`` skipped a duplicate)."""
    verb = "insert or ignore" if ignore else "insert"
    marks = ", ".join("?" * len(row))
    sql = f"{verb} into [{table}] ({_columns(row)}) values ({marks})"
    cursor = db.execute(sql, list(row.values()))
    return int(cursor.lastrowid or 0) if cursor.rowcount else 0


def update(db: Database, table: str, row_id: int, row: Mapping[str, Any]) -> None:
    """Set the columns of ``row`` on the row of ``table`` whose ``id`` is ``row_id``."""
    assignments = ", ".join(f"[{name}] = ?" for name in row)
    db.execute(f"update [{table}] set {assignments} where id = ?", [*row.values(), row_id])
