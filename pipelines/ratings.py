"""A schema.org rating on one scale: a score from 0 to 100, or none when the scale is unknown.

``score = (value - worst) / (best - worst) * 100``, where

- *best* is the ``bestRating`` the page states, else the second number of a value written
  ``"8/10"``, else 5 (schema.org's default) when the value is at most 5; a larger value with
  no stated best has no known scale and no score;
- *worst* is the ``worstRating`` the page states, else 0 (so 4 of 5 is 80, as critics'
  aggregators count it);
- a value written ``"86%"`` is on 0..100, and one written in stars (``"★★★★☆"``) is the
  filled stars of all of them;
- letter grades (``"B+"``) are read on F, D-, D, D+, C-, C, C+, B-, B, B+, A-, A, A+, from
  the stated ``worstRating`` (else F) to the stated ``bestRating``, which must be a grade:
  "B+" on F..A+ is 75. Without a stated best grade the scale is unknown.

A value outside its scale gets no score (the rating is kept as stated).
"""

from __future__ import annotations

import re
from typing import Any

from archive.reviews import RatingFacts
from pipelines.structured import number

GRADES = ("F", "D-", "D", "D+", "C-", "C", "C+", "B-", "B", "B+", "A-", "A", "A+")
_GRADE = re.compile(r"^\s*([A-DF])\s*([+\-\u2212\u2013]?)\s*$", re.IGNORECASE)
_STARS = re.compile(r"[★☆⯪ ]{2,10}")
_OUT_OF = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)?)\s*(?:/|out of|of|von|sur|de)\s*(\d+(?:[.,]\d+)?)")


def grade(value: Any) -> int | None:
    """``"B+"`` -> its place on :data:`GRADES` (9); None when not a letter grade."""
    if not isinstance(value, str):
        return None
    match = _GRADE.match(value)
    if not match:
        return None
    sign = {"\u2212": "-", "\u2013": "-"}.get(match.group(2), match.group(2))
    letter = match.group(1).upper() + sign
    return GRADES.index(letter) if letter in GRADES else None


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@value")
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(str(value).split())
    return text[:40] or None


def _fmt(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:g}"


def read_rating(rating: Any) -> RatingFacts | None:
    """The :class:`RatingFacts` of a schema.org ``Rating`` (or a bare value); None when it
    states no value."""
    if isinstance(rating, list):
        rating = rating[0] if rating else None
    entity = rating if isinstance(rating, dict) else {"ratingValue": rating}
    raw, best_raw, worst_raw = (entity.get(k) for k in ("ratingValue", "bestRating", "worstRating"))
    text = _text(raw)
    if text is None:
        return None
    if grade(text) is not None:
        return _graded(text, best_raw, worst_raw)
    if _STARS.fullmatch(text):  # "★★★★☆": the filled stars of all of them
        filled = text.count("★") + 0.5 * text.count("⯪")
        best = float(len(text.replace(" ", "")))
        return _scored(text, filled, best, None, stated_best=best)
    out_of = _OUT_OF.match(text)
    value = float(out_of.group(1).replace(",", ".")) if out_of else number(raw)
    if value is None:
        return RatingFacts(text=text)
    best = stated_best = number(best_raw)
    if best is None and out_of:
        best = float(out_of.group(2).replace(",", "."))
    if best is None and text.endswith("%"):
        best = 100.0
    if best is None and 0 <= value <= 5:
        best = 5.0  # schema.org's default bestRating
    return _scored(text, value, best, number(worst_raw), stated_best=stated_best)


def _graded(text: str, best_raw: Any, worst_raw: Any) -> RatingFacts:
    place, top, bottom = grade(text), grade(_text(best_raw)), grade(_text(worst_raw))
    bottom = 0 if bottom is None else bottom
    if place is None or top is None or not bottom <= place <= top or top == bottom:
        return RatingFacts(text=text)
    scale = f"{GRADES[bottom]}-{GRADES[top]}"
    return RatingFacts(
        text=text, scale=scale, score=round(100 * (place - bottom) / (top - bottom), 1)
    )


def _scored(
    text: str, value: float, best: float | None, worst: float | None, *, stated_best: float | None
) -> RatingFacts:
    """``value`` on ``worst`` (0 when not stated) .. ``best``; no score outside it or when
    ``best`` is unknown."""
    low = 0.0 if worst is None else worst
    if best is None or best <= low or not low <= value <= best:
        return RatingFacts(text=text, value=value, best=stated_best, worst=worst)
    return RatingFacts(
        text=text,
        value=value,
        best=best,
        worst=worst,
        scale=f"{_fmt(low)}-{_fmt(best)}",
        score=round(100 * (value - low) / (best - low), 1),
    )
