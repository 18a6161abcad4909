"""``reviewarc index``: the workers' closed WARC files of a distributed crawl, indexed."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from archive.errors import ArchiveError
from crawler.cli.common import cli, data_option, fail, resolve


@cli.command()
@data_option
@click.option("--follow", is_flag=True, help="Keep indexing new files until interrupted.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0, min_open=True),
    default=5.0,
    show_default=True,
    help="Seconds between passes with --follow.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Extraction processes (default: one per core).",
)
def index(data_dir: Path | None, follow: bool, interval: float, workers: int | None) -> None:
    """Index the closed WARC files of a distributed crawl's workers into DIR/archive.db.

    Each worker crawls into DIR/workers/NAME/. A pass links every closed WARC file of
    DIR/workers/*/warcs/ (never a .open one, never one in superseded/) into DIR/warcs/, then
    indexes what is new there, as 'reprocess --new' does: captures, articles, and the runs'
    crawls and failures from the records the workers wrote. Files copied into DIR/warcs/ by
    other means are indexed too. With --follow it runs a pass every --interval seconds until
    SIGINT or SIGTERM, which end it after the file it is on.

    Example:

        reviewarc index --data ./archive --follow
    """
    datadir = resolve(data_dir)
    if workers != 0:
        from pipelines.pool import start_forkserver

        start_forkserver()  # first: it loads the extractors while the rest is imported
    from pipelines.index import Indexer, IndexPass

    def report(index_pass: IndexPass) -> None:
        for problem in index_pass.problems:
            click.echo(problem, err=True)
        if index_pass.indexed:
            click.echo(index_pass.summary())

    indexer = Indexer(datadir, workers=workers)
    stop = threading.Event()
    try:
        if not follow:
            report(indexer.run_pass())
            return
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
        try:
            indexer.follow(interval, stop, report)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    except ArchiveError as e:
        fail(str(e))


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
