"""Named exceptions of the archive library. The CLI turns them into messages for people."""

from __future__ import annotations


class ArchiveError(Exception):
    """Base class for errors of the archive library."""


class WARCWriteError(ArchiveError):
    """A WARC record could not be written (disk full, read-only directory, ...)."""


class DataDirError(ArchiveError):
    """The data directory is missing, unreadable or not a reviewarc data directory."""


class DataDirLocked(DataDirError):
    """Another crawl is writing to the same data directory."""
