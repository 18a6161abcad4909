"""``reviewarc replay``, ``serve``, ``reprocess`` and ``export``: the WARCs as the source of
truth."""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

import click
from rich.console import Console

from archive.datadir import DataDir
from archive.errors import ArchiveError
from crawler.cli.common import cli, data_option, fail, read_db, resolve


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` (port 0: a free port the system picks), bound here
    before anything is printed or started: the address printed is then the one served, and
    no other process can take the port between a check and the server's own bind."""
    try:
        return socket.create_server((host, port))
    except (OSError, OverflowError) as e:  # OverflowError: a port past 65535 (--port 65535)
        reason = getattr(e, "strerror", None) or e
        raise click.ClickException(f"cannot listen on {host}:{port}: {reason}") from None


def replay_command(datadir: DataDir, host: str, sock: socket.socket) -> list[str]:
    """Index the captures and return the command line that serves them with pywb on
    ``sock`` (inherited by the replay process as a file descriptor)."""
    from archive.replay import prepare

    db = read_db(datadir.path)
    try:
        config, count = prepare(datadir, db)
    finally:
        db.close()
    port = sock.getsockname()[1]
    click.echo(f"{count} captures indexed; replay at http://{host}:{port}/web/", err=True)
    sock.set_inheritable(True)
    module = "archive.replay_server"
    return [sys.executable, "-m", module, str(config), str(datadir.db_path), host,
            str(sock.fileno())]  # fmt: skip


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

    With --port 0 the system picks a free port; the line printed at start names it.
    """
    datadir = resolve(data_dir)
    sock = listen(host, port)
    command = replay_command(datadir, host, sock)
    os.execv(command[0], command)  # the replay server inherits the listening socket


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
    datadir = resolve(data_dir)
    if not datadir.warc_dir.is_dir():
        fail(f"no WARC files in {datadir.warc_dir}")
    if workers != 0:
        from pipelines.pool import start_forkserver

        start_forkserver()  # first: it loads the extractors while the rest is imported
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from pipelines.reprocess import reprocess as run_reprocess
    from pipelines.reprocess import warc_files

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
@click.option(
    "--table",
    type=click.Choice(["articles", "reviews", "items"]),
    default="articles",
    show_default=True,
    help="What --jsonl and --csv hold: one record per article, per review (with its item and "
    "its score per capture) or per item (with its reviews).",
)
@click.option("--title", help="Title of the WACZ package.")
def export(
    data_dir: Path | None,
    wacz_file: Path | None,
    jsonl_file: Path | None,
    csv_file: Path | None,
    table: str,
    title: str | None,
) -> None:
    """Package the archive for other tools: WACZ for ReplayWeb.page, JSONL or CSV of the
    articles, reviews or items.

    Examples:

        reviewarc export --wacz reviews.wacz --jsonl reviews.jsonl

        reviewarc export --table items --csv items.csv
    """
    from archive.export import export_csv, export_jsonl, export_wacz

    if not (wacz_file or jsonl_file or csv_file):
        fail("choose at least one of --wacz FILE, --jsonl FILE, --csv FILE")
    db = read_db(data_dir)
    datadir = resolve(data_dir)
    try:
        if wacz_file:
            count = export_wacz(db, datadir.warc_dir, wacz_file, title=title)
            click.echo(f"{wacz_file}: WACZ with {count} pages")
        if jsonl_file:
            click.echo(f"{jsonl_file}: {export_jsonl(db, jsonl_file, table)} {table}")
        if csv_file:
            click.echo(f"{csv_file}: {export_csv(db, csv_file, table)} {table}")
    except ArchiveError as e:
        fail(str(e))
    finally:
        db.close()


@cli.command()
@data_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True)
@click.option(
    "--replay-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port of the replay server beside it (default: PORT + 1; with --port 0, any).",
)
def serve(data_dir: Path | None, host: str, port: int, replay_port: int | None) -> None:
    """A read-only web view of the archive (Datasette), with replay beside it.

    Search and browse the reviews, facet them by site, language, tag and rating, and follow
    any review into its archived copy. Replay runs on its own port, so archived pages never
    share an origin with the web view. With --port 0 (and --replay-port 0) the system picks
    free ports; the "Web view at" line printed at start names both.

    Example:

        reviewarc serve --port 8001
    """
    import subprocess

    from archive.webview import build_datasette, run_datasette

    datadir = resolve(data_dir)
    if replay_port is None:
        replay_port = port + 1 if port else 0
    if replay_port == port != 0:
        fail("--replay-port must differ from --port")
    view_socket = listen(host, port)
    replay_socket = listen(host, replay_port)
    port, replay_port = view_socket.getsockname()[1], replay_socket.getsockname()[1]
    command = replay_command(datadir, host, replay_socket)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again; left to its
    # default action that would end this process before the replay server is stopped below.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    replay_server = subprocess.Popen(command, pass_fds=[replay_socket.fileno()])
    replay_socket.close()  # the replay server holds it now, and frees the port when it ends
    try:
        try:
            datasette = build_datasette(datadir.db_path, f"http://{host}:{replay_port}", port=port)
        except (FileNotFoundError, ValueError) as e:
            fail(str(e))
        click.echo(
            f"Web view at http://{host}:{port}/ (replay at http://{host}:{replay_port}/web/)"
        )
        run_datasette(datasette, view_socket)
    finally:
        replay_server.terminate()
        replay_server.wait(timeout=10)
