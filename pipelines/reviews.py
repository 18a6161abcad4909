"""Every review a page's markup states (JSON-LD, microdata, RDFa), and its items' aggregates.

A review is any entity of a Review type: the page's own (a critic's review, ``kind`` page)
or one of the ``review`` list of a Product, Movie, Book, LocalBusiness... (``kind`` listed,
its item the entity listing it unless it names its own ``itemReviewed``). ``@graph``
members and ``@id`` references are resolved first (:func:`pipelines.structured.resolved`),
so a review met twice (as a graph node and in its item's list, or in JSON-LD and
microdata) is one review. An entity with an ``aggregateRating`` gives an aggregate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urljoin

from archive.articles import valid_unicode
from archive.reviews import AggregateFacts, ItemFacts, RatingFacts, ReviewFacts
from pipelines.items import item_facts
from pipelines.normalize import clean_author, iso_date
from pipelines.ratings import read_rating
from pipelines.structured import REVIEW_TYPES, Structured, first_text, names, number, type_names

#: At most this many reviews are read from one page.
MAX_REVIEWS = 2000
_LIST_KEYS = ("review", "reviews")
_BODY_CHARS = 20_000


def _text(value: Any, limit: int = 500) -> str | None:
    text = first_text(value)
    return valid_unicode(" ".join(text.split()))[:limit] if text else None


def _visit(
    node: Any, parent: dict | None, via: str | None, depth: int = 0
) -> Iterator[tuple[dict, dict | None, str | None]]:
    """Every entity under ``node``, with the entity holding it and the key it is under."""
    if depth > 12:
        return
    if isinstance(node, list):
        for member in node:
            yield from _visit(member, parent, via, depth + 1)
    elif isinstance(node, dict):
        yield node, parent, via
        for key, value in node.items():
            if isinstance(value, dict | list):
                yield from _visit(value, node, key, depth + 1)


class _Items:
    """:func:`pipelines.items.item_facts` once per entity of a page (a shop's product is the
    item of each of its twenty reviews)."""

    def __init__(self) -> None:
        self.known: dict[int, tuple[Any, ItemFacts | None]] = {}

    def __call__(self, value: Any) -> ItemFacts | None:
        if not isinstance(value, dict):
            return item_facts(value)
        known = self.known.get(id(value))
        if known is None or known[0] is not value:
            known = self.known[id(value)] = (value, item_facts(value))
        return known[1]


def _review_fields(entity: dict, parent: dict | None, via: str | None, items: _Items) -> dict:
    nested = via in _LIST_KEYS and parent is not None
    # One review nested in its item (a critic's page marked up as Movie -> review) is the
    # page's own; one of several is one of a list (a shop's customers').
    listed = nested and isinstance(parent.get(via), list) and len(parent[via]) > 1
    item_value = entity.get("itemReviewed") or (parent if nested else None)
    authors = [a for a in (clean_author(n) for n in names(entity.get("author"))) if a]
    return {
        "kind": "listed" if listed else "page",
        "item": items(item_value) if item_value is not None else None,
        "author": valid_unicode(", ".join(authors))[:300] if authors else None,
        "published": iso_date(first_text(entity.get("datePublished") or entity.get("dateCreated"))),
        "headline": _text(entity.get("name") or entity.get("headline")),
        "body": _text(entity.get("reviewBody") or entity.get("description"), _BODY_CHARS),
        "rating": read_rating(_rating_of(entity, item_value)) or RatingFacts(),
    }


def _rating_of(review: dict, item: Any) -> Any:
    """The review's ``reviewRating``, or, in misnested markup (the rating's element inside
    the item's), the one its item carries."""
    if review.get("reviewRating") or not isinstance(item, dict) or item.get("review"):
        return review.get("reviewRating")
    return item.get("reviewRating")


def _key(fields: dict, entity: dict, url: str) -> str:
    """Which review of its page this is, the same in every capture: its ``@id`` (not a
    blank node, whose name changes with each reading), else its author, date and item (and,
    without an author, its headline or body)."""
    ident = entity.get("@id")
    if isinstance(ident, str) and ident and not ident.startswith("_:"):
        return urljoin(url, ident)
    item: ItemFacts | None = fields["item"]
    parts = [
        fields["author"] or "",
        (fields["published"] or "")[:10],
        item.name_key if item else "",
    ]
    if not fields["author"]:
        parts.append(fields["headline"] or (fields["body"] or "")[:200])
    return "r:" + hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:20]


def page_reviews(
    structured: Structured, url: str
) -> tuple[list[ReviewFacts], list[AggregateFacts]]:
    """The reviews and aggregates of a page, each once, in the order the page gives them."""
    reviews: dict[str, ReviewFacts] = {}
    aggregates: dict[str, AggregateFacts] = {}
    items = _Items()
    for syntax, node in structured.nodes:
        for entity, parent, via in _visit(node, None, None):
            kinds = set(type_names(entity))
            if kinds & REVIEW_TYPES and len(reviews) < MAX_REVIEWS:
                fields = _review_fields(entity, parent, via, items)
                key = _key(fields, entity, url)
                review = ReviewFacts(key=key, syntax=syntax, **fields)
                _add_review(reviews, review)
            elif (
                isinstance(entity.get("aggregateRating"), dict | list) or "AggregateRating" in kinds
            ):
                aggregate = _aggregate(entity, kinds, items)
                if aggregate is not None:
                    aggregates.setdefault(aggregate.item.mention_key, aggregate)
    return list(reviews.values()), list(aggregates.values())


def _add_review(reviews: dict[str, ReviewFacts], review: ReviewFacts) -> None:
    """Add ``review`` unless it is one already met; a review met again keeps what it was
    first read as, but is listed (and its item known) if either reading says so."""
    key, n = review.key, 1
    while key in reviews:
        known = reviews[key]
        if known.rating.text == review.rating.text:  # the same review read twice
            reviews[key] = replace(
                known,
                kind="listed" if "listed" in (known.kind, review.kind) else known.kind,
                item=known.item or review.item,
                body=known.body or review.body,
            )
            return
        n += 1
        key = f"{review.key}#{n}"  # two reviews alike in author, date and item
    reviews[key] = replace(review, key=key)


def _aggregate(entity: dict, kinds: set[str], items: _Items) -> AggregateFacts | None:
    if "AggregateRating" in kinds:
        rating_entity, item_value = entity, entity.get("itemReviewed")
    else:
        rating_entity, item_value = entity.get("aggregateRating"), entity
        if isinstance(rating_entity, list):
            rating_entity = rating_entity[0] if rating_entity else None
    if not isinstance(rating_entity, dict) or item_value is None:
        return None
    item = items(item_value)
    rating = read_rating(rating_entity)
    if item is None or rating is None:
        return None

    def count(key: str) -> int | None:
        value = number(rating_entity.get(key))
        return int(value) if value is not None and value >= 0 else None

    return AggregateFacts(item, rating, count("ratingCount"), count("reviewCount"))
