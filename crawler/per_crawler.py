"""One object per Scrapy crawler (its config, capture, host health), built on first use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def once(crawler: Any, attribute: str, build: Callable[[], T]) -> T:
    """The object kept on ``crawler`` under ``attribute``, built by ``build`` the first time."""
    found = getattr(crawler, attribute, None)
    if found is None:
        found = build()
        setattr(crawler, attribute, found)
    return found
