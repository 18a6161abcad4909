"""Errors a person meets at the command line are one clear line, never a traceback."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BIN, SERVE_ADDRESS, get, run_reviewarc, running, serve_command
from tests.mockserver import FixtureServer
from tests.test_sql_readonly import data  # noqa: F401  (a fixture: a small archive)

CRAWLS_AT_ONCE_ROUNDS = 5


def crawl_command(site: FixtureServer, data_dir: Path) -> list[str]:
    seed = site.base_url + "/reviews/one/"
    return [str(BIN / "reviewarc"), "crawl", seed, "--depth", "0", "--data", str(data_dir)]


def test_two_crawls_at_once_the_loser_says_so_in_one_line(
    site: FixtureServer, tmp_path: Path
) -> None:
    """Two ``reviewarc crawl`` started at the same instant on one data directory: one
    crawls, the other exits non-zero saying another crawl is writing. It used to print a
    FileNotFoundError traceback from its extraction workers, every second time or so, as
    it exited while they were still starting; several rounds make that show."""
    losers = []
    for n in range(CRAWLS_AT_ONCE_ROUNDS):
        command = crawl_command(site, tmp_path / f"data{n}")
        procs = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        results = [(p, *p.communicate(timeout=180)) for p in procs]
        failed = [err for p, _, err in results if p.returncode != 0]
        # One loser, or none if the first crawl was over before the second began.
        assert len(failed) <= 1, failed
        losers += failed
    assert losers, "the crawls never ran at the same time"
    for err in losers:
        assert "Traceback" not in err, err[-3000:]
        assert "another crawl is writing to" in err.splitlines()[-1], err[-2000:]


def test_refused_sql_in_the_web_view_logs_no_traceback(data: Path) -> None:  # noqa: F811
    """Datasette printed every refused query's traceback with all its local variables
    (some 330 lines on the terminal of ``reviewarc serve``)."""
    with running(serve_command(data), SERVE_ADDRESS) as server:
        port = server.ports[0]
        status, _, _ = get(port, "/")
        assert status == 200
        for path in ("/archive?sql=delete+from+articles", "/archive.json?sql=drop+table+articles"):
            status, _, body = get(port, path)
            assert status == 400 and b"Statement must be a SELECT" in body, (status, body[:500])
        status, _, body = get(port, "/archive?sql=select+count(*)+as+n+from+articles")
        assert status == 200
        server.process.terminate()
        server.process.wait(timeout=30)
        logged = server.output()
    assert "Traceback" not in logged, logged[:3000]
    startup = ("Web view at ", "captures indexed", "is missing", "Replaying at ")
    others = [line for line in logged.splitlines() if not any(s in line for s in startup)]
    assert len(others) <= 2, logged[:3000]  # at most a line for each refused query


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs: the fixture site's WARCs do not fit in it."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_full_disk_is_one_line_per_failure(site: FixtureServer, small_disk: Path) -> None:
    """A crawl that fills the disk stops with the message "database or disk is full"; the
    pages in flight then failing the same way are one log line each, not a traceback each."""
    result = run_reviewarc("crawl", site.base_url + "/", "--data", str(small_disk / "data"))
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: crawl failed: ") and (
        "disk is full" in last or "No space left" in last
    ), last
    assert "Traceback" not in result.stderr, result.stderr[-5000:]


def test_a_bad_setting_value_is_one_line(tmp_path: Path) -> None:
    """A crawl whose settings a component refuses (in its from_crawler) ends with the reason,
    not with Scrapy's "stats not set yet" traceback."""
    result = run_reviewarc(
        "crawl", "http://127.0.0.1:9/", "--data", str(tmp_path),
        "--set", "REVIEWARC_PRIVATE_ADDRESSES=bogus",
    )  # fmt: skip
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: crawl failed: REVIEWARC_PRIVATE_ADDRESSES must be one of auto, seeds, not 'bogus'"
    )


@pytest.mark.parametrize("command", ["replay", "serve"])
def test_a_port_in_use_is_one_line(data: Path, command: str) -> None:  # noqa: F811
    """A port another program listens on: the command says so in one line, before it
    indexes or starts anything."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_reviewarc(command, "--data", str(data), "--port", str(port), timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
