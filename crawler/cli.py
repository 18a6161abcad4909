"""The ``reviewarc`` command line. Library errors become messages here, at the edge."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from archive.datadir import ENV_VAR, DataDir, default_data_dir
from archive.errors import ArchiveError
from crawler import __version__

console = Console()

data_option = click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Data directory (default: ${ENV_VAR}, else ./reviewarc-data).",
)


def resolve(data_dir: Path | None) -> DataDir:
    return DataDir(data_dir or default_data_dir())


def fail(message: str) -> None:
    raise click.ClickException(message)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reviewarc")
def cli() -> None:
    """reviewarc: crawl review sites into WARC files, extract the reviews, search them."""


# -- crawl ---------------------------------------------------------------------------------


def _parse_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            fail(f"--set takes NAME=VALUE, not {pair!r}")
        out[name.strip()] = value
    return out


def _check_writable(datadir: DataDir) -> None:
    """Fail early, with a message, when the crawl could not write its archive."""
    datadir.create().check_writable()


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
@click.option("--user-agent", help="User-Agent to send (default names reviewarc and its URL).")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a Scrapy or REVIEWARC_* setting; repeatable.",
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
    user_agent: str | None,
    overrides: tuple[str, ...],
    log_level: str,
) -> None:
    """Crawl review sites into the archive.

    Starts from the seed URLs (and their robots.txt sitemaps, /sitemap.xml and feeds),
    stays on the seeds' hosts, and archives every response into WARC files.
    Exits 0 when the crawl completed, even if some pages failed (see the failures table).

    Example:

        reviewarc crawl https://reviews.example/ --data ./archive
    """
    from crawler.runner import CrawlJob, build_settings, run_crawls
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

    datadir = resolve(data_dir)
    try:
        _check_writable(datadir)
        datadir.lock()  # fail now, with a message, if another crawl is running
        datadir.unlock()
    except ArchiveError as e:
        fail(str(e))
    settings = build_settings(
        datadir.path,
        max_pages=max_pages,
        user_agent=user_agent,
        log_level=log_level,
        overrides={
            "REVIEWARC_ARCHIVE_ONLY": archive_only,
            "REVIEWARC_REQUISITES": not no_requisites,
            **_parse_overrides(overrides),
        },
    )
    results = run_crawls(jobs, settings)
    _print_crawl_summary(datadir, results)
    errors = [r.error or r.stats.get("reviewarc/warc_write_error") for r in results if not r.ok]
    if errors:
        fail(f"crawl failed: {errors[0]}")


def _print_crawl_summary(datadir: DataDir, results: list[Any]) -> None:
    if not datadir.exists():
        return
    con = sqlite3.connect(f"file:{datadir.db_path}?mode=ro", uri=True)
    try:
        for result in results:
            crawl_id = result.stats.get("reviewarc/crawl_id")
            if crawl_id is None:
                continue
            captures, files = con.execute(
                "select count(*), count(distinct warc_file) from captures where crawl_id = ?",
                [crawl_id],
            ).fetchone()
            failures = con.execute(
                "select count(*) from failures where crawl_id = ?", [crawl_id]
            ).fetchone()[0]
            label = result.job.source or ", ".join(result.job.seeds)
            click.echo(
                f"Crawl {crawl_id} of {label}: {captures} responses archived in {files} WARC "
                f"file(s), {failures} failure(s) recorded. Data: {datadir.path}"
            )
    finally:
        con.close()


# -- demo ----------------------------------------------------------------------------------


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
    from crawler.demo.server import DemoServer
    from crawler.runner import CrawlJob, build_settings, run_crawls

    datadir = resolve(data_dir)
    try:
        _check_writable(datadir)
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
    _print_demo_report(datadir, results[0].stats.get("reviewarc/crawl_id"))


def _print_demo_report(datadir: DataDir, crawl_id: int | None) -> None:
    con = sqlite3.connect(f"file:{datadir.db_path}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "select status, content_type, url, warc_file from captures where crawl_id = ?"
            " order by id",
            [crawl_id],
        ).fetchall()
        failures = con.execute(
            "select kind, url, reason from failures where crawl_id = ? order by id", [crawl_id]
        ).fetchall()
    finally:
        con.close()
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
    con = sqlite3.connect(f"file:{datadir.db_path}?mode=ro", uri=True)
    try:
        articles = con.execute(
            "select a.title, a.author, a.published, a.rating_value, a.rating_best, a.url "
            "from articles a join captures c on c.id = a.capture_id where c.crawl_id = ? "
            "order by a.published desc",
            [crawl_id],
        ).fetchall()
    finally:
        con.close()
    reviews = Table(title=f"{len(articles)} reviews extracted")
    for col in ("title", "author", "published", "rating"):
        reviews.add_column(col, overflow="fold")
    for title, author, published, value, best, _ in articles:
        rating = f"{value:g}/{best:g}" if value is not None else ""
        reviews.add_row(title or "", author or "", (published or "")[:10], rating)
    console.print(reviews)
    data = datadir.path
    example = articles[0][5] if articles else prefix + "/"
    click.echo(
        "\nTry next:\n"
        f"  reviewarc search lighthouse --data {data}\n"
        f"  reviewarc show {example} --data {data}\n"
        f'  reviewarc sql "select title, rating_value, rating_best from articles" --data {data}\n'
        f"  warcio check {data}/warcs/*.warc.gz"
    )


# -- search and show -----------------------------------------------------------------------


def _read_db(data_dir: Path | None):  # noqa: ANN202
    from sqlite_utils import Database

    from archive.database import ArchiveDB
    from archive.migrations import MIGRATIONS, schema_version

    try:
        datadir = resolve(data_dir).require()
        db = Database(sqlite3.connect(f"file:{datadir.db_path}?mode=ro", uri=True))
        if schema_version(db) < len(MIGRATIONS):  # an archive made by an older reviewarc
            db.close()
            ArchiveDB.open(datadir.db_path).close()
            db = Database(sqlite3.connect(f"file:{datadir.db_path}?mode=ro", uri=True))
    except (ArchiveError, sqlite3.Error) as e:
        fail(str(e))
    return db


@cli.command()
@click.argument("query")
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of results.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
def search(query: str, data_dir: Path | None, as_json: bool, limit: int) -> None:
    """Full-text search over the archived reviews, best match first.

    QUERY uses SQLite FTS5 syntax: words, "exact phrases", OR, NOT, prefix*.

    Example:

        reviewarc search '"slow burn" OR thriller' --limit 5
    """
    from archive.search import SearchQueryError
    from archive.search import search as run_search

    db = _read_db(data_dir)
    try:
        hits = run_search(db, query, limit=limit)
    except SearchQueryError as e:
        fail(str(e))
    finally:
        db.close()
    if as_json:
        click.echo(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo(f"No reviews match {query!r}.")
        return
    for hit in hits:
        rating = f"  {hit.rating_value:g}/{hit.rating_best:g}" if hit.rating_value else ""
        console.print(f"[bold]{escape(hit.title or hit.url)}[/bold]{rating}")
        meta = " · ".join(x for x in (hit.site_name, hit.author, hit.published) if x)
        console.print(f"  [dim]{escape(meta)}[/dim]")
        console.print(f"  {escape(hit.url)}", soft_wrap=True, highlight=False)
        snippet = escape(hit.snippet).replace("**", "\x00")
        parts = snippet.split("\x00")
        marked = "".join(
            f"[bold yellow]{p}[/bold yellow]" if i % 2 else p for i, p in enumerate(parts)
        )
        console.print(f"  {marked}\n", highlight=False)


@cli.command()
@click.argument("url")
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print the article and its history as JSON.")
@click.option("--diff", "as_diff", is_flag=True, help="Show what changed between versions.")
def show(url: str, data_dir: Path | None, as_json: bool, as_diff: bool) -> None:
    """The stored article for a URL, its versions and its capture history.

    Example:

        reviewarc show https://reviews.example/reviews/some-film/ --diff
    """
    from archive.search import article_history, version_diffs

    db = _read_db(data_dir)
    try:
        history = article_history(db, url)
    finally:
        db.close()
    if history is None:
        fail(f"nothing archived for {url}")
    if as_diff:
        history["diffs"] = version_diffs(history["versions"])
    if as_json:
        click.echo(json.dumps(history, ensure_ascii=False, indent=2, default=_jsonable))
        return
    article = history["article"]
    if article is None:
        click.echo(f"{url} was captured but is not an article.")
    else:
        table = Table(show_header=False, box=None)
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for key in (
            "title",
            "author",
            "published",
            "modified",
            "site_name",
            "language",
            "item_reviewed",
            "item_reviewed_type",
            "canonical_url",
            "extractor",
        ):
            if article.get(key):
                table.add_row(key, str(article[key]))
        if article.get("rating_value") is not None:
            table.add_row("rating", f"{article['rating_value']:g} / {article['rating_best']:g}")
        if article.get("tags"):
            table.add_row("tags", ", ".join(article["tags"]))
        console.print(table)
        click.echo()
        click.echo(article["text"])
        click.echo()
        click.echo(f"{len(history['versions'])} version(s):")
        for v in history["versions"]:
            click.echo(f"  {v['first_seen']}  capture {v['capture_id']}  {v['text_hash'][:12]}")
        for diff in history.get("diffs", []):
            click.echo()
            for line in diff.splitlines():
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
                console.print(escape(line), style=style or None, highlight=False, soft_wrap=True)
    click.echo(f"{len(history['captures'])} capture(s):")
    for c in history["captures"]:
        click.echo(
            f"  {c['fetched_at']}  {c['status']}  {c['record_type']}  "
            f"{c['warc_file']}@{c['warc_offset']}"
        )


# -- replay --------------------------------------------------------------------------------


def _check_port(host: str, port: int) -> None:
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as e:
        fail(f"cannot listen on {host}:{port}: {e.strerror or e}")


def replay_command(datadir: DataDir, host: str, port: int) -> list[str]:
    """Index the captures and return the command line that serves them with pywb."""
    from archive.replay import prepare

    db = _read_db(datadir.path)
    try:
        config, count = prepare(datadir, db)
    finally:
        db.close()
    click.echo(f"{count} captures indexed; replay at http://{host}:{port}/web/", err=True)
    module = "archive.replay_server"
    return [sys.executable, "-m", module, str(config), host, str(port), str(datadir.db_path)]


@cli.command()
@data_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
def replay(data_dir: Path | None, host: str, port: int) -> None:
    """Serve the archived captures with pywb (collection "web").

    /web/<timestamp>id_/<url> returns a capture as archived, /web/<timestamp>/<url> the page
    for a browser with its links rewritten into the archive, /web/*/<url> the captures of a
    URL. The capture nearest the timestamp (1 to 14 digits) is served; nothing is ever
    fetched from the live web.

    Example:

        reviewarc replay --port 8080
    """
    datadir = resolve(data_dir)
    _check_port(host, port)
    command = replay_command(datadir, host, port)
    os.execv(command[0], command)


# -- reprocess -----------------------------------------------------------------------------


@cli.command()
@data_option
@click.option("--new", "only_new", is_flag=True, help="Only WARC files not indexed yet.")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Extraction processes (default: one per core).",
)
def reprocess(data_dir: Path | None, only_new: bool, workers: int | None) -> None:
    """Rebuild captures, articles and versions from the WARC files alone (no network).

    Runs the crawl's own extraction on every archived page, on all cores. Safe to run
    again: what is already in the database is not added twice. Use it after upgrading
    reviewarc, or to build a database for WARC files copied from elsewhere.

    Example:

        reviewarc reprocess --data ./archive
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from pipelines.reprocess import reprocess as run_reprocess
    from pipelines.reprocess import warc_files

    datadir = resolve(data_dir)
    if not datadir.warc_dir.is_dir():
        fail(f"no WARC files in {datadir.warc_dir}")
    total = len(warc_files(datadir))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[records]} records"))  # fmt: skip
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("WARC files", total=total, records=0)
        try:
            result = run_reprocess(
                datadir, only_new=only_new, workers=workers,
                progress=lambda path, records: bar.update(task, advance=1, records=records),
            )  # fmt: skip
        except ArchiveError as e:
            fail(str(e))
    click.echo(
        f"{result.files} WARC file(s), {result.records} records: {result.captures_added} "
        f"captures added, {result.pages} pages analyzed, {result.articles_new} new articles, "
        f"{result.versions_new} new versions."
    )
    for failure in result.failures[:20]:
        click.echo(f"  failed: {failure}", err=True)


# -- export --------------------------------------------------------------------------------


@cli.command()
@data_option
@click.option(
    "--wacz",
    "wacz_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A WACZ package (WARCs, index, pages.jsonl of the articles).",
)
@click.option(
    "--jsonl",
    "jsonl_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The articles as JSON lines.",
)
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The articles as CSV.",
)
@click.option("--title", help="Title of the WACZ package.")
def export(
    data_dir: Path | None,
    wacz_file: Path | None,
    jsonl_file: Path | None,
    csv_file: Path | None,
    title: str | None,
) -> None:
    """Package the archive for other tools: WACZ for ReplayWeb.page, JSONL or CSV of articles.

    Example:

        reviewarc export --wacz reviews.wacz --jsonl reviews.jsonl
    """
    from archive.export import export_csv, export_jsonl, export_wacz

    if not (wacz_file or jsonl_file or csv_file):
        fail("choose at least one of --wacz FILE, --jsonl FILE, --csv FILE")
    db = _read_db(data_dir)
    datadir = resolve(data_dir)
    try:
        if wacz_file:
            count = export_wacz(db, datadir.warc_dir, wacz_file, title=title)
            click.echo(f"{wacz_file}: WACZ with {count} pages")
        if jsonl_file:
            click.echo(f"{jsonl_file}: {export_jsonl(db, jsonl_file)} articles")
        if csv_file:
            click.echo(f"{csv_file}: {export_csv(db, csv_file)} articles")
    except ArchiveError as e:
        fail(str(e))
    finally:
        db.close()


# -- serve ---------------------------------------------------------------------------------


@cli.command()
@data_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True)
@click.option(
    "--replay-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port of the replay server beside it (default: PORT + 1).",
)
def serve(data_dir: Path | None, host: str, port: int, replay_port: int | None) -> None:
    """A read-only web view of the archive (Datasette), with replay beside it.

    Search and browse the reviews, facet them by site, language, tag and rating, and follow
    any review into its archived copy. Replay runs on its own port, so archived pages never
    share an origin with the web view.

    Example:

        reviewarc serve --port 8001
    """
    import subprocess

    from crawler.webview import build_datasette, run_datasette

    datadir = resolve(data_dir)
    replay_port = replay_port or port + 1
    if replay_port == port:
        fail("--replay-port must differ from --port")
    _check_port(host, port)
    _check_port(host, replay_port)
    command = replay_command(datadir, host, replay_port)
    replay_server = subprocess.Popen(command)
    try:
        try:
            datasette = build_datasette(datadir.db_path, f"http://{host}:{replay_port}", port=port)
        except (FileNotFoundError, ValueError) as e:
            fail(str(e))
        click.echo(
            f"Web view at http://{host}:{port}/ (replay at http://{host}:{replay_port}/web/)"
        )
        run_datasette(datasette, host, port)
    finally:
        replay_server.terminate()
        replay_server.wait(timeout=10)


# -- schedule ------------------------------------------------------------------------------


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
        _check_writable(datadir)
    except ArchiveError as e:
        fail(str(e))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(message)s")
    scheduler = Scheduler(sources, crawl_launcher(config_file.resolve(), datadir.path.resolve()),
                          run_now=run_now)  # fmt: skip
    names = ", ".join(f"{s.name} ({s.schedule})" for s in sources)
    click.echo(f"Scheduling {names}; data in {datadir.path}. Ctrl-C to stop.", err=True)
    run_forever(scheduler)


# -- sql -----------------------------------------------------------------------------------


@cli.command()
@click.argument("query")
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of objects.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row.")
def sql(query: str, data_dir: Path | None, as_json: bool, as_csv: bool) -> None:
    """Run a read-only SQL query on the archive database.

    Example:

        reviewarc sql "select status, count(*) from captures group by status"
    """
    if as_json and as_csv:
        fail("choose one of --json and --csv")
    try:
        datadir = resolve(data_dir).require()
    except ArchiveError as e:
        fail(str(e))
    con = sqlite3.connect(f"file:{datadir.db_path}?mode=ro", uri=True)
    try:
        cursor = con.execute(query)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    except sqlite3.Error as e:
        fail(f"SQL error: {e}")
    finally:
        con.close()
    if as_json:
        click.echo(
            json.dumps(
                [dict(zip(columns, r, strict=True)) for r in rows],
                ensure_ascii=False,
                indent=2,
                default=_jsonable,
            )
        )
    elif as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        table = Table()
        for col in columns:
            table.add_column(col)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
