"""What every command shares: the command group, --data, and errors turned into messages."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import click
from rich.console import Console

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


def check_writable(datadir: DataDir) -> None:
    """Fail early, with a message, when the crawl could not write its archive."""
    datadir.create().check_writable()


def read_db(data_dir: Path | None):
    """The archive of ``data_dir``, read-only (a sqlite-utils Database), or a one-line
    error when there is none."""
    from archive.database import ArchiveDB

    try:
        return ArchiveDB.open_readonly(resolve(data_dir).require().db_path).db
    except (ArchiveError, sqlite3.Error) as e:
        fail(str(e))


def jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
