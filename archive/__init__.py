"""reviewarc's archive library: WARC writing and reading, the database, replay and search.

A plain library: no Scrapy here. The crawler adapts its objects to these.
"""

from __future__ import annotations

from archive.errors import ArchiveError, DataDirError, DataDirLocked, WARCWriteError

__all__ = ["ArchiveError", "DataDirError", "DataDirLocked", "WARCWriteError"]
