"""Ads and trackers among page requisites, by a filter list (``--block-ads``).

The matcher is the ``adblock`` package from PyPI (Python bindings of Brave's adblock-rust,
the engine of a browser's built-in blocker), which reads Adblock Plus filter syntax. The
lists are EasyList (ads) and EasyPrivacy (trackers), as Debian packages them with uBlock
Origin (``apt-get install webext-ublock-origin-chromium``); ``REVIEWARC_ADBLOCK_LISTS``
names other files. A requisite the lists block is not fetched: the archived page then
replays as it would in a browser with that blocker.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

#: Where Debian's uBlock Origin packages (Chromium's, then Firefox's) keep the two lists.
DEBIAN_LISTS = [
    Path(root) / "assets/thirdparties/easylist" / name
    for root in (
        "/usr/share/chromium/extensions/ublock-origin",
        "/usr/share/webext/ublock-origin",
    )
    for name in ("easylist.txt", "easyprivacy.txt")
]
INSTALL_HINT = (
    "install Debian's lists (apt-get install webext-ublock-origin-chromium)"
    " or name filter list files in REVIEWARC_ADBLOCK_LISTS"
)

_TYPES = {
    "js": "script", "mjs": "script", "css": "stylesheet",
    "woff": "font", "woff2": "font", "ttf": "font", "otf": "font", "eot": "font",
    "png": "image", "jpg": "image", "jpeg": "image", "gif": "image", "webp": "image",
    "avif": "image", "svg": "image", "ico": "image",
    "mp4": "media", "webm": "media", "mp3": "media", "ogg": "media",
}  # fmt: skip


def request_type(url: str) -> str:
    """The resource type a filter rule's ``$script``, ``$image`` ... options match, guessed
    from the URL's extension (a requisite's tag is not kept with it)."""
    suffix = urlsplit(url).path.rsplit("/", 1)[-1].rpartition(".")[2].lower()
    return _TYPES.get(suffix, "other")


def default_lists() -> list[Path]:
    """Debian's EasyList and EasyPrivacy, from the first package that has both."""
    for first in range(0, len(DEBIAN_LISTS), 2):
        pair = DEBIAN_LISTS[first : first + 2]
        if all(path.is_file() for path in pair):
            return pair
    return []


class AdFilter:
    def __init__(self, engine: object, lists: list[Path]) -> None:
        self.engine = engine
        self.lists = lists

    @classmethod
    def load(cls, paths: list[Path] | None = None) -> AdFilter:
        """The filter of ``paths`` (default: Debian's lists). ValueError, saying what to
        install, when the matcher or a list is missing."""
        try:
            import adblock
        except ImportError:
            raise ValueError(
                "--block-ads needs the adblock package: install it where reviewarc runs"
                " (pip install adblock, or pip install '.[ads]' in the repository)"
            ) from None
        lists = paths or default_lists()
        if not lists:
            raise ValueError(f"--block-ads: no filter list found; {INSTALL_HINT}")
        rules = adblock.FilterSet()
        for path in lists:
            try:
                rules.add_filter_list(path.read_text(encoding="utf-8", errors="replace"))
            except OSError as e:
                raise ValueError(f"--block-ads: cannot read {path}: {e.strerror}") from None
        logger.info("Blocking ads and trackers with %s", ", ".join(map(str, lists)))
        return cls(adblock.Engine(rules, optimize=True), lists)

    def blocks(self, url: str, page_url: str) -> bool:
        """Whether the lists block ``url`` as a requisite of the page at ``page_url``."""
        return bool(self.engine.check_network_urls(url, page_url, request_type(url)).matched)
