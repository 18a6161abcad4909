"""The sources file (TOML): named sites, their seeds, article pattern, depth and schedule."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from crawler.scope import origin


class SourcesError(ValueError):
    """The sources file is missing, not TOML, or describes a source wrongly."""


@dataclass(frozen=True)
class Source:
    name: str
    seeds: tuple[str, ...]
    article_pattern: str | None = None
    schedule: str | None = None
    max_depth: int | None = None


def _source(index: int, table: dict) -> Source:
    where = f"[[source]] #{index + 1}"
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SourcesError(f"{where}: 'name' must be a non-empty string")
    seeds = table.get("seeds")
    if isinstance(seeds, str):
        seeds = [seeds]
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, str) for s in seeds):
        raise SourcesError(f"source {name!r}: 'seeds' must be a list of URLs")
    for seed in seeds:
        if origin(seed) is None:
            raise SourcesError(f"source {name!r}: {seed!r} is not an http(s) URL")
    pattern = table.get("article_pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as e:
            raise SourcesError(f"source {name!r}: bad article_pattern: {e}") from e
    depth = table.get("max_depth")
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise SourcesError(f"source {name!r}: max_depth must be a whole number >= 0")
    schedule = table.get("schedule")
    if schedule is not None and not isinstance(schedule, str):
        raise SourcesError(f"source {name!r}: schedule must be a cron string")
    return Source(name.strip(), tuple(seeds), pattern, schedule, depth)


def load_sources(path: str | Path) -> list[Source]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SourcesError(f"no sources file at {path}") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SourcesError(f"{path} is not valid TOML: {e}") from e
    tables = data.get("source")
    if not isinstance(tables, list) or not tables:
        raise SourcesError(f"{path} has no [[source]] tables")
    sources = [_source(i, t) for i, t in enumerate(tables)]
    names = [s.name for s in sources]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise SourcesError(f"{path}: source names must be unique; repeated: {sorted(duplicates)}")
    return sources
