"""Replay the archive with pywb, looked up through a CDXJ index made from the database.

``reviewarc replay`` writes ``DIR/replay/index.cdxj`` from the ``captures`` table (no scan of
the WARC files), writes a pywb configuration with one collection, ``web``, whose records are
loaded from ``DIR/warcs`` by the file names in that index only, and runs pywb
(:mod:`archive.replay_server`). pywb does all URL rewriting.

URL scheme (pywb's): ``/web/<1-14 digit timestamp>id_/<url>`` (as archived),
``/web/<timestamp>/<url>`` (for a browser, links rewritten), ``/web/*/<url>`` (captures).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from sqlite_utils import Database

from archive.datadir import DataDir
from archive.warc_reader import locate

logger = logging.getLogger(__name__)

COLLECTION = "web"


def timestamp14(fetched_at: str) -> str:
    """``2026-11-24T12:03:28.807886Z`` -> ``20261124120328``."""
    digits = "".join(ch for ch in fetched_at if ch.isdigit())
    return digits[:14].ljust(14, "0")


def surt_key(url: str) -> str:
    from pywb.utils.canonicalize import canonicalize

    return canonicalize(url)


def cdxj_lines(db: Database, warc_dir: Path) -> list[str]:
    """One CDXJ line per capture whose WARC file is present, sorted for pywb."""
    lines = []
    present: dict[str, str | None] = {}
    # A 304 answered to a conditional request is indexed as the response it confirmed: pywb
    # would replay the 304 itself, while the page at that time was the earlier one.
    for row in db.query(
        "select c.url, c.fetched_at, c.record_type, c.payload_digest,"
        " coalesce(o.status, c.status) as status,"
        " coalesce(o.content_type, c.content_type) as content_type,"
        " coalesce(o.warc_file, c.warc_file) as warc_file,"
        " coalesce(o.warc_offset, c.warc_offset) as warc_offset,"
        " coalesce(o.warc_length, c.warc_length) as warc_length,"
        " o.id is not null as confirmed"
        " from captures c left join captures o"
        " on c.status = 304 and c.record_type = 'revisit' and o.id = c.refers_to_id"
    ):
        name = row["warc_file"]
        if name not in present:
            try:
                present[name] = locate(warc_dir, name).name
            except (FileNotFoundError, ValueError):
                present[name] = None
                logger.warning("WARC file %s is missing; its captures are not replayable", name)
        filename = present[name]
        if filename is None:
            continue
        fields: dict[str, Any] = {
            "url": row["url"],
            "mime": (row["content_type"] or "unk").split(";")[0].strip() or "unk",
            "status": str(row["status"]),
            "digest": (row["payload_digest"] or "").removeprefix("sha1:"),
            "length": str(row["warc_length"]),
            "offset": str(row["warc_offset"]),
            "filename": filename,
        }
        if row["record_type"] == "revisit" and not row["confirmed"]:
            fields["mime"] = "warc/revisit"
        key = surt_key(row["url"])
        lines.append(f"{key} {timestamp14(row['fetched_at'])} {json.dumps(fields)}")
    lines.sort()
    return lines


def write_cdxj(db: Database, warc_dir: Path, path: Path) -> int:
    """Write the index atomically; returns the number of captures indexed."""
    lines = cdxj_lines(db, warc_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".index-", suffix=".cdxj")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.writelines(line + "\n" for line in lines)
    os.replace(tmp, path)
    return len(lines)


def pywb_config(datadir: DataDir, index: Path) -> dict[str, Any]:
    warcs = str(datadir.warc_dir.resolve()) + os.sep
    return {
        "collections": {COLLECTION: {"index": str(index.resolve()), "archive_paths": warcs}},
        # The archived page itself, links rewritten, banner inserted (no frame), so that
        # /web/<ts>/<url> is the page a browser shows.
        "framed_replay": False,
        "enable_memento": True,
        # Never fetch anything live.
        "recorder": None,
        "proxy": None,
    }


def prepare(datadir: DataDir, db: Database) -> tuple[Path, int]:
    """Write the index and the pywb config under ``DIR/replay``; returns the config path."""
    root = datadir.path / "replay"
    index = root / "index.cdxj"
    count = write_cdxj(db, datadir.warc_dir, index)
    config = root / "config.yaml"
    config.write_text(yaml.safe_dump(pywb_config(datadir, index)), encoding="utf-8")
    return config, count


__all__ = ["COLLECTION", "prepare", "timestamp14", "write_cdxj"]
