"""Run :func:`pipelines.extraction.analyze_page` in worker processes, off the reactor.

Parsing and extraction are CPU work; in the crawl's own thread they would stall
downloading. A pebble process pool, one worker per core by default, takes the pages; each
task has a time limit after which its worker is killed and replaced, so one pathological
page cannot hold the crawl.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable

import pebble

from pipelines.extraction import PageAnalysis, PageInput, analyze_page

logger = logging.getLogger(__name__)


class ExtractionTimeout(Exception):
    """A page took longer than the time limit to analyze."""


class ExtractionFailed(Exception):
    """The worker analyzing a page failed (crashed, ran out of memory, ...)."""


def _context() -> multiprocessing.context.ForkServerContext:
    """Workers forked from a server that has loaded :mod:`pipelines.warm` (shared pages)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "pipelines.warm"])
    return context


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ExtractionPool:
    """``await pool.analyze(page)``; ``workers=0`` analyzes in this process instead."""

    def __init__(
        self,
        workers: int | None = None,
        timeout: float = 60.0,
        function: Callable[[PageInput], PageAnalysis] = analyze_page,
    ) -> None:
        self.workers = default_workers() if workers is None else workers
        self.timeout = timeout
        self.function = function
        self._pool: pebble.ProcessPool | None = None
        if self.workers > 0:
            self._pool = pebble.ProcessPool(
                max_workers=self.workers,
                context=_context(),
            )
            # Start the forkserver and the workers now (pebble waits for the first task), so
            # that they load while the caller is still setting up.
            self._pool.schedule(os.getpid)

    async def analyze(self, page: PageInput) -> PageAnalysis:
        if self._pool is None:
            return self.function(page)
        future = self._pool.schedule(self.function, args=(page,), timeout=self.timeout)
        try:
            return await asyncio.wrap_future(future)
        except TimeoutError as e:
            raise ExtractionTimeout(f"extraction took over {self.timeout:g} s") from e
        except pebble.ProcessExpired as e:
            raise ExtractionFailed(f"extraction worker died: {e}") from e

    def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(timeout=10)
            self._pool = None
