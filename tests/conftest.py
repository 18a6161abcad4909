from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest
from sqlite_utils import Database

from archive.database import ArchiveDB
from archive.datadir import DataDir
from tests.mockserver import FixtureServer, PagesServer

BIN = Path(sys.executable).parent
#: Debian's Chromium, and its flags for a headless test on a machine with a closed network
#: (without the background-networking ones it keeps trying Google's hosts).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET_AUTH = "Basic c2VjcmV0OnNlY3JldA=="
T = TypeVar("T")


def run_reviewarc(*args: str, timeout: float = 180, **kwargs) -> subprocess.CompletedProcess:
    """Run the installed ``reviewarc`` command, as a user would."""
    return subprocess.run(
        [str(BIN / "reviewarc"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def crawl_linked_pages(
    data: Path, server: PagesServer, paths: list[str]
) -> subprocess.CompletedProcess:
    """``reviewarc crawl`` of ``server`` from a home page that links ``paths``; the server is
    stopped after."""
    links = "".join(f'<a href="{path}">{path}</a> ' for path in paths)
    server.pages["/"] = (200, {}, f"<html><body>{links}</body></html>")
    try:
        return run_reviewarc("crawl", server.base_url + "/", "--data", str(data))
    finally:
        server.stop()


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    *,
    process: subprocess.Popen | None = None,
    output: Callable[[], str] = str,
    interval: float = 0.02,
) -> T:
    """Poll ``predicate`` until it returns something true, and return that. The test fails,
    saying ``what`` it waited for, once ``timeout`` seconds have passed or ``process`` has
    ended first (with the tail of ``output()``). The one place the tests wait for anything:
    each waits for what it needs, never for a fixed time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if process is not None and process.poll() is not None:
            pytest.fail(
                f"{what}: the process ended first ({process.returncode})\n{output()[-3000:]}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s\n{output()[-3000:]}")
        time.sleep(interval)


def get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """A raw GET on loopback: status, headers and body bytes, nothing decoded."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


#: What ``reviewarc serve`` prints once it listens: the web view's port, then replay's.
SERVE_ADDRESS = (
    r"Web view at http://127\.0\.0\.1:(\d+)/ \(replay at http://127\.0\.0\.1:(\d+)/web/\)"
)
#: What ``reviewarc replay`` prints once it listens.
REPLAY_ADDRESS = r"replay at http://127\.0\.0\.1:(\d+)/web/"


@dataclass
class Server:
    """A server process started by :func:`running`, with the ports it printed."""

    process: subprocess.Popen
    ports: tuple[int, ...]
    log: Path

    def output(self) -> str:
        """All it printed so far, stdout and stderr together."""
        return self.log.read_text(errors="replace")


def stop(process: subprocess.Popen, timeout: float = 15) -> None:
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running(command: list[str], address: str, timeout: float = 90, **kwargs) -> Iterator[Server]:
    """Run a server process until the block ends, from the moment it has printed the
    address it listens on: ``address`` is a regular expression whose groups are its ports.
    Every server binds port 0 itself (no port is picked here and freed for it to take, which
    another process could take first), and binds before it prints, so it is ready then."""
    fd, name = tempfile.mkstemp(prefix="reviewarc-server-", suffix=".log")
    log = Path(name)
    with os.fdopen(fd, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **kwargs)
    server = Server(process, (), log)
    pattern = re.compile(address)
    try:
        found = wait_until(
            lambda: pattern.search(server.output()), timeout,
            f"{Path(command[0]).name} {command[1]} printing its address",
            process=process, output=server.output,
        )  # fmt: skip
        server.ports = tuple(int(port) for port in found.groups())
        yield server
    finally:
        stop(process)
        log.unlink()


def serve_command(data: Path) -> list[str]:
    """``reviewarc serve`` on ports of its choosing (for :func:`running` with SERVE_ADDRESS)."""
    return [str(BIN / "reviewarc"), "serve", "--data", str(data), "--port", "0"]


def replay_command(data: Path) -> list[str]:
    """``reviewarc replay`` on a port of its choosing (with REPLAY_ADDRESS)."""
    return [str(BIN / "reviewarc"), "replay", "--data", str(data), "--port", "0"]


#: Digests of the WARC files a test has already seen pass ``warcio check``: the session's
#: final check (:func:`every_warc_checked`) need not check the same bytes again.
_CHECKED: set[str] = set()


def _digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def warcio_check(paths: list[Path]) -> subprocess.CompletedProcess:
    assert paths, "no WARC files to check"
    digests = [_digest(p) for p in paths]
    done = subprocess.run(
        [str(BIN / "warcio"), "check", "-v", *map(str, paths)], capture_output=True, text=True
    )
    if done.returncode == 0:
        _CHECKED.update(digests)
    return done


@contextmanager
def reading(data: Path) -> Iterator[Database]:
    """The archive database in the data directory ``data``, through the read-only handle
    every reader uses (it can run no statement that writes), closed when the block ends."""
    archive = ArchiveDB.open_readonly(DataDir(data).db_path)
    try:
        yield archive.db
    finally:
        archive.close()


def read_sql(data: Path, query: str) -> list[dict]:
    """The rows of a query on the archive in ``data``, as ``reviewarc sql --json`` prints
    them, read in this process through the read-only handle every reader uses (test_cli and
    test_sql_readonly run the command itself)."""
    with reading(data) as db:
        cursor = db.execute(query)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    return [
        {c: v.decode("utf-8", "replace") if isinstance(v, bytes) else v
         for c, v in zip(columns, row, strict=True)}
        for row in rows
    ]  # fmt: skip


@dataclass
class Crawl:
    result: subprocess.CompletedProcess
    data: Path
    server: FixtureServer
    log: list = field(default_factory=list)  # the server's log during this crawl only

    def requested(self, path: str) -> list:
        return [entry for entry in self.log if entry.path == path]

    @property
    def warcs(self) -> list[Path]:
        return sorted(DataDir(self.data).warc_dir.glob("*.warc.gz"))

    def sql(self, query: str) -> list[dict]:
        return read_sql(self.data, query)


def digest_problems(path: Path) -> list[str]:
    """What ``warcio check`` reports about ``path`` ([] when every record reads and every
    digest passes): warcio's own reader and digest checker over each record's bytes. Unlike
    ``warcio check`` it does not also undo each HTTP body's Content-Encoding, which no digest
    covers and which takes ten seconds on the decompression-bomb test's capture."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    problems: list[str] = []
    with path.open("rb") as stream:
        records = ArchiveIterator(stream, check_digests=True)
        try:
            for record in records:
                while record.raw_stream.read(1 << 20):
                    pass
                if record.digest_checker.passed is False:
                    offset = records.get_record_offset()
                    problems += [f"{path} @{offset}: {p}" for p in record.digest_checker.problems]
        except ArchiveLoadFailed as e:
            problems.append(f"{path}: {e}")
    return problems


@pytest.fixture(scope="session", autouse=True)
def every_warc_checked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the session: every WARC file any test produced passes warcio's digest check
    (:func:`digest_problems`) and reads back record by record with ours. Each content is
    checked once (a copy has the same bytes), and not at all if a test saw it pass
    ``warcio check`` itself."""
    from archive.warc_reader import iter_records

    yield
    unique: dict[str, Path] = {}  # reprocess tests copy warcs/: the copies once
    for path in sorted(tmp_path_factory.getbasetemp().rglob("*.warc.gz")):
        unique.setdefault(_digest(path), path)
    problems = [
        problem
        for digest, path in unique.items()
        if digest not in _CHECKED
        for problem in digest_problems(path)
    ]
    assert problems == [], problems[:20]
    for path in unique.values():
        records = list(iter_records(path))
        assert records[0].record_type == "warcinfo", path


#: Pages of the ``tree`` fixture: a binary tree of links, /many/1/ to /many/300/.
TREE_PAGES = 300


@pytest.fixture
def tree() -> Iterator[FixtureServer]:
    """A fresh "tree" site for a test that kills and resumes crawls of it."""
    server = FixtureServer(mode="tree", tree_size=TREE_PAGES).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def site() -> Iterator[FixtureServer]:
    server = FixtureServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def crawled(site: FixtureServer, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    """One crawl of the fixture site, shared by the tests that read its results."""
    data = tmp_path_factory.mktemp("crawl") / "data"
    headers = json.dumps({"Authorization": SECRET_AUTH, "Accept-Language": "en"})
    start = len(site.log)
    result = run_reviewarc(
        "crawl",
        site.base_url + "/",
        "--data",
        str(data),
        "--set",
        "DOWNLOAD_TIMEOUT=1.5",
        "--set",
        f"DEFAULT_REQUEST_HEADERS={headers}",
    )
    return Crawl(result, data, site, site.log[start:])


@pytest.fixture(scope="session")
def articles(site: FixtureServer, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    """A crawl of tests/site/articles/ (review layouts, charsets, redirects), shared."""
    data = tmp_path_factory.mktemp("articles") / "data"
    start = len(site.log)
    result = run_reviewarc(
        "crawl",
        site.base_url + "/articles/",
        site.base_url + "/articles/old-critic",
        site.base_url + "/articles/critic/?view=print",
        "--data",
        str(data),
        "--set",
        "DOWNLOAD_TIMEOUT=5",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return Crawl(result, data, site, site.log[start:])
