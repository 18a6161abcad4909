"""Settings: each REVIEWARC_* setting named, defaulted and described in one place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scrapy.settings import Settings

from archive.warc_writer import WARCFileWriter
from crawler import settings as project_settings
from crawler.config import ReviewarcConfig

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_settings() -> dict[str, str]:
    rows = re.findall(r"^\| `(REVIEWARC_[A-Z_]+)` \| ([^|]+) \|", README.read_text(), re.M)
    return {name: default.strip() for name, default in rows}


def test_the_readme_table_is_the_config() -> None:
    table = readme_settings()
    documented = ReviewarcConfig.documented()
    assert set(table) == {name for name, _, _ in documented}
    for name, default, _ in documented:
        if isinstance(default, bool):
            assert table[name] == f"`{str(default).lower()}`", name
        elif isinstance(default, int | float | str) and not isinstance(default, Path):
            assert table[name] == f"`{default:g}`" if isinstance(default, float) else (
                table[name] == f"`{default}`"), name  # fmt: skip


def test_defaults_are_stated_once() -> None:
    """crawler/settings.py repeats no REVIEWARC_* default, and the WARC writer's own
    default compression is the crawl's."""
    assert not [name for name in vars(project_settings) if name.startswith("REVIEWARC_")]
    assert WARCFileWriter(Path("unused")).gzip_level == ReviewarcConfig().warc_gzip_level


def test_config_is_read_once_per_crawler() -> None:
    class FakeCrawler:  # only what ReviewarcConfig.of reads
        settings = Settings({"REVIEWARC_MAX_DEPTH": "3", "REVIEWARC_SOURCE": ""})

    crawler = FakeCrawler()
    config = ReviewarcConfig.of(crawler)
    assert config.max_depth == 3 and config.source is None
    crawler.settings = Settings({"REVIEWARC_MAX_DEPTH": "9"})
    assert ReviewarcConfig.of(crawler) is config


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("REVIEWARC_MAX_DEPTH", "deep", "REVIEWARC_MAX_DEPTH"),
        ("REVIEWARC_WARC_FSYNC", "perhaps", "REVIEWARC_WARC_FSYNC"),
        ("REVIEWARC_PRIVATE_ADDRESSES", "everywhere", "must be one of auto, seeds"),
    ],
)
def test_a_bad_value_names_its_setting(name: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReviewarcConfig.from_settings(Settings({name: value}))
