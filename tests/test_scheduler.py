"""`reviewarc schedule`: cron timing with a controllable clock, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import UTC, datetime

import pytest

from crawler.scheduler import Scheduler, validate
from crawler.sources import Source, SourcesError
from tests.conftest import BIN, Crawl, wait_until, warcio_check
from tests.mockserver import FixtureServer


class FakeChild:
    def __init__(self) -> None:
        self.code: int | None = None
        self.signals: list[int] = []

    def poll(self) -> int | None:
        return self.code

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)
        self.code = 0

    def wait(self, timeout: float | None = None) -> int:
        return self.code or 0

    def kill(self) -> None:
        self.code = -9


def at(hour: int, minute: int) -> float:
    return datetime(2026, 1, 1, hour, minute, tzinfo=UTC).timestamp()


def test_cron_schedule_with_a_controllable_clock() -> None:
    now = [at(0, 3)]
    started: list[tuple[str, float]] = []
    children: dict[str, FakeChild] = {}

    def launch(source: Source) -> FakeChild:
        started.append((source.name, now[0]))
        children[source.name] = FakeChild()
        return children[source.name]

    sources = [
        Source("often", ("http://a.test/",), schedule="*/5 * * * *"),
        Source("hourly", ("http://b.test/",), schedule="0 * * * *"),
    ]
    scheduler = Scheduler(sources, launch, clock=lambda: now[0])

    def advance(hour: int, minute: int) -> None:
        now[0] = at(hour, minute)
        scheduler.tick()

    advance(0, 4)
    assert started == []
    advance(0, 5)
    assert started == [("often", at(0, 5))]
    advance(0, 10)  # due again, but still running: not started twice, not queued
    assert started == [("often", at(0, 5))] and not scheduler.queue
    children["often"].code = 0
    advance(0, 11)  # reaped; not due until 00:15
    assert scheduler.running is None and len(started) == 1
    advance(1, 0)  # both due: one at a time
    assert started[-1] == ("often", at(1, 0)) and [s.name for s in scheduler.queue] == ["hourly"]
    children["often"].code = 0
    advance(1, 1)
    assert started[-1] == ("hourly", at(1, 1))
    scheduler.stop()
    assert children["hourly"].signals == [signal.SIGTERM]


def test_bad_cron_expression_is_refused() -> None:
    with pytest.raises(SourcesError, match="bad schedule"):
        validate([Source("x", ("http://a.test/",), schedule="every day")])


def test_sigterm_stops_the_running_crawl_cleanly(site: FixtureServer, tmp_path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nname = "big"\nseeds = ["{site.base_url}/big/1/"]\n'
        'schedule = "0 0 1 1 *"\nmax_depth = 60\n'
    )
    data = tmp_path / "data"
    start = len(site.log)
    proc = subprocess.Popen(
        [
            str(BIN / "reviewarc"),
            "schedule",
            "--config",
            str(sources),
            "--data",
            str(data),
            "--run-now",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(
        lambda: sum(e.path.startswith("/big/") for e in site.log[start:]) >= 3, 90,
        "the scheduled crawl fetching its first pages", process=proc,
        output=lambda: proc.stderr.read() if proc.poll() is not None else "",
    )  # fmt: skip
    os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    crawl = Crawl(subprocess.CompletedProcess([], 0, out, err), data, site)
    (row,) = crawl.sql("select source, outcome, finished_at from crawls")
    assert row["source"] == "big" and row["outcome"] == "shutdown" and row["finished_at"]
    assert not list((data / "warcs").glob("*.open"))
    assert warcio_check(sorted((data / "warcs").glob("*.warc.gz"))).returncode == 0
    fetched = sum(e.path.startswith("/big/") for e in site.log[start:])
    assert fetched < 60  # stopped before the end
