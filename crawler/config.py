"""reviewarc's settings, read once from Scrapy settings into a frozen object.

Every ``REVIEWARC_*`` setting is documented here and defaulted in ``crawler/settings.py``.
Components call :meth:`ReviewarcConfig.from_settings` in ``from_crawler`` and never read
settings anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.datadir import default_data_dir


@dataclass(frozen=True)
class ReviewarcConfig:
    #: ``REVIEWARC_DATA``: the data directory (default: ``$REVIEWARC_DATA``, else
    #: ``./reviewarc-data``).
    data_dir: Path
    #: ``REVIEWARC_WARC_PREFIX``: first part of WARC file names.
    warc_prefix: str = "reviewarc"
    #: ``REVIEWARC_WARC_MAX_SIZE``: a WARC file is closed and a new one started past this size.
    warc_max_size: int = 1_000_000_000
    #: ``REVIEWARC_WARC_GZIP_LEVEL``: zlib level of each record's gzip member.
    warc_gzip_level: int = 3
    #: ``REVIEWARC_WARC_FSYNC``: fsync after every exchange (survives power loss; slower).
    warc_fsync: bool = False
    #: ``REVIEWARC_SOURCE``: name of the configured source being crawled, if any.
    source: str | None = None
    #: ``REVIEWARC_TRAP_MAX_PER_PATTERN``: links of one numbered URL shape followed per crawl.
    trap_max_per_pattern: int = 5000
    #: ``REVIEWARC_TRAP_MAX_QUERY_VARIANTS``: query strings followed per path.
    trap_max_query_variants: int = 50
    #: ``REVIEWARC_TRAP_MAX_PATH_SEGMENTS``: longest path followed, in segments.
    trap_max_path_segments: int = 20
    #: ``REVIEWARC_THROTTLE_LOOPBACK``: throttle requests to this machine's own servers too.
    throttle_loopback: bool = False
    #: ``REVIEWARC_ARCHIVE_ONLY``: write WARCs and captures only; extraction is left to reprocess.
    archive_only: bool = False
    #: ``REVIEWARC_INCREMENTAL``: conditional requests and revisit records for pages archived
    #: before, and skipping sitemap entries unchanged since their last capture.
    incremental: bool = True
    #: ``REVIEWARC_MAX_DEPTH``: links followed from a seed (0: the seeds and their sitemaps'
    #: and feeds' own files only). Page requisites and sitemap indexes do not count.
    max_depth: int = 20
    #: ``REVIEWARC_REQUISITES``: also archive the stylesheets, images, scripts and fonts that
    #: article pages need (from any host), so that replay looks like the original.
    requisites: bool = True
    #: ``REVIEWARC_EXTRACT_WORKERS``: extraction processes (default: one per core; 0 = in the
    #: crawl's own process).
    extract_workers: int | None = None
    #: ``REVIEWARC_EXTRACT_TIMEOUT``: seconds one page may take to extract.
    extract_timeout: float = 60.0
    #: ``REVIEWARC_PRIVATE_ADDRESSES``: which hosts may be on loopback, private, link-local
    #: or other non-public addresses (judged by the address connected to). ``auto``: every
    #: host when a seed is written as such an address (a local site), else the seeds' own
    #: hosts only; ``seeds``: the seeds' own hosts only.
    private_addresses: str = "auto"
    #: ``REVIEWARC_SITEMAP_MAX_DEPTH``: sitemap indexes followed inside sitemap indexes (the
    #: protocol allows none; some sites nest a level or two).
    sitemap_max_depth: int = 3
    #: ``REVIEWARC_SITEMAP_MAX_FILES``: sitemaps and sitemap indexes fetched per crawl.
    sitemap_max_files: int = 1000

    @classmethod
    def from_settings(cls, settings: Any) -> ReviewarcConfig:
        data = settings.get("REVIEWARC_DATA")
        return cls(
            data_dir=Path(data) if data else default_data_dir(),
            warc_prefix=settings.get("REVIEWARC_WARC_PREFIX", "reviewarc"),
            warc_max_size=settings.getint("REVIEWARC_WARC_MAX_SIZE", 1_000_000_000),
            warc_gzip_level=settings.getint("REVIEWARC_WARC_GZIP_LEVEL", 3),
            warc_fsync=settings.getbool("REVIEWARC_WARC_FSYNC", False),
            source=settings.get("REVIEWARC_SOURCE") or None,
            trap_max_per_pattern=settings.getint("REVIEWARC_TRAP_MAX_PER_PATTERN", 5000),
            trap_max_query_variants=settings.getint("REVIEWARC_TRAP_MAX_QUERY_VARIANTS", 50),
            trap_max_path_segments=settings.getint("REVIEWARC_TRAP_MAX_PATH_SEGMENTS", 20),
            throttle_loopback=settings.getbool("REVIEWARC_THROTTLE_LOOPBACK", False),
            archive_only=settings.getbool("REVIEWARC_ARCHIVE_ONLY", False),
            requisites=settings.getbool("REVIEWARC_REQUISITES", True),
            max_depth=settings.getint("REVIEWARC_MAX_DEPTH", 20),
            incremental=settings.getbool("REVIEWARC_INCREMENTAL", True),
            extract_workers=(
                None
                if settings.get("REVIEWARC_EXTRACT_WORKERS") in (None, "")
                else settings.getint("REVIEWARC_EXTRACT_WORKERS")
            ),
            extract_timeout=settings.getfloat("REVIEWARC_EXTRACT_TIMEOUT", 60.0),
            private_addresses=_choice(
                settings, "REVIEWARC_PRIVATE_ADDRESSES", "auto", ("auto", "seeds")
            ),
            sitemap_max_depth=settings.getint("REVIEWARC_SITEMAP_MAX_DEPTH", 3),
            sitemap_max_files=settings.getint("REVIEWARC_SITEMAP_MAX_FILES", 1000),
        )


def _choice(settings: Any, name: str, default: str, choices: tuple[str, ...]) -> str:
    value = str(settings.get(name) or default).strip().lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value
