"""The ``reviewarc`` command line. Library errors become messages here, at the edge.

One module per group of commands; each registers its commands on :data:`cli`.
"""

from __future__ import annotations

from crawler.cli import (  # noqa: F401 (registers commands)
    crawling,
    indexing,
    querying,
    scheduling,
    serving,
)
from crawler.cli.common import cli


def main() -> None:
    cli()


__all__ = ["cli", "main"]
