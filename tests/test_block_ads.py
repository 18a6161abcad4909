"""``--block-ads``: requisites that EasyList or EasyPrivacy match are not fetched, the rest
are; a missing list is a one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.ad_filter import default_lists
from tests.conftest import read_sql, run_reviewarc
from tests.mockserver import PagesServer
from tests.test_requisite_hosts import review

pytestmark = pytest.mark.skipif(
    not default_lists(), reason="needs Debian's webext-ublock-origin-chromium (.ci/run installs it)"
)


def test_block_ads_leaves_out_ads_and_trackers_only(tmp_path: Path) -> None:
    cdn = PagesServer(
        {}, lambda path: (200, {"Content-Type": "image/gif"}, b"GIF89a" + path.encode())
    )
    site = PagesServer({})
    requisites = [
        f"http://localhost:{cdn.port}/{p}" for p in ("ads/banner-ad.gif", "img/photo.gif")
    ]
    site.pages["/"] = (200, {}, review("A film", requisites))
    try:
        for name, flags in (("plain", []), ("blocked", ["--block-ads"])):
            result = run_reviewarc(
                "crawl", site.base_url + "/", "--data", str(tmp_path / name), *flags
            )
            assert result.returncode == 0, result.stderr[-3000:]
    finally:
        cdn.stop()
        site.stop()
    assert cdn.paths().count("/ads/banner-ad.gif") == 1  # by the plain crawl only
    assert cdn.paths().count("/img/photo.gif") == 2
    gifs = "select url from captures where url like '%.gif' order by url"
    assert [r["url"].rsplit("/", 2)[-2] for r in read_sql(tmp_path / "plain", gifs)] == [
        "ads",
        "img",
    ]
    assert [r["url"].rsplit("/", 2)[-2] for r in read_sql(tmp_path / "blocked", gifs)] == ["img"]


def test_a_missing_filter_list_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_reviewarc("crawl", "http://127.0.0.1:9/", "--data", str(tmp_path), "--block-ads",
                           "--set", f"REVIEWARC_ADBLOCK_LISTS={tmp_path / 'none.txt'}")  # fmt: skip
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"cannot read {tmp_path / 'none.txt'}" in result.stderr.splitlines()[-1]
