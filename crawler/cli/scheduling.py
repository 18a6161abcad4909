"""``reviewarc schedule``."""

from __future__ import annotations

from pathlib import Path

import click

from archive.errors import ArchiveError
from crawler.cli.common import check_writable, cli, data_option, fail, resolve


@cli.command()
@data_option
@click.option(
    "--config",
    "config_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sources file (TOML) with a cron 'schedule' per source.",
)
@click.option("--run-now", is_flag=True, help="Crawl every source once at start, then on schedule.")
def schedule(data_dir: Path | None, config_file: Path, run_now: bool) -> None:
    """Run forever, starting each source's crawl on its schedule (cron syntax).

    Crawls run one at a time; a source is never crawled twice at once. SIGTERM or Ctrl-C
    stops the running crawl cleanly (requests in flight finished, WARC files closed).

    Example:

        reviewarc schedule --config sources.toml --data ./archive
    """
    import logging

    from crawler.scheduler import Scheduler, crawl_launcher, run_forever, validate
    from crawler.sources import SourcesError, load_sources

    try:
        sources = validate(load_sources(config_file))
    except SourcesError as e:
        fail(str(e))
    if not sources:
        fail(f"no source in {config_file} has a schedule")
    datadir = resolve(data_dir)
    try:
        check_writable(datadir)
    except ArchiveError as e:
        fail(str(e))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(message)s")
    scheduler = Scheduler(sources, crawl_launcher(config_file.resolve(), datadir.path.resolve()),
                          run_now=run_now)  # fmt: skip
    names = ", ".join(f"{s.name} ({s.schedule})" for s in sources)
    click.echo(f"Scheduling {names}; data in {datadir.path}. Ctrl-C to stop.", err=True)
    run_forever(scheduler)
