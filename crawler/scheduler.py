"""``reviewarc schedule``: start each source's crawl on its cron schedule, forever.

Crawls run one at a time in a child process (``reviewarc crawl --config F --source NAME``),
since they share the data directory: a source that comes due while it is still being
crawled is not queued twice, and sources that come due together are crawled in turn.
On SIGTERM or SIGINT the running crawl is asked to stop the way Scrapy stops (finishing the
requests in flight and closing its WARC files), then the scheduler exits.

Cron expressions are read by croniter; time is read from an injectable clock so that the
scheduling logic can be tested without waiting.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from croniter import croniter

from crawler.sources import Source, SourcesError

logger = logging.getLogger(__name__)


class Child(Protocol):
    def poll(self) -> int | None: ...
    def send_signal(self, sig: int) -> None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def kill(self) -> None: ...


Launcher = Callable[[Source], Child]


def next_time(expression: str, after: float) -> float:
    return croniter(expression, datetime.fromtimestamp(after, UTC)).get_next(float)


def validate(sources: Iterable[Source]) -> list[Source]:
    """The sources that have a schedule; a bad cron expression is a SourcesError."""
    scheduled = []
    for source in sources:
        if not source.schedule:
            continue
        if not croniter.is_valid(source.schedule):
            raise SourcesError(f"source {source.name!r}: bad schedule {source.schedule!r}")
        scheduled.append(source)
    return scheduled


def crawl_launcher(config_file: Path, data_dir: Path) -> Launcher:
    def launch(source: Source) -> Child:
        command = [
            sys.executable, "-m", "crawler.cli", "crawl", "--config", str(config_file),
            "--source", source.name, "--data", str(data_dir), "--log-level", "WARNING",
        ]  # fmt: skip
        # Its own process group: a Ctrl-C at the terminal reaches only the scheduler, which
        # passes one SIGTERM on (a second signal would make Scrapy stop uncleanly).
        return subprocess.Popen(command, start_new_session=True)

    return launch


@dataclass
class Scheduler:
    sources: list[Source]
    launch: Launcher
    clock: Callable[[], float] = time.time
    run_now: bool = False
    next_run: dict[str, float] = field(default_factory=dict)
    queue: deque[Source] = field(default_factory=deque)
    running: tuple[Source, Child] | None = None
    history: list[tuple[str, float, int]] = field(default_factory=list)  # name, start, exit

    def __post_init__(self) -> None:
        now = self.clock()
        for source in self.sources:
            self.next_run[source.name] = now if self.run_now else next_time(source.schedule, now)

    def due(self, now: float) -> None:
        for source in self.sources:
            if now < self.next_run[source.name]:
                continue
            self.next_run[source.name] = next_time(source.schedule, now)
            busy = self.running is not None and self.running[0].name == source.name
            if busy or any(s.name == source.name for s in self.queue):
                logger.info("%s is due but still being crawled or queued", source.name)
                continue
            self.queue.append(source)

    def tick(self) -> None:
        """Reap a finished crawl, queue due sources, start the next crawl."""
        now = self.clock()
        if self.running is not None:
            source, child = self.running
            code = child.poll()
            if code is not None:
                logger.info("Crawl of %s ended with exit code %s", source.name, code)
                self.history.append((source.name, now, code))
                self.running = None
        self.due(now)
        if self.running is None and self.queue:
            source = self.queue.popleft()
            logger.info("Starting the crawl of %s", source.name)
            self.running = (source, self.launch(source))

    def seconds_to_next(self) -> float:
        if self.running is not None or self.queue:
            return 1.0
        soonest = min(self.next_run.values(), default=self.clock() + 60)
        return max(0.0, min(60.0, soonest - self.clock()))

    def stop(self, timeout: float = 120.0) -> None:
        """Ask a running crawl to stop cleanly (SIGTERM, as Scrapy expects) and wait."""
        if self.running is None:
            return
        source, child = self.running
        logger.info("Stopping the crawl of %s", source.name)
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            logger.error("The crawl of %s did not stop in %s s; killing it", source.name, timeout)
            child.kill()
            child.wait()
        self.running = None


def run_forever(scheduler: Scheduler, sleep: Callable[[float], None] = time.sleep) -> None:
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopping:
            scheduler.tick()
            waited = 0.0
            pause = scheduler.seconds_to_next()
            while not stopping and waited < pause:
                sleep(min(0.5, pause - waited))
                waited += 0.5
    finally:
        scheduler.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
