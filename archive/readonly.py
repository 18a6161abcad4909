"""A connection to ``archive.db`` that can only read it, whatever SQL it is given.

``mode=ro`` alone is not enough for SQL typed by a person: ``VACUUM INTO 'file'`` writes a
copy of the database elsewhere and ``ATTACH 'file'`` creates files, both without writing to
the archive itself. :func:`connect_readonly` adds three guards that SQL cannot undo:

- an authorizer (checked while a statement is compiled, before it runs) that allows reading
  tables, calling functions and the read-only PRAGMAs, and refuses everything else: ATTACH
  (which is also how ``VACUUM INTO`` opens its output file), writes, schema changes,
  transactions (savepoints excepted), PRAGMAs that set something, and ``load_extension()``;
- a limit of 0 attached databases (SQLite then refuses ATTACH and ``VACUUM INTO`` itself);
- ``PRAGMA query_only``, which the authorizer does not let a statement turn off.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from archive.errors import ArchiveError

#: Savepoints are allowed: on a connection that cannot write, one only holds a read
#: transaction (a deferred one, that never takes the write lock), and sqlite-utils wraps its
#: queries in one. BEGIN is not: ``BEGIN IMMEDIATE`` would take the write lock and stall
#: the crawl.
_READ_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE, sqlite3.SQLITE_SAVEPOINT}
)
#: Functions that reach outside the database (the last four exist in some builds only).
_DENIED_FUNCTIONS = frozenset({"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"})
#: PRAGMAs that report on the database and change nothing; the argument, if any, names a
#: table or index (``PRAGMA table_info(articles)``) or bounds a check.
_QUERY_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "foreign_key_check",
        "integrity_check",
        "quick_check",
        "collation_list",
        "compile_options",
        "database_list",
        "function_list",
        "module_list",
        "pragma_list",
    }
)
#: PRAGMAs that read a setting when given no value (``PRAGMA user_version``) and would set
#: it when given one (``PRAGMA user_version = 5``): allowed without a value only.
_SETTING_PRAGMAS = frozenset(
    {
        "application_id",
        "data_version",
        "encoding",
        "freelist_count",
        "journal_mode",
        "page_count",
        "page_size",
        "schema_version",
        "user_version",
    }
)
#: The tables SQLite lists its schema in. Table-valued functions (``json_each``,
#: ``pragma_table_info``, ...) make SQLite check an UPDATE of them while it sets the function
#: up; no statement can really write them (SQLite refuses "may not be modified" unless
#: ``PRAGMA writable_schema``, which is refused here, and the connection is read-only).
_SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master"})
_SCHEMA_WRITES = frozenset({sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE})

_ACTION_NAMES = {
    getattr(sqlite3, name): name.removeprefix("SQLITE_").replace("_", " ")
    for name in (
        "SQLITE_CREATE_INDEX SQLITE_CREATE_TABLE SQLITE_CREATE_TEMP_INDEX "
        "SQLITE_CREATE_TEMP_TABLE SQLITE_CREATE_TEMP_TRIGGER SQLITE_CREATE_TEMP_VIEW "
        "SQLITE_CREATE_TRIGGER SQLITE_CREATE_VIEW SQLITE_DELETE SQLITE_DROP_INDEX "
        "SQLITE_DROP_TABLE SQLITE_DROP_TEMP_INDEX SQLITE_DROP_TEMP_TABLE "
        "SQLITE_DROP_TEMP_TRIGGER SQLITE_DROP_TEMP_VIEW SQLITE_DROP_TRIGGER SQLITE_DROP_VIEW "
        "SQLITE_INSERT SQLITE_UPDATE SQLITE_DETACH SQLITE_ALTER_TABLE SQLITE_REINDEX "
        "SQLITE_ANALYZE SQLITE_CREATE_VTABLE SQLITE_DROP_VTABLE SQLITE_TRANSACTION "
        "SQLITE_SAVEPOINT"
    ).split()
}


class ReadOnlyRefused(ArchiveError, sqlite3.DatabaseError):
    """A statement would have written something, or opened another file; nothing ran."""


def _refusal(action: int, arg1: str | None, arg2: str | None) -> str | None:
    """Why the statement is refused (None: allowed)."""
    if action in _READ_ACTIONS:
        return None
    if action == sqlite3.SQLITE_FUNCTION:
        return f"{arg2}()" if (arg2 or "").lower() in _DENIED_FUNCTIONS else None
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        if name in _QUERY_PRAGMAS or (name in _SETTING_PRAGMAS and arg2 is None):
            return None
        return f"PRAGMA {arg1}" + ("" if arg2 is None else f" = {arg2}")
    if action in _SCHEMA_WRITES and (arg1 or "").lower() in _SCHEMA_TABLES:
        # CREATE, DROP, ALTER and ANALYZE are checked as a write of the schema table first.
        return None if action == sqlite3.SQLITE_UPDATE else "changing the schema"
    if action == sqlite3.SQLITE_ATTACH:
        return f"ATTACH or VACUUM INTO {arg1!r}" if arg1 else "VACUUM"
    name = _ACTION_NAMES.get(action, f"action {action}")
    if action in (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT) or not arg1:
        return name
    return f"{name} {arg1}"


class ReadOnlyConnection(sqlite3.Connection):
    """A :class:`sqlite3.Connection` whose statements raise :class:`ReadOnlyRefused`
    (saying what was refused) when the authorizer refuses them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refused: str | None = None

    def _authorize(
        self, action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None
    ) -> int:
        refused = _refusal(action, arg1, arg2)
        if refused is None:
            return sqlite3.SQLITE_OK
        self._refused = self._refused or refused
        return sqlite3.SQLITE_DENY

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        self._refused = None
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as e:
            if self._refused is not None:
                raise ReadOnlyRefused(f"{self._refused} not allowed") from e
            raise


def readonly_uri(path: str | os.PathLike[str]) -> str:
    """The ``file:`` URI that opens ``path`` read-only (any character in the path is safe)."""
    return Path(path).absolute().as_uri() + "?mode=ro"


def connect_readonly(path: str | os.PathLike[str]) -> ReadOnlyConnection:
    """Open the SQLite database at ``path`` for reading only; it must exist (nothing is
    created). Every statement :meth:`~ReadOnlyConnection.execute` runs either only reads or
    raises :class:`ReadOnlyRefused` before it runs."""
    con = sqlite3.connect(readonly_uri(path), uri=True, factory=ReadOnlyConnection)
    # Autocommit: Python's sqlite3 would otherwise issue BEGIN on its own.
    con.isolation_level = None
    con.execute("PRAGMA query_only = 1")
    con.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    con.set_authorizer(con._authorize)
    return con


__all__ = ["ReadOnlyConnection", "ReadOnlyRefused", "connect_readonly", "readonly_uri"]
