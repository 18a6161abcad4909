"""Small normalizers for extracted fields: dates, author names, languages, titles, tags."""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
from datetime import UTC, datetime

from dateutil import parser as dateutil_parser

logger = logging.getLogger(__name__)

_BYLINE = re.compile(
    r"^\s*(?:written\s+by|reviewed\s+by|review\s+by|posted\s+by|words\s+by|by|von|par|por|"
    r"door|di|av|af)\s*[:\-–—]?\s+",
    re.IGNORECASE,
)
_AUTHOR_TAIL = re.compile(
    r"\s*(?:[|•·,]\s*)?(?:on\s+)?(?:\d{1,2}\s+\w+\s+\d{4}|\w+\s+\d{1,2},\s*\d{4}).*$"
)
_SPACE = re.compile(r"\s+")
_NO_DATE = datetime(1, 1, 1)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def clean_author(value: str | None) -> str | None:
    """``"By Mara Quinlan"`` -> ``"Mara Quinlan"``; None for empty or URL-like values."""
    if not value:
        return None
    text = _SPACE.sub(" ", unicodedata.normalize("NFC", value)).strip()
    text = _BYLINE.sub("", text)
    text = _AUTHOR_TAIL.sub("", text).strip(" ,;|-–—")
    if not text or text.startswith(("http://", "https://")) or len(text) > 120:
        return None
    return text


def iso_date(value: str | None) -> str | None:
    """ISO 8601 from common date forms: ``2026-03-14``, ``2026-03-14T09:30:00Z`` (kept with
    its offset; ``Z`` becomes ``+00:00``), ``2026-03-14 09:30``. None when unparsable."""
    if not value:
        return None
    text = str(value).strip()
    if _DATE_ONLY.match(text):
        try:
            datetime.strptime(text, "%Y-%m-%d")
        except ValueError:
            return None
        return text
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:  # "March 14, 2026", "14 Mar 2026 09:30 GMT", ...
            with warnings.catch_warnings():  # "EST": an unknown zone is no zone
                warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)
                moment = dateutil_parser.parse(text[:100], default=_NO_DATE)
        except (ValueError, OverflowError):
            return None
        if moment.year == 1:
            return None
    if moment.tzinfo is None and moment.hour == moment.minute == moment.second == 0:
        if "T" not in text and ":" not in text:
            return moment.date().isoformat()
    return moment.isoformat()


def language_code(value: str | None) -> str | None:
    """ISO 639-1 from ``en-GB``, ``en_US``, ``EN``; None when not a two-letter code."""
    if not value:
        return None
    code = re.split(r"[-_\s,;]", value.strip())[0].lower()
    return code if re.fullmatch(r"[a-z]{2}", code) else None


_CJK = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af]")


_LETTER = re.compile(r"[^\W\d_]")


def cjk_share(text: str) -> float:
    sample = text[:2000]
    letters = len(_LETTER.findall(sample))
    return len(_CJK.findall(sample)) / letters if letters else 0.0


def detect_language(text: str) -> str | None:
    """ISO 639-1 of ``text`` by py3langid, when there is enough text to tell."""
    if len(text.strip()) < 40:
        return None
    import py3langid

    try:
        code, _ = py3langid.classify(text[:2000])  # plenty to tell a language by
    except OSError as e:  # its model is unpacked to a temporary file first
        logger.warning("Language detection unavailable: %s", e)
        return None
    return code


def clean_title(title: str | None, site_name: str | None) -> str | None:
    """Drop a trailing or leading site name: ``"X review – Orbit"`` -> ``"X review"``."""
    if not title:
        return None
    title = _SPACE.sub(" ", title).strip()
    if site_name:
        for sep in (" – ", " — ", " - ", " | ", " · ", " :: ", " » "):
            if title.endswith(sep + site_name):
                return title[: -len(sep + site_name)].strip()
            if title.startswith(site_name + sep):
                return title[len(site_name + sep) :].strip()
    return title or None


def clean_tags(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        for part in re.split(r"[,;]", value):
            tag = _SPACE.sub(" ", part).strip().lower()
            if tag and len(tag) <= 60:
                seen.setdefault(tag, None)
    return list(seen)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()
