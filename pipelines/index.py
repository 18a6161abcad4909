"""The indexer of a distributed crawl: the single writer of ``DIR/archive.db``.

Each worker is a crawl whose data directory is ``DIR/workers/NAME/``. An index pass takes
every *closed* WARC or ARC file of ``DIR/workers/*/warcs/`` (never a ``.open`` one, which a
live or dead worker still owns, and never one of ``superseded/``) that ``DIR/warcs/`` lacks,
hard-links it there (or copies it, under a temporary name then renamed, when linking fails),
and indexes what is new in ``DIR/warcs/`` with :func:`pipelines.reprocess.reprocess`
(``only_new``): captures and articles, and from the workers' own records their runs'
``crawls`` rows and their failures (:mod:`archive.run_records`). Files put into
``DIR/warcs/`` by other means (a synced directory) are indexed the same way. Nothing in
``DIR/workers/`` is ever written.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from archive.datadir import DataDir
from archive.errors import DataDirLocked
from archive.warc_reader import is_archive_name
from pipelines.reprocess import ReprocessResult, reprocess

logger = logging.getLogger(__name__)

#: ``DIR/workers/NAME/`` of each worker.
WORKERS_DIR = "workers"
#: How a copy in progress is named in ``DIR/warcs/`` (not a WARC file's name: never read).
PARTIAL_SUFFIX = ".partial"


def worker_files(datadir: DataDir) -> Iterator[Path]:
    """The closed WARC and ARC files of every worker, in name order (the files of
    ``DIR/workers/NAME/warcs/`` only: neither ``.open`` nor in a subdirectory)."""
    root = datadir.path / WORKERS_DIR
    if not root.is_dir():
        return
    for worker in sorted(root.iterdir()):
        warcs = worker / "warcs"
        if not warcs.is_dir():
            continue
        for path in sorted(warcs.iterdir()):
            if is_archive_name(path.name) and path.is_file():
                yield path


def bring_in(source: Path, warc_dir: Path) -> bool:
    """Put ``source`` into ``warc_dir`` under its name: a hard link, or else a copy made under
    a temporary name and renamed, so that no reader sees it half written. Whether it was
    added (False: a file of that name is there already). Raises :class:`OSError`."""
    target = warc_dir / source.name
    try:
        os.link(source, target)
        return True
    except FileExistsError:
        return False
    except OSError as e:  # another file system, a file system without links, EPERM
        logger.debug("Cannot link %s (%s); copying it", source, e)
    partial = warc_dir / f".{source.name}.{os.getpid()}{PARTIAL_SUFFIX}"
    try:
        shutil.copyfile(source, partial)
        if target.exists():
            partial.unlink()
            return False
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return True


@dataclass
class IndexPass:
    """What one pass did: the files brought in from the workers, what indexing them gave,
    and problems (one line each)."""

    brought_in: list[str] = field(default_factory=list)
    result: ReprocessResult | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def indexed(self) -> bool:
        return self.result is not None and self.result.files > 0

    def summary(self) -> str:
        """``Indexed 3 new WARC file(s): 412 captures, 37 articles, 5 failures``."""
        result = self.result or ReprocessResult()
        return (
            f"Indexed {result.files} new WARC file(s): {result.captures_added} captures, "
            f"{result.articles_new} articles, {result.failures_recorded} failures"
        )


class Indexer:
    """Index passes over one data directory. It remembers, for as long as it lives, which
    problems it has said (each is said once) and which files it has read (a file that holds
    no capture and no run, such as an unreadable one, is not read again at every pass)."""

    def __init__(self, datadir: DataDir, *, workers: int | None = None) -> None:
        self.datadir = datadir
        self.workers = workers
        self._said: set[str] = set()
        self._read: set[str] = set()

    def _problem(self, index_pass: IndexPass, line: str) -> None:
        if line not in self._said:
            self._said.add(line)
            index_pass.problems.append(line)
            logger.warning("%s", line)

    def gather(self, index_pass: IndexPass, stop: Callable[[], bool]) -> None:
        """Bring every closed worker file that ``DIR/warcs/`` lacks into it."""
        warc_dir = self.datadir.warc_dir
        for source in worker_files(self.datadir):
            if stop():
                return
            target = warc_dir / source.name
            try:
                if target.exists():
                    have, size = target.stat().st_size, source.stat().st_size
                    if have != size:
                        self._problem(
                            index_pass,
                            f"{source}: skipped, {target} is another file of that name "
                            f"({have} bytes, not {size})",
                        )
                    continue
                if bring_in(source, warc_dir):
                    index_pass.brought_in.append(source.name)
            except OSError as e:
                self._problem(index_pass, f"{source}: cannot bring it into {warc_dir}: {e}")

    def run_pass(self, stop: Callable[[], bool] = lambda: False) -> IndexPass:
        """One pass: bring the workers' new files in, then index what is new. Holds the data
        directory's lock throughout (raises :class:`archive.errors.DataDirLocked`)."""
        index_pass = IndexPass()
        self.datadir.create()
        self.datadir.lock()
        try:
            self.gather(index_pass, stop)
            if stop():
                return index_pass
            # reprocess takes the lock it already holds, and lets it go when it ends.
            result = reprocess(
                self.datadir, only_new=True, workers=self.workers, exclude=self._read, stop=stop
            )
        finally:
            self.datadir.unlock()
        self._read.update(result.names)
        index_pass.result = result
        for failure in result.failures:
            self._problem(index_pass, f"failed: {failure}")
        return index_pass

    def follow(
        self,
        interval: float,
        stop: threading.Event,
        report: Callable[[IndexPass], None] = lambda index_pass: None,
    ) -> None:
        """Passes every ``interval`` seconds until ``stop`` is set (a pass under way ends
        after the file it is on). While another process holds the data directory (a
        ``reprocess``), passes are skipped, which is said once."""
        waiting = False
        while not stop.is_set():
            try:
                index_pass = self.run_pass(stop.is_set)
            except DataDirLocked as e:
                index_pass = IndexPass(problems=[] if waiting else [f"{e}; waiting for it"])
                waiting = True
            else:
                waiting = False
            report(index_pass)
            stop.wait(interval)
