"""reviewarc's settings: each one's name, default and meaning stated once, here.

Every ``REVIEWARC_*`` setting is a field of :class:`ReviewarcConfig`; its default is the
field's, and ``crawler/settings.py`` does not repeat it. Components get the one config of
their crawler with :meth:`ReviewarcConfig.of` (read from the settings once, on first use);
they never read ``REVIEWARC_*`` settings themselves.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from archive.datadir import default_data_dir
from archive.warc_writer import DEFAULT_GZIP_LEVEL, DEFAULT_MAX_SIZE
from crawler.per_crawler import once

#: Attribute of a Scrapy crawler holding its config.
_ATTRIBUTE = "_reviewarc_config"
#: ``REVIEWARC_PRIVATE_ADDRESSES`` values.
PRIVATE_ADDRESS_CHOICES = ("auto", "seeds")
#: ``REVIEWARC_REQUISITES_ROBOTS`` values.
REQUISITES_ROBOTS_CHOICES = ("ignore", "obey")
#: Settings whose value is one word from a fixed list, read lower-cased.
_CHOICES = {
    "REVIEWARC_PRIVATE_ADDRESSES": PRIVATE_ADDRESS_CHOICES,
    "REVIEWARC_REQUISITES_ROBOTS": REQUISITES_ROBOTS_CHOICES,
}


def _setting(name: str, doc: str, **kwargs: Any) -> Any:
    return field(metadata={"setting": name, "doc": doc}, **kwargs)


@dataclass(frozen=True)
class ReviewarcConfig:
    data_dir: Path = _setting(
        "REVIEWARC_DATA",
        "the data directory (default: $REVIEWARC_DATA, else ./reviewarc-data)",
        default_factory=default_data_dir,
    )
    warc_prefix: str = _setting(
        "REVIEWARC_WARC_PREFIX", "first part of WARC file names", default="reviewarc"
    )
    warc_max_size: int = _setting(
        "REVIEWARC_WARC_MAX_SIZE",
        "a WARC file is closed and a new one started past this size (bytes)",
        default=DEFAULT_MAX_SIZE,
    )
    warc_gzip_level: int = _setting(
        "REVIEWARC_WARC_GZIP_LEVEL",
        "zlib level of each record's gzip member (3: twice as fast as 6, files ~10% larger)",
        default=DEFAULT_GZIP_LEVEL,
    )
    warc_fsync: bool = _setting(
        "REVIEWARC_WARC_FSYNC",
        "fsync after every exchange (survives power loss; slower)",
        default=False,
    )
    source: str | None = _setting(
        "REVIEWARC_SOURCE", "name of the configured source being crawled, if any", default=None
    )
    trap_max_per_pattern: int = _setting(
        "REVIEWARC_TRAP_MAX_PER_PATTERN",
        "links of one numbered URL shape followed per crawl",
        default=5000,
    )
    trap_max_query_variants: int = _setting(
        "REVIEWARC_TRAP_MAX_QUERY_VARIANTS", "query strings followed per path", default=50
    )
    trap_max_path_segments: int = _setting(
        "REVIEWARC_TRAP_MAX_PATH_SEGMENTS", "longest path followed, in segments", default=20
    )
    throttle_loopback: bool = _setting(
        "REVIEWARC_THROTTLE_LOOPBACK",
        "throttle requests to this machine's own servers too",
        default=False,
    )
    archive_only: bool = _setting(
        "REVIEWARC_ARCHIVE_ONLY",
        "write WARCs and captures only; extraction is left to reprocess",
        default=False,
    )
    incremental: bool = _setting(
        "REVIEWARC_INCREMENTAL",
        "conditional requests and revisit records for pages archived before, and skipping"
        " sitemap entries unchanged since their last capture",
        default=True,
    )
    max_depth: int = _setting(
        "REVIEWARC_MAX_DEPTH",
        "links followed from a seed, like Heritrix's maxHops (0: the seeds and their"
        " sitemaps' and feeds' own files only); page requisites and sitemap indexes do not"
        " count",
        default=20,
    )
    requisites: bool = _setting(
        "REVIEWARC_REQUISITES",
        "also archive the stylesheets, images, scripts and fonts that article pages need"
        " (from any host), so that replay looks like the original",
        default=True,
    )
    requisite_concurrency: int = _setting(
        "REVIEWARC_REQUISITE_CONCURRENCY",
        "requisites downloading at once, on top of the pages' CONCURRENT_REQUESTS: requisites"
        " wait in a queue of their own, so that slow or dead third-party hosts never hold up"
        " the site's pages",
        default=16,
    )
    requisites_robots: str = _setting(
        "REVIEWARC_REQUISITES_ROBOTS",
        "robots.txt for page requisites. ignore: fetched like a browser showing an allowed"
        " page (browsertrix-crawler's choice); obey: every requisite host's robots.txt is"
        " fetched and obeyed (Heritrix's default)",
        default="ignore",
    )
    block_ads: bool = _setting(
        "REVIEWARC_BLOCK_ADS",
        "leave out requisites that EasyList or EasyPrivacy match (ads and trackers; needs"
        " the adblock package, the extra 'ads', and the lists: see REVIEWARC_ADBLOCK_LISTS)",
        default=False,
    )
    adblock_lists: str | None = _setting(
        "REVIEWARC_ADBLOCK_LISTS",
        "filter list files for REVIEWARC_BLOCK_ADS, comma-separated (default: EasyList and"
        " EasyPrivacy from Debian's webext-ublock-origin-chromium package)",
        default=None,
    )
    extract_workers: int | None = _setting(
        "REVIEWARC_EXTRACT_WORKERS",
        "extraction processes (default: one per core; 0: in the crawl's own process)",
        default=None,
    )
    extract_timeout: float = _setting(
        "REVIEWARC_EXTRACT_TIMEOUT", "seconds one page may take to extract", default=60.0
    )
    private_addresses: str = _setting(
        "REVIEWARC_PRIVATE_ADDRESSES",
        "which hosts may be on loopback, private, link-local or other non-public addresses"
        " (judged by the address connected to). auto: every host when a seed is written as"
        " such an address (a local site), else the seeds' own hosts only; seeds: the seeds'"
        " own hosts only",
        default="auto",
    )
    sitemap_max_depth: int = _setting(
        "REVIEWARC_SITEMAP_MAX_DEPTH",
        "sitemap indexes followed inside sitemap indexes (the protocol allows none; some"
        " sites nest a level or two)",
        default=3,
    )
    sitemap_max_files: int = _setting(
        "REVIEWARC_SITEMAP_MAX_FILES",
        "sitemaps and sitemap indexes fetched per crawl",
        default=1000,
    )

    redis_url: str | None = _setting(
        "REVIEWARC_REDIS_URL",
        "share the crawl with other workers through this Redis (redis://HOST:PORT/DB; needs"
        " the extra 'distributed'); unset: a one-machine crawl",
        default=None,
    )
    worker_id: str | None = _setting(
        "REVIEWARC_WORKER_ID",
        "this worker's name in a shared crawl (default: the host name); its files are in"
        " DATA/workers/NAME/",
        default=None,
    )
    lease_ttl: float = _setting(
        "REVIEWARC_LEASE_TTL",
        "seconds after which a shared crawl's worker that stopped answering counts as dead"
        " and its requests are queued again",
        default=30.0,
    )

    @classmethod
    def of(cls, crawler: Any) -> ReviewarcConfig:
        """The config of ``crawler``: read from its settings on first use, then kept."""
        return once(crawler, _ATTRIBUTE, lambda: cls.from_settings(crawler.settings))

    @classmethod
    def from_settings(cls, settings: Any) -> ReviewarcConfig:
        """Read every ``REVIEWARC_*`` setting; one left unset (or empty) keeps its default.
        Raises ValueError, naming the setting, for a value of the wrong kind."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f.metadata["setting"]
            raw = settings.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = _read(settings, name, f.type)
            except ValueError as e:
                raise ValueError(f"{name}: {e}") from None
        config = cls(**values)
        if config.worker_id:
            valid_worker(config.worker_id)
        for f in fields(cls):
            choices = _CHOICES.get(f.metadata["setting"])
            if choices and getattr(config, f.name) not in choices:
                raise ValueError(
                    f"{f.metadata['setting']} must be one of {', '.join(choices)}"
                    f", not {getattr(config, f.name)!r}"
                )
        return config

    @property
    def worker(self) -> str | None:
        """This worker's name in a shared crawl; None in a one-machine crawl."""
        if not self.redis_url:
            return None
        return self.worker_id or worker_name()

    @property
    def crawl_dir(self) -> Path:
        """The data directory this crawl writes: a worker's own under ``workers/``."""
        worker = self.worker
        return self.data_dir / "workers" / worker if worker else self.data_dir

    @classmethod
    def documented(cls) -> list[tuple[str, Any, str]]:
        """``(setting, default, meaning)`` of every setting, for docs and ``--help``."""
        return [(f.metadata["setting"], _default(f), f.metadata["doc"]) for f in fields(cls)]


def worker_name() -> str:
    """The default worker name: this machine's host name, as a file name may hold it."""
    return valid_worker(socket.gethostname().split(".")[0] or "worker")


_WORKER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def valid_worker(name: str) -> str:
    """``name`` if it can name a worker (and its files), else ValueError."""
    if not _WORKER.fullmatch(name):
        raise ValueError(f"a worker name is 1-64 letters, digits, '.', '_' or '-', not {name!r}")
    return name


def _default(f: Any) -> Any:
    return f.default_factory() if callable(f.default_factory) else f.default


def _read(settings: Any, name: str, kind: str) -> Any:
    """A setting as the field's type (annotations are strings: ``from __future__``)."""
    if kind == "Path":
        return Path(settings.get(name))
    if kind == "bool":
        return settings.getbool(name)
    if kind in ("int", "int | None"):
        return settings.getint(name)
    if kind == "float":
        return settings.getfloat(name)
    value = str(settings.get(name))
    return value.strip().lower() if name in _CHOICES else value
