"""The command line, as a person uses it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from tests.conftest import Crawl, run_reviewarc


def test_every_command_is_documented_with_an_example() -> None:
    runner = CliRunner()
    for name, command in cli.commands.items():
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0
        assert command.help and ("Example:" in command.help or "Examples:" in command.help), name
        assert "--data" in result.output


def test_missing_data_directory_is_a_clear_error(tmp_path) -> None:
    result = run_reviewarc("sql", "select 1", "--data", str(tmp_path / "nope"))
    assert result.returncode != 0
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_crawl_needs_seeds_or_config(tmp_path) -> None:
    result = run_reviewarc("crawl", "--data", str(tmp_path))
    assert result.returncode != 0 and "nothing to crawl" in result.stderr
    result = run_reviewarc("crawl", "file:///etc/passwd", "--data", str(tmp_path))
    assert result.returncode != 0 and "not an http(s) URL" in result.stderr


def test_sql_is_read_only_and_has_json_and_csv(crawled: Crawl) -> None:
    data = str(crawled.data)
    out = run_reviewarc("sql", "select count(*) as n from captures", "--json", "--data", data)
    assert json.loads(out.stdout)[0]["n"] > 0
    out = run_reviewarc("sql", "select status, url from captures limit 2", "--csv", "--data", data)
    assert out.stdout.splitlines()[0] == "status,url"
    out = run_reviewarc("sql", "delete from captures", "--data", data)
    assert out.returncode != 0 and "readonly" in out.stderr.replace("-", "").lower()
    assert crawled.sql("select count(*) as n from captures")[0]["n"] > 0


def test_crawl_with_sources_file(site, tmp_path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nname = "fixture"\nseeds = ["{site.base_url}/reviews/one/"]\nmax_depth = 0\n'
        f'[[source]]\nname = "other"\nseeds = ["{site.base_url}/reviews/two/"]\n'
    )
    data = tmp_path / "data"
    result = run_reviewarc(
        "crawl", "--config", str(sources), "--source", "fixture", "--data", str(data)
    )
    assert result.returncode == 0, result.stderr[-2000:]
    crawl = Crawl(result, data, site)
    (row,) = crawl.sql("select source from crawls")
    assert row["source"] == "fixture"
    urls = {r["url"] for r in crawl.sql("select url from captures")}
    assert site.base_url + "/reviews/one/" in urls
    assert site.base_url + "/reviews/two/" not in urls  # depth 0: seeds (and sitemaps) only


@pytest.mark.parametrize("option", ["--max-pages"])
def test_max_pages_stops_the_crawl(site, tmp_path, option: str) -> None:
    result = run_reviewarc("crawl", site.base_url + "/big/1/", "--data", str(tmp_path), option, "5")
    assert result.returncode == 0, result.stderr[-2000:]
    crawl = Crawl(result, tmp_path, site)
    assert len(crawl.sql("select id from captures")) <= 12
    (row,) = crawl.sql("select outcome from crawls")
    assert row["outcome"] == "closespider_pagecount"


def test_scrapy_crawl_works_from_the_repository(site, tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "reviews",
            "-a",
            f"url={site.base_url}/reviews/one/",
            "-s",
            f"REVIEWARC_DATA={tmp_path}",
            "-s",
            "REVIEWARC_MAX_DEPTH=0",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    crawl = Crawl(result, tmp_path, site)
    assert site.base_url + "/reviews/one/" in {
        r["url"] for r in crawl.sql("select url from captures")
    }


def test_export_command(crawled: Crawl, tmp_path) -> None:
    out = run_reviewarc(
        "export",
        "--data",
        str(crawled.data),
        "--jsonl",
        str(tmp_path / "a.jsonl"),
        "--wacz",
        str(tmp_path / "a.wacz"),
    )
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert {r["url"] for r in rows} == {r["url"] for r in crawled.sql("select url from articles")}
    assert (tmp_path / "a.wacz").stat().st_size > 0
    out = run_reviewarc("export", "--data", str(crawled.data))
    assert out.returncode != 0 and "choose" in out.stderr


def test_seed_redirected_to_another_host_brings_that_host_in(site, tmp_path) -> None:
    seed = site.base_url.replace("127.0.0.1", "localhost") + "/elsewhere"
    result = run_reviewarc("crawl", seed, "--data", str(tmp_path), "--depth", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    crawl = Crawl(result, tmp_path, site)
    urls = {r["url"] for r in crawl.sql("select url from captures")}
    assert site.base_url + "/reviews/one/" in urls
    assert site.base_url + "/reviews/two/" in urls  # followed on the adopted host
