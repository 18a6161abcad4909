from __future__ import annotations

import re
from pathlib import Path

import pytest
from scrapy.settings import Settings

from crawler.config import ReviewarcConfig
from crawler.sources import SourcesError, load_sources


def test_sources_file(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[source]]\nname = "screen-orbit"\nseeds = ["https://reviews.example/"]\n'
        'article_pattern = "/reviews/[^/]+/$"\nschedule = "0 */6 * * *"\nmax_depth = 5\n'
    )
    (source,) = load_sources(path)
    assert source.name == "screen-orbit" and source.max_depth == 5
    assert source.seeds == ("https://reviews.example/",)


@pytest.mark.parametrize(
    "text, message",
    [
        ("not toml [", "not valid TOML"),
        ("x = 1", "no [[source]]"),
        ('[[source]]\nname = "a"\nseeds = ["ftp://x/"]', "not an http(s) URL"),
        ('[[source]]\nname = "a"\nseeds = ["http://x/"]\narticle_pattern = "("', "article_pattern"),
        (
            '[[source]]\nname="a"\nseeds=["http://x/"]\n[[source]]\nname="a"\nseeds=["http://y/"]',
            "unique",
        ),
    ],
)
def test_bad_sources_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(SourcesError, match=re.escape(message)):
        load_sources(path)


def test_config_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWARC_DATA", str(tmp_path / "env"))
    assert ReviewarcConfig.from_settings(Settings()).data_dir == tmp_path / "env"
    config = ReviewarcConfig.from_settings(
        Settings({"REVIEWARC_DATA": str(tmp_path), "REVIEWARC_WARC_MAX_SIZE": "5000"})
    )
    assert config.data_dir == tmp_path and config.warc_max_size == 5000
