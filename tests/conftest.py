from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.mockserver import FixtureServer

BIN = Path(sys.executable).parent
SECRET_AUTH = "Basic c2VjcmV0OnNlY3JldA=="


def run_reviewarc(*args: str, timeout: float = 180, **kwargs) -> subprocess.CompletedProcess:
    """Run the installed ``reviewarc`` command, as a user would."""
    return subprocess.run(
        [str(BIN / "reviewarc"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """A raw GET on loopback: status, headers and body bytes, nothing decoded."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@contextmanager
def running(command: list[str], ports: list[int], timeout: float = 90, **kwargs) -> Iterator[None]:
    """Run a server process until the block ends, once all its ports answer."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                for port in ports:
                    get(port, "/")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"{Path(command[0]).name} did not start")
                time.sleep(0.2)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def warcio_check(paths: list[Path]) -> subprocess.CompletedProcess:
    assert paths, "no WARC files to check"
    return subprocess.run(
        [str(BIN / "warcio"), "check", "-v", *map(str, paths)], capture_output=True, text=True
    )


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
        return sorted((self.data / "warcs").glob("*.warc.gz"))

    def sql(self, query: str) -> list[dict]:
        out = run_reviewarc("sql", query, "--json", "--data", str(self.data))
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)


@pytest.fixture(scope="session", autouse=True)
def every_warc_checked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the session: every WARC file any test produced passes ``warcio check`` and
    reads back record by record."""
    from archive.warc_reader import iter_records

    yield
    paths = sorted(tmp_path_factory.getbasetemp().rglob("*.warc.gz"))
    if not paths:
        return
    check = warcio_check(paths)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    for path in paths:
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
