"""Items the spider hands to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FetchFailure:
    """A URL that could not be archived or came back with an error status."""

    url: str
    kind: str  # http, timeout, dns, connection, too_large, robots, data_loss, ignored, error
    reason: str
    status: int | None = None
    capture_id: int | None = None
