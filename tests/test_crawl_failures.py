"""What a crawl must survive: unreachable robots.txt, read-only or full disks, crashes,
rotation, decompression bombs."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys

import pytest

from archive.warc_reader import iter_records, read_record
from tests.conftest import BIN, Crawl, run_reviewarc, warcio_check
from tests.mockserver import FixtureServer
from tests.test_warc_repair import crashed_file


@pytest.fixture
def robots503():
    server = FixtureServer(mode="robots503").start()
    yield server
    server.stop()


def test_robots_503_disallows_the_whole_host(robots503: FixtureServer, tmp_path) -> None:
    result = run_reviewarc("crawl", robots503.base_url + "/", "--data", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert {e.path for e in robots503.log} == {"/robots.txt"}
    crawl = Crawl(result, tmp_path, robots503)
    statuses = {(r["url"], r["status"]) for r in crawl.sql("select url, status from captures")}
    assert statuses == {(robots503.base_url + "/robots.txt", 503)}
    kinds = {r["url"]: r["kind"] for r in crawl.sql("select url, kind from failures")}
    assert kinds[robots503.base_url + "/"] == "robots"


def test_read_only_warc_directory_fails_clearly(site: FixtureServer, tmp_path) -> None:
    (tmp_path / "warcs").mkdir(parents=True)
    (tmp_path / "warcs").chmod(0o555)
    try:
        result = run_reviewarc("crawl", site.base_url + "/reviews/one/", "--data", str(tmp_path))
    finally:
        (tmp_path / "warcs").chmod(0o755)
    assert result.returncode != 0
    assert "read-only" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((tmp_path / "warcs").iterdir())


def test_rotation_during_crawl_keeps_pairs_together(site: FixtureServer, tmp_path) -> None:
    result = run_reviewarc(
        "crawl",
        site.base_url + "/",
        "--data",
        str(tmp_path),
        "--set",
        "REVIEWARC_WARC_MAX_SIZE=6000",
        "--set",
        "DOWNLOAD_TIMEOUT=1",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    crawl = Crawl(result, tmp_path, site)
    assert len(crawl.warcs) >= 4
    assert warcio_check(crawl.warcs).returncode == 0
    for path in crawl.warcs:
        records = list(iter_records(path))
        assert records[0].record_type == "warcinfo"
        ids = {r.header("WARC-Record-ID") for r in records}
        for record in records[1:]:
            assert record.header("WARC-Concurrent-To") in ids  # partner in the same file
    for row in crawl.sql("select url, warc_file, warc_offset from captures"):
        record = read_record(tmp_path / "warcs" / row["warc_file"], row["warc_offset"])
        assert record.header("WARC-Target-URI") == row["url"]


def test_leftover_open_file_repaired_on_next_run(site: FixtureServer, tmp_path) -> None:
    warcs = tmp_path / "warcs"
    warcs.mkdir(parents=True)
    left = crashed_file(warcs, 2, b"\x1f\x8b\x08\x00\x00\x00half a record")
    result = run_reviewarc(
        "crawl", site.base_url + "/reviews/one/", "--data", str(tmp_path), "--depth", "0"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert not left.exists()
    repaired = warcs / left.name.removesuffix(".open")
    assert repaired.exists()
    assert [r.record_type for r in iter_records(repaired)] == ["warcinfo"] + [
        "response",
        "request",
    ] * 2
    assert warcio_check(sorted(warcs.glob("*.warc.gz"))).returncode == 0


MEASURE = """
import resource, sys
from crawler.cli import main
sys.argv = ["reviewarc", *sys.argv[1:]]
try:
    main()
finally:
    print("PEAK_RSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def test_decompression_bombs_refused_with_bounded_memory(tmp_path) -> None:
    server = FixtureServer(bomb_size=1 << 30).start()  # 1 GiB of zeros each
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                MEASURE,
                "crawl",
                server.base_url + "/bomb/gzip/",
                server.base_url + "/bomb/br/",
                "--data",
                str(tmp_path),
                "--depth",
                "0",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-2000:]
    peak_mb = int(result.stderr.rsplit("PEAK_RSS_KB", 1)[1].split()[0]) / 1024
    assert peak_mb < 300, f"peak RSS {peak_mb:.0f} MB"
    crawl = Crawl(result, tmp_path, server)
    kinds = {r["url"]: r["kind"] for r in crawl.sql("select url, kind from failures")}
    assert kinds[server.base_url + "/bomb/gzip/"] == "too_large"
    assert kinds[server.base_url + "/bomb/br/"] == "too_large"


FILE_LIMIT = 3_000_000  # the WARC file reaches it well before the database does


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def test_disk_full_mid_crawl_stops_with_error_and_loses_nothing(
    site: FixtureServer, tmp_path
) -> None:
    args = ["crawl", site.base_url + "/big/1/", "--data", str(tmp_path)]
    first = [*args, "--depth", "60", "--no-requisites"]
    result = subprocess.run(
        [str(BIN / "reviewarc"), *first],
        capture_output=True,
        text=True,
        timeout=180,
        preexec_fn=_limit_file_size,
    )
    assert result.returncode != 0
    assert "WARC" in result.stderr and "Traceback" not in result.stderr.split("Error:")[-1]
    crawl = Crawl(result, tmp_path, site)
    rows = crawl.sql("select url, warc_file, warc_offset from captures")
    assert len(rows) >= 3
    assert all(p.stat().st_size <= FILE_LIMIT for p in (tmp_path / "warcs").iterdir())
    for row in rows:  # every row points at a whole record
        record = read_record(tmp_path / "warcs" / row["warc_file"], row["warc_offset"])
        assert record.header("WARC-Target-URI") == row["url"]
    (outcome,) = crawl.sql("select outcome from crawls")
    assert outcome["outcome"] == "warc_write_failed"
    # The next run, with room again, repairs what the failed one left and goes on.
    again = run_reviewarc(*args, "--depth", "0")
    assert again.returncode == 0, again.stderr[-2000:]
    assert not list((tmp_path / "warcs").glob("*.open"))
    assert warcio_check(sorted((tmp_path / "warcs").glob("*.warc.gz"))).returncode == 0
