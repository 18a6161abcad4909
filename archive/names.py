"""Names as item matching compares them (shared by the pipelines that store them and the
commands that look them up)."""

from __future__ import annotations

import re
import unicodedata

#: A year in parentheses at the end of a name: ``"The Quiet Orchard (2025)"``.
NAME_YEAR = re.compile(r"\s*[\(\[]((?:1[89]|20)\d\d)[\)\]]\s*$")
_TRAILING_ARTICLE = re.compile(r"^(.+),\s*(the|a|an)$", re.IGNORECASE)
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+")


def name_key(name: str) -> str:
    """A name as matching compares it: ``"Quiet Orchard, The"``, ``"THE QUIET ORCHARD"`` and
    ``"The Quiet Orchard (2025)"`` all give ``"quiet orchard"``; accents, case, punctuation
    and a leading article do not count."""
    text = NAME_YEAR.sub("", " ".join(name.split()))
    text = _TRAILING_ARTICLE.sub(r"\2 \1", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("&", " and ")
    text = " ".join(re.sub(r"[^\w]+", " ", text).split())
    return _LEADING_ARTICLE.sub("", text) or text
