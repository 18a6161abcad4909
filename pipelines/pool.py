"""Run :func:`pipelines.extraction.analyze_page` in worker processes, off the reactor.

Parsing and extraction are CPU work; in the crawl's own thread they would stall
downloading. A pebble process pool, one worker per core by default, takes the pages; each
task has a time limit after which its worker is killed and replaced, so one pathological
page cannot hold the crawl.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable

import pebble

from pipelines.page import PageAnalysis, PageInput

logger = logging.getLogger(__name__)


class ExtractionTimeout(Exception):
    """A page took longer than the time limit to analyze."""


class ExtractionFailed(Exception):
    """The worker analyzing a page failed (crashed, ran out of memory, ...)."""


def analyze(page: PageInput) -> PageAnalysis:
    """:func:`pipelines.extraction.analyze_page`, imported on first use: workers have it
    preloaded, and a process that only hands pages over never loads the extractors."""
    from pipelines.extraction import analyze_page

    return analyze_page(page)


def _worker_ready(ready: multiprocessing.queues.Queue) -> None:
    """Each worker's first act: say it is up (it has read its start-up data)."""
    ready.put(os.getpid())


def _context() -> multiprocessing.context.ForkServerContext:
    """Workers forked from a server that has loaded :mod:`pipelines.worker_warmup` (pages
    shared copy-on-write)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "pipelines.worker_warmup"])
    return context


def start_forkserver() -> None:
    """Start the workers' forkserver now, without waiting for it: it loads
    :mod:`pipelines.worker_warmup` (half a second) while the caller imports and sets up, and every
    pool this process makes later forks its workers from it (there is one per process).
    Commands that will extract call this first."""
    from multiprocessing import forkserver

    _context()
    forkserver.ensure_running()


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ExtractionPool:
    """``await pool.analyze(page)``; ``workers=0`` analyzes in this process instead."""

    def __init__(
        self,
        workers: int | None = None,
        timeout: float = 60.0,
        function: Callable[[PageInput], PageAnalysis] = analyze,
    ) -> None:
        self.workers = default_workers() if workers is None else workers
        self.timeout = timeout
        self.function = function
        self._pool: pebble.ProcessPool | None = None
        if self.workers > 0:
            context = _context()
            #: One message from each worker that is up: close() waits for them, since a
            #: worker still reading its start-up data when the pool's semaphores are gone
            #: prints a traceback (``SemLock._rebuild``: FileNotFoundError) to the terminal.
            self._ready = context.Queue()
            self._pool = pebble.ProcessPool(
                max_workers=self.workers,
                initializer=_worker_ready,
                initargs=(self._ready,),
                context=context,
            )
            # Start the workers now, from a thread: starting them waits for the forkserver to
            # have loaded pipelines.worker_warmup (a second or so), which must not stall the
            # caller's event loop. analyze() awaits this before handing the pool any page.
            self._started: concurrent.futures.Future = concurrent.futures.Future()
            threading.Thread(target=self._start, name="extraction-pool-start", daemon=True).start()

    def _start(self) -> None:
        assert self._pool is not None
        try:
            # Its result: a worker is running (not merely forked), so that close() does not
            # stop the pool while its workers are still reading their start-up data.
            self._pool.schedule(os.getpid).result()
        except BaseException as e:  # a broken pool: analyze() raises it
            outcome: BaseException | None = e
        else:
            outcome = None
        # A caller cancelled while it waited (its run was ending) leaves nothing to report.
        if self._started.set_running_or_notify_cancel():
            if outcome is None:
                self._started.set_result(None)
            else:
                self._started.set_exception(outcome)

    async def analyze(self, page: PageInput) -> PageAnalysis:
        if self._pool is None:
            return self.function(page)
        if not self._started.done():
            if not page.extract:
                # Links only (an archive-only crawl's first pages): lxml alone, quick and
                # bounded, so done here rather than holding the crawl until workers are up.
                return self.function(page)
            await asyncio.wrap_future(self._started)
        self._started.result()
        future = self._pool.schedule(self.function, args=(page,), timeout=self.timeout)
        try:
            return await asyncio.wrap_future(future)
        except TimeoutError as e:
            raise ExtractionTimeout(f"extraction took over {self.timeout:g} s") from e
        except pebble.ProcessExpired as e:
            raise ExtractionFailed(f"extraction worker died: {e}") from e

    def _wait_for_workers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for _ in range(self.workers):
            try:
                self._ready.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return

    def close(self) -> None:
        if self._pool is not None:
            concurrent.futures.wait([self._started], timeout=30)
            started = self._started
            if started.done() and not started.cancelled() and started.exception() is None:
                self._wait_for_workers(timeout=30)
            self._pool.stop()
            self._pool.join(timeout=10)
            self._pool = None
            self._ready.close()
            self._ready.join_thread()
