"""The data directory: ``archive.db``, ``warcs/`` and a lock held while a crawl writes."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from archive.errors import DataDirError, DataDirLocked

ENV_VAR = "REVIEWARC_DATA"
DEFAULT_DIR = "reviewarc-data"


def default_data_dir() -> Path:
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


class DataDir:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock_fh: IO[bytes] | None = None

    @property
    def db_path(self) -> Path:
        return self.path / "archive.db"

    @property
    def warc_dir(self) -> Path:
        return self.path / "warcs"

    @property
    def state_dir(self) -> Path:
        return self.path / "state"

    def exists(self) -> bool:
        return self.db_path.is_file()

    def require(self) -> DataDir:
        """For read-only commands: fail with a clear message if there is no archive here."""
        if not self.path.is_dir():
            raise DataDirError(
                f"data directory {self.path} does not exist; run 'reviewarc crawl URL --data "
                f"{self.path}' or 'reviewarc demo --data {self.path}' first"
            )
        if not self.exists():
            raise DataDirError(
                f"{self.path} holds no archive.db; is it a reviewarc data directory?"
            )
        return self

    def create(self) -> DataDir:
        try:
            self.warc_dir.mkdir(parents=True, exist_ok=True)
            self.state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DataDirError(f"cannot create data directory {self.path}: {e}") from e
        return self

    def check_writable(self) -> None:
        """Raise :class:`DataDirError` unless the crawl can write here.

        A directory without write permission bits counts as read-only even for root,
        who could write anyway: a user who made it read-only meant it.
        """
        for path in (self.path, self.warc_dir):
            mode = path.stat().st_mode
            if not os.access(path, os.W_OK | os.X_OK) or not mode & 0o222:
                raise DataDirError(f"cannot write to {path}: the directory is read-only")

    def lock(self) -> None:
        """Take the writer lock; raises :class:`DataDirLocked` if another crawl holds it."""
        if self._lock_fh is not None:
            return
        fh = open(self.state_dir / "crawl.lock", "ab")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            fh.close()
            raise DataDirLocked(f"another crawl is writing to {self.path}") from e
        self._lock_fh = fh

    def unlock(self) -> None:
        if self._lock_fh is not None:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None
