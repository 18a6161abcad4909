"""The ``reviews`` spider under a real Scrapyd, as README's "Running under Scrapyd" gives it:
``scrapyd-deploy`` builds and uploads the egg, ``schedule.json`` runs a crawl of the fixture
site into a data directory of the test's. And ``scrapy crawl reviews`` from the repository
without a seed says so in one line."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import BIN, read_sql, stop, wait_until
from tests.mockserver import FixtureServer

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crawler", "pipelines", "archive")
#: The fixture pages the Scrapyd job crawls (REVIEWARC_MAX_DEPTH=0: these and no more).
PAGES = ("/reviews/one/", "/reviews/two/")


@dataclass
class Scrapyd:
    process: subprocess.Popen
    url: str
    home: Path  # its working directory, with scrapyd.conf, eggs/, logs/, dbs/

    def get(self, endpoint: str, **params: str) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(self.url + endpoint + query, timeout=10) as response:
            return json.load(response)

    def post(self, endpoint: str, params: list[tuple[str, str]]) -> dict:
        body = urllib.parse.urlencode(params).encode()
        with urllib.request.urlopen(self.url + endpoint, body, timeout=10) as response:
            return json.load(response)

    def output(self) -> str:
        return (self.home / "scrapyd.log").read_text(errors="replace")

    def answers(self) -> bool:
        try:
            return self.get("daemonstatus.json").get("status") == "ok"
        except OSError:
            return False

    def ready_or_ended(self) -> bool:
        return self.answers() or self.process.poll() is not None


def _free_port() -> int:
    """A port free a moment ago: Scrapyd cannot bind port 0 and say which it took."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(home: Path) -> dict[str, str]:
    """This environment without Scrapy's project variables (the egg alone names the
    settings), and ``home`` for HOME: no ~/.scrapyd.conf or ~/.scrapy.cfg of the machine's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCRAPY_", "XDG_CONFIG"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(home)
    return env


@contextmanager
def scrapyd(home: Path, attempts: int = 3) -> Iterator[Scrapyd]:
    """A Scrapyd on loopback with everything under ``home``, run by this Python (whose
    environment has reviewarc's dependencies); another port if the one picked was taken."""
    for attempt in range(attempts):
        port = _free_port()
        (home / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            "bind_address = 127.0.0.1\n"
            f"http_port = {port}\n"
            f"eggs_dir = {home / 'eggs'}\n"
            f"logs_dir = {home / 'logs'}\n"
            f"dbs_dir = {home / 'dbs'}\n"
            "items_dir =\n"
            "poll_interval = 0.2\n"
        )
        with (home / "scrapyd.log").open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "scrapyd"],
                cwd=home, env=_environment(home), stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        server = Scrapyd(process, f"http://127.0.0.1:{port}/", home)
        try:
            wait_until(
                server.ready_or_ended, 30,
                "scrapyd answering daemonstatus.json", output=server.output,
            )  # fmt: skip
            if process.poll() is not None:
                if attempt + 1 < attempts and "Address already in use" in server.output():
                    continue
                pytest.fail(f"scrapyd ended ({process.returncode}):\n{server.output()[-3000:]}")
            yield server
            return
        finally:
            stop(process)


def project_copy(dest: Path, scrapyd_url: str) -> Path:
    """The project's files in ``dest`` (building the egg leaves build/ and *.egg-info/
    behind, which the repository must not get), with a ``[deploy:test]`` target."""
    ignore = shutil.ignore_patterns(
        ".*", "build", "*.egg-info", "__pycache__", "tests", "benchmarks", "docs", "reviewarc-data"
    )
    shutil.copytree(ROOT, dest, ignore=ignore)
    config = configparser.ConfigParser()
    config.read(dest / "scrapy.cfg")
    config["deploy:test"] = {"url": scrapyd_url, "project": "reviewarc"}
    with (dest / "scrapy.cfg").open("w") as f:
        config.write(f)
    return dest


def _git_status() -> str | None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return None
    done = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout if done.returncode == 0 else None


def check_egg(egg: Path, project: Path) -> None:
    """The uploaded egg names the settings module and holds every file of the packages."""
    with zipfile.ZipFile(egg) as z:
        names = set(z.namelist())
        entry_points = configparser.ConfigParser()
        entry_points.read_string(z.read("EGG-INFO/entry_points.txt").decode())
    assert entry_points["scrapy"]["settings"] == "crawler.settings"
    wanted = {
        path.relative_to(project).as_posix()
        for package in PACKAGES
        for path in (project / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert wanted - names == set()
    assert "crawler/demo/site/index.html" in names  # package data, not only modules
    assert "archive/webview_templates/_table.html" in names


def test_deploy_and_schedule_under_scrapyd(site: FixtureServer, tmp_path: Path) -> None:
    before = _git_status()
    home = tmp_path / "scrapyd"
    home.mkdir()
    data = tmp_path / "data"
    with scrapyd(home) as server:
        project = project_copy(tmp_path / "project", server.url)
        files = set(project.iterdir())
        deployed = subprocess.run(
            [str(BIN / "scrapyd-deploy"), "test"],
            cwd=project, env=_environment(home), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        # scrapyd-deploy exits 0 even when Scrapyd refuses the egg: its answer says.
        assert deployed.returncode == 0, deployed.stderr[-3000:]
        answer = json.loads(deployed.stdout.strip().splitlines()[-1])
        assert answer["status"] == "ok", answer.get("message", answer)
        assert answer["spiders"] == 1
        # Nothing a checkout would show as untracked: setup.py is the repository's own.
        left = {p.name for p in set(project.iterdir()) - files}
        assert left <= {"build", "reviewarc.egg-info"}, left
        (egg,) = (home / "eggs" / "reviewarc").glob("*.egg")
        check_egg(egg, project)

        seeds = " ".join(site.base_url + page for page in PAGES)
        scheduled = server.post("schedule.json", [
            ("project", "reviewarc"), ("spider", "reviews"), ("url", seeds),
            ("setting", f"REVIEWARC_DATA={data}"), ("setting", "REVIEWARC_MAX_DEPTH=0"),
        ])  # fmt: skip
        assert scheduled["status"] == "ok", scheduled
        job = scheduled["jobid"]
        log = home / "logs" / "reviewarc" / "reviews" / f"{job}.log"

        def finished() -> bool:
            jobs = server.get("listjobs.json", project="reviewarc")
            return any(j["id"] == job for j in jobs["finished"])

        def job_log() -> str:
            return log.read_text(errors="replace") if log.exists() else server.output()

        wait_until(finished, 60, "the Scrapyd job finishing", process=server.process,
                   output=job_log, interval=0.1)  # fmt: skip
    assert "Spider closed (finished)" in job_log(), job_log()[-3000:]

    warcs = sorted((data / "warcs").glob("*.warc.gz"))
    assert warcs, job_log()[-3000:]
    archived = set()
    for path in warcs:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    archived.add(record.rec_headers.get_header("WARC-Target-URI"))
    assert {site.base_url + page for page in PAGES} <= archived
    articles = {row["url"] for row in read_sql(data, "select url from articles")}
    assert articles == {site.base_url + page for page in PAGES}
    assert _git_status() == before  # nothing left in the repository


def test_scrapy_crawl_without_url_says_so_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "reviews", "-s", f"REVIEWARC_DATA={tmp_path}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr[-3000:]
    assert "no seed URL: pass -a url=https://site.example/" in errors[0]
