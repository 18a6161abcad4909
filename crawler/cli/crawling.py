"""``reviewarc crawl`` and ``reviewarc demo``."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from archive.database import ArchiveDB
from archive.datadir import DataDir
from archive.errors import ArchiveError
from crawler.cli.common import (
    check_writable,
    cli,
    command_as_run,
    console,
    data_option,
    fail,
    resolve,
)
from crawler.items import CRAWL_ID_STAT


def _parse_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            fail(f"--set takes NAME=VALUE, not {pair!r}")
        out[name.strip()] = value
    return out


@cli.command()
@click.argument("urls", nargs=-1)
@data_option
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Sources file (TOML) naming sites to crawl.",
)
@click.option("--source", help="Crawl only this source of the --config file.")
@click.option(
    "--depth", type=click.IntRange(min=0), help="Most links followed from a seed (default 20)."
)
@click.option("--max-pages", type=click.IntRange(min=1), help="Stop after this many responses.")
@click.option(
    "--archive-only",
    is_flag=True,
    help="Write WARCs and captures only; leave extraction to 'reviewarc reprocess'.",
)
@click.option(
    "--no-requisites",
    is_flag=True,
    help="Do not archive the stylesheets, images, scripts and fonts of article pages.",
)
@click.option(
    "--block-ads",
    is_flag=True,
    help="Leave out requisites that EasyList or EasyPrivacy match (ads and trackers).",
)
@click.option("--user-agent", help="User-Agent to send (default names reviewarc and its URL).")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a Scrapy or REVIEWARC_* setting; repeatable.",
)
@click.option(
    "--redis",
    "redis_url",
    envvar="REVIEWARC_REDIS_URL",
    metavar="URL",
    help="Share the crawl with other workers through this Redis (redis://HOST:PORT/DB;"
    " $REVIEWARC_REDIS_URL). See README, Many machines.",
)
@click.option(
    "--worker",
    envvar="REVIEWARC_WORKER_ID",
    metavar="NAME",
    help="This worker's name with --redis ($REVIEWARC_WORKER_ID; default: the host name);"
    " it writes DATA/workers/NAME/.",
)
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
def crawl(
    urls: tuple[str, ...],
    data_dir: Path | None,
    config_file: Path | None,
    source: str | None,
    depth: int | None,
    max_pages: int | None,
    archive_only: bool,
    no_requisites: bool,
    block_ads: bool,
    user_agent: str | None,
    overrides: tuple[str, ...],
    redis_url: str | None,
    worker: str | None,
    log_level: str,
) -> None:
    """Crawl review sites into the archive.

    Starts from the seed URLs (and their robots.txt sitemaps, /sitemap.xml and feeds),
    stays on the seeds' hosts, and archives every response into WARC files.
    Exits 0 when the crawl completed, even if some pages failed (see the failures table).

    With --redis, this is one worker of a crawl shared by several (on one machine or
    many): start the same command on each, with its own --worker name, and run
    'reviewarc index --follow' to build the archive database from their WARC files.

    Examples:

        reviewarc crawl https://reviews.example/ --data ./archive

        reviewarc crawl https://reviews.example/ --redis redis://10.0.0.5:6379/0 --worker w1
    """
    extra = _parse_overrides(overrides)
    if extra.get("REVIEWARC_EXTRACT_WORKERS", "").strip() != "0":
        from pipelines.pool import start_forkserver

        start_forkserver()  # first: it loads the extractors while Scrapy is imported
    from crawler.runner import build_settings, run_crawls

    jobs = _jobs(urls, config_file, source, depth)
    datadir = resolve(data_dir)
    if redis_url:
        worker = _check_shared(redis_url, worker)
        extra.update({"REVIEWARC_REDIS_URL": redis_url, "REVIEWARC_WORKER_ID": worker})
        # The archive (DATA/archive.db) is the indexer's: a worker writes its own directory.
        datadir = DataDir(datadir.path / "workers" / worker)
    elif worker:
        fail("--worker needs --redis URL (or $REVIEWARC_REDIS_URL)")
    try:
        check_writable(datadir)
        datadir.lock()  # fail now, with a message, if another crawl is running
        datadir.unlock()
    except ArchiveError as e:
        fail(str(e))
    settings = build_settings(
        resolve(data_dir).path,
        max_pages=max_pages,
        user_agent=user_agent,
        log_level=log_level,
        overrides={
            "REVIEWARC_ARCHIVE_ONLY": archive_only,
            "REVIEWARC_REQUISITES": not no_requisites,
            **({"REVIEWARC_BLOCK_ADS": True} if block_ads else {}),
            **extra,
        },
    )
    results = run_crawls(jobs, settings)
    _print_crawl_summary(datadir, results)
    errors = [r.error or r.stats.get("reviewarc/warc_write_error") for r in results if not r.ok]
    if errors:
        fail(f"crawl failed: {errors[0]}")


def _check_shared(redis_url: str, worker: str | None) -> str:
    """The worker's name, once Redis answers; a one-line error if it does not, or if the
    name cannot name files."""
    from crawler.config import valid_worker, worker_name
    from crawler.distributed.state import connect

    try:
        name = valid_worker(worker) if worker else worker_name()
        connect(redis_url).connection_pool.disconnect()
    except ValueError as e:
        fail(str(e))
    return name


def _jobs(
    urls: tuple[str, ...], config_file: Path | None, source: str | None, depth: int | None
) -> list[Any]:
    """The crawls asked for: the sources of ``--config`` (or the one named ``--source``)
    and the seed URLs; a one-line error when there are none or one is wrong."""
    from crawler.runner import CrawlJob
    from crawler.scope import origin
    from crawler.sources import SourcesError, load_sources

    jobs: list[CrawlJob] = []
    if config_file is not None:
        try:
            sources = load_sources(config_file)
        except SourcesError as e:
            fail(str(e))
        if source is not None:
            sources = [s for s in sources if s.name == source]
            if not sources:
                fail(f"no source named {source!r} in {config_file}")
        jobs += [CrawlJob.from_source(s) for s in sources]
    elif source is not None:
        fail("--source needs --config FILE")
    if urls:
        bad = [u for u in urls if origin(u) is None]
        if bad:
            fail(f"not an http(s) URL: {bad[0]}")
        jobs.append(CrawlJob(tuple(urls)))
    if not jobs:
        fail("nothing to crawl: give seed URLs or --config FILE")
    if depth is not None:
        jobs = [CrawlJob(j.seeds, j.source, j.article_pattern, depth) for j in jobs]
    return jobs


def _print_crawl_summary(datadir: DataDir, results: list[Any]) -> None:
    if not datadir.exists() or all(r.stats.get(CRAWL_ID_STAT) is None for r in results):
        return  # no crawl ran (one that lost the lock to another must not touch the archive)
    archive = ArchiveDB.open_readonly(datadir.db_path)
    try:
        for result in results:
            crawl_id = result.stats.get(CRAWL_ID_STAT)
            if crawl_id is None:
                continue
            captures, files, failures = archive.crawl_counts(crawl_id)
            label = result.job.source or ", ".join(result.job.seeds)
            click.echo(
                f"Crawl {crawl_id} of {label}: {captures} responses archived in {files} WARC "
                f"file(s), {failures} failure(s) recorded. Data: {datadir.path}"
            )
    finally:
        archive.close()


@cli.command()
@data_option
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
def demo(data_dir: Path | None, log_level: str) -> None:
    """Crawl a bundled sample review site, served on loopback, into the data directory.

    Needs no network. Prints what was archived and what to try next.

    Example:

        reviewarc demo --data ./demo-archive
    """
    from pipelines.pool import start_forkserver

    start_forkserver()  # first: it loads the extractors while Scrapy is imported
    from crawler.demo.server import DemoServer
    from crawler.runner import CrawlJob, build_settings, run_crawls

    datadir = resolve(data_dir)
    try:
        check_writable(datadir)
        datadir.lock()
        datadir.unlock()
    except ArchiveError as e:
        fail(str(e))
    with DemoServer(port=8642) as server:
        click.echo(f"Serving the demo site at {server.base_url}/ and crawling it ...")
        settings = build_settings(datadir.path, log_level=log_level)
        results = run_crawls([CrawlJob((server.base_url + "/",), source="demo")], settings)
    if not all(r.ok for r in results):
        fail(f"demo crawl failed: {results[0].error or results[0].stats}")
    _print_demo_report(datadir, results[0].stats.get(CRAWL_ID_STAT))


def _print_demo_report(datadir: DataDir, crawl_id: int | None) -> None:
    archive = ArchiveDB.open_readonly(datadir.db_path)
    try:
        rows = archive.crawl_captures(crawl_id)
        failures = archive.crawl_failures(crawl_id)
        articles = archive.crawl_articles(crawl_id)
        archived = archive.latest_articles() if not articles else []
    finally:
        archive.close()
    base = rows[0][2].split("/", 3)[:3] if rows else []
    prefix = "/".join(base)
    table = Table(title=f"Crawl {crawl_id} of {prefix}/ archived {len(rows)} responses")
    for col in ("status", "content type", "path"):
        table.add_column(col, overflow="fold")
    for status, ctype, url, _ in rows:
        path = url[len(prefix) :] if url.startswith(prefix) else url
        table.add_row(str(status), (ctype or "").split(";")[0], path)
    console.print(table)
    for name in sorted({warc for *_, warc in rows}):
        size = (datadir.warc_dir / name).stat().st_size
        click.echo(f"WARC file: {datadir.warc_dir / name} ({size:,} bytes)")
    if failures:
        click.echo(f"{len(failures)} failure(s) recorded:")
        for kind, url, reason in failures:
            click.echo(f"  {kind:10} {url}  {reason}")
    title = f"{len(articles)} reviews extracted"
    if not articles and archived:  # a second run: nothing new, and the archive says so
        title = f"No review new or changed in this crawl; the archive holds {len(archived)}"
        articles = archived
    reviews = Table(title=title)
    for col in ("title", "author", "published", "rating"):
        reviews.add_column(col, overflow="fold")
    for title, author, published, value, best, _ in articles:
        rating = f"{value:g}/{best:g}" if value is not None else ""
        reviews.add_row(title or "", author or "", (published or "")[:10], rating)
    console.print(reviews)
    _print_try_next(datadir, articles[0][5] if articles else None)


def _print_try_next(datadir: DataDir, example: str | None) -> None:
    """Commands to try on the archive, each working as pasted (see :func:`command_as_run`);
    ``example``: a review's URL, if there is one."""
    data = shlex.quote(str(datadir.path))
    reviewarc, warcio = command_as_run("reviewarc"), command_as_run("warcio")
    lines = [f"  {reviewarc} search lighthouse --data {data}"]
    if example:
        lines.append(f"  {reviewarc} show {shlex.quote(example)} --data {data}")
    lines += [
        f"  {reviewarc} items --data {data}",
        f'  {reviewarc} sql "select title, rating_value, rating_best from articles" --data {data}',
        f"  {warcio} check {data}/warcs/*.warc.gz",
    ]
    if example:  # replay runs until Ctrl-C: last
        replayed = f"http://127.0.0.1:8080/web/{example}"
        lines.append(f"  {reviewarc} replay --data {data}    # then open {replayed}")
    click.echo("\nTry next:\n" + "\n".join(lines))
