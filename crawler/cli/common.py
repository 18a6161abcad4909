"""What every command shares: the command group, --data, and errors turned into messages."""

from __future__ import annotations

import shlex
import shutil
import sqlite3
import sys
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


def _same_file(a: str | None, b: Path) -> bool:
    try:
        return a is not None and Path(a).samefile(b)
    except OSError:
        return False


def command_as_run(name: str = "reviewarc") -> str:
    """How to type ``name`` (``reviewarc`` or a tool installed beside it, such as ``warcio``)
    so that a printed command works when pasted: bare when the shell finds this very
    program on PATH, else by the path it was run with (``.venv/bin/reviewarc``: the Quick
    start never activates the virtual environment)."""
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if program is not None and program.name == "reviewarc" and program.is_file():
        tool = program.with_name(name)
        if _same_file(shutil.which(name), tool):
            return name
        if tool.is_file():
            return shlex.quote(str(tool))
    if shutil.which(name):
        return name
    module = {"reviewarc": "crawler.cli", "warcio": "warcio.cli"}.get(name, name)
    return f"{shlex.quote(sys.executable)} -m {module}"


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
