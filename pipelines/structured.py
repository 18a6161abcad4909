"""schema.org (JSON-LD, microdata) and Open Graph metadata of a page, via extruct.

:func:`read_structured` turns extruct's uniform output into :class:`Structured`: the page's
schema.org types, its main article or review entity, the rating and the item reviewed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import extruct

logger = logging.getLogger(__name__)

ARTICLE_TYPES = frozenset(
    {
        "Article", "NewsArticle", "BlogPosting", "Review", "CriticReview", "UserReview",
        "EmployerReview", "ReviewNewsArticle", "OpinionNewsArticle", "AnalysisNewsArticle",
        "BackgroundNewsArticle", "ReportageNewsArticle", "TechArticle", "ScholarlyArticle",
        "SatiricalArticle", "Report", "LiveBlogPosting", "SocialMediaPosting", "Recommendation",
    }
)  # fmt: skip
REVIEW_TYPES = frozenset({"Review", "CriticReview", "UserReview", "EmployerReview",
                          "ReviewNewsArticle", "Recommendation"})  # fmt: skip
NOT_ARTICLE_TYPES = frozenset(
    {"CollectionPage", "SearchResultsPage", "ProfilePage", "AboutPage", "ContactPage",
     "ItemList", "Blog", "FAQPage", "CheckoutPage", "QAPage"}
)  # fmt: skip
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")


def type_names(entity: dict) -> list[str]:
    """``@type`` as short names: ``http://schema.org/Review`` and ``schema:Review`` -> Review."""
    raw = entity.get("@type") or entity.get("type") or []
    values = raw if isinstance(raw, list) else [raw]
    return [re.split(r"[/#:]", str(v))[-1] for v in values if v]


def walk(value: Any) -> Iterator[dict]:
    """Every dict inside ``value`` (``@graph`` members, nested entities), depth first."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def first_text(value: Any) -> str | None:
    """A plain string from a schema.org value (string, list, or entity with name)."""
    if isinstance(value, list):
        for v in value:
            text = first_text(v)
            if text:
                return text
        return None
    if isinstance(value, dict):
        return first_text(value.get("name") or value.get("@value") or value.get("text"))
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def names(value: Any) -> list[str]:
    """All names in a schema.org person/organization value."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        name = first_text(item)
        if name:
            out.append(name)
    return out


def number(value: Any) -> float | None:
    """``8``, ``"8"``, ``"7,5"``, ``"4.5 stars"`` -> float; None when no number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return number(value.get("@value"))
    if isinstance(value, list):
        return number(value[0]) if value else None
    match = _NUMBER.search(str(value))
    return float(match.group().replace(",", ".")) if match else None


@dataclass(frozen=True)
class Rating:
    value: float
    best: float
    worst: float

    @property
    def normalized(self) -> float | None:
        """The rating on a 0..1 scale, worstRating honoured."""
        span = self.best - self.worst
        return (self.value - self.worst) / span if span > 0 else None


def read_rating(value: Any) -> Rating | None:
    """schema.org Rating, with its defaults (best 5, worst 1) when the page omits them."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        rating = number(value.get("ratingValue"))
        best = number(value.get("bestRating"))
        worst = number(value.get("worstRating"))
    else:  # "4/5" or a bare number
        parts = _NUMBER.findall(str(value or ""))
        rating = float(parts[0].replace(",", ".")) if parts else None
        best = float(parts[1].replace(",", ".")) if len(parts) > 1 else None
        worst = None
    if rating is None:
        return None
    if best is None:
        best = 5.0 if rating <= 5 else (10.0 if rating <= 10 else 100.0)
    if worst is None:
        worst = 0.0 if best > 5 and rating < 1 else min(1.0, best)
    if not worst <= rating <= best:
        return None  # an impossible rating is no rating
    return Rating(rating, best, worst)


@dataclass
class Structured:
    types: set[str] = field(default_factory=set)
    og: dict[str, str] = field(default_factory=dict)
    article: dict | None = None  # the main Article/Review entity
    review: dict | None = None
    item: dict | None = None  # what the review reviews
    rating: Rating | None = None

    @property
    def is_article(self) -> bool:
        return bool(self.types & ARTICLE_TYPES)

    @property
    def is_not_article(self) -> bool:
        return bool(self.types & NOT_ARTICLE_TYPES) and not self.is_article

    def get(self, *keys: str) -> Any:
        """First value of ``keys`` on the review, then on the article entity."""
        for entity in (self.review, self.article):
            if entity:
                for key in keys:
                    if entity.get(key):
                        return entity[key]
        return None


def _og(items: list[dict]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        for key, value in item.items():
            if key == "@type":  # extruct's uniform output moves og:type here
                key = "og:type"
            elif key.startswith("@"):
                continue
            text = first_text(value)
            if text and key not in out:
                out[key] = text
    return out


def read_structured(tree: Any, url: str) -> Structured:
    """Structured metadata of a parsed page (an lxml tree); never raises on bad markup."""
    data = _extracted(tree, url)
    result = Structured(og=_og(data.get("opengraph", [])))
    entities = list(walk(data.get("json-ld", []) + data.get("microdata", [])))
    for entity in entities:
        result.types.update(type_names(entity))
    for entity in entities:
        kinds = set(type_names(entity))
        if result.review is None and kinds & REVIEW_TYPES:
            result.review = entity
        if result.article is None and kinds & ARTICLE_TYPES:
            result.article = entity
    if result.review is None:
        _nested_review(result, entities)
    if result.review is not None:
        _review_details(result, result.review)
    return result


def _extracted(tree: Any, url: str) -> dict[str, Any]:
    try:
        return extruct.extract(
            tree,
            base_url=url,
            syntaxes=["json-ld", "microdata", "opengraph"],
            uniform=True,
            errors="ignore",
        )
    except Exception as e:  # broken JSON-LD or markup must not lose the page
        logger.debug("No structured data from %s: %s", url, e)
        return {}


def _nested_review(result: Structured, entities: list[dict]) -> None:
    """A Product or Movie carrying its review: that review, and the entity as its item."""
    for entity in entities:
        nested = entity.get("review")
        nested = nested[0] if isinstance(nested, list) and nested else nested
        if isinstance(nested, dict) and nested.get("reviewRating"):
            result.review, result.item = nested, entity
            result.types.add("Review")
            return


def _review_details(result: Structured, review: dict) -> None:
    """The item reviewed and the rating of ``review``."""
    item = review.get("itemReviewed")
    if isinstance(item, list):
        item = item[0] if item else None
    if isinstance(item, dict):
        result.item = item
    result.rating = read_rating(review.get("reviewRating"))
    if result.rating is None:  # misnested markup: the rating inside itemReviewed
        for entity in walk(review):
            if entity is not review and entity.get("reviewRating"):
                result.rating = read_rating(entity["reviewRating"])
                return
