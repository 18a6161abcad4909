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
from extruct.rdfa import RDFaExtractor
from lxml import etree

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
    #: The page's top-level schema.org entities, ``@graph`` members among them, each with its
    #: ``@id`` references resolved, and the syntax that stated it (json-ld, microdata, rdfa).
    nodes: list[tuple[str, dict]] = field(default_factory=list)
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

    def website_name(self) -> str | None:
        """The name of a top-level WebSite entity (Yoast's ``@graph`` has one)."""
        for _, node in self.nodes:
            if "WebSite" in type_names(node):
                name = first_text(node.get("name"))
                if name:
                    return name
        return None

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
    result.nodes = [("json-ld", n) for n in resolved(graph_members(data.get("json-ld", [])))]
    result.nodes += [("microdata", n) for n in resolved(data.get("microdata", []))]
    result.nodes += [("rdfa", n) for n in resolved(rdfa_roots(data.get("rdfa", [])))]
    entities = list(walk([node for _, node in result.nodes]))
    for entity in entities:
        result.types.update(type_names(entity))
    # One of several reviews an entity lists (a shop's customer reviews) is not the page's.
    listed = {
        id(member)
        for entity in entities
        if isinstance(reviews := entity.get("review"), list) and len(reviews) > 1
        for member in reviews
    }
    for entity in entities:
        if id(entity) in listed:
            continue
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


#: Is there schema.org RDFa about reviews or ratings to read (schema.org as a vocabulary or
#: prefix, and a Review or Rating type or property)? extruct's RDFa reader (pyRdfa) takes
#: some 100 ms a page, fifty times the rest of extruct's work, and most RDFa on the web is
#: breadcrumbs or other vocabularies' (Drupal's FOAF and SIOC): those pages are not read.
_HAS_RDFA = etree.XPath(
    "boolean(//*[contains(@vocab, 'schema.org') or contains(@prefix, 'schema.org')"
    " or contains(@typeof, 'schema:')])"
    " and boolean(//*[contains(@typeof, 'Review') or contains(@typeof, 'Rating')"
    " or contains(@property, 'review') or contains(@property, 'Rating')])"
)


def _extracted(tree: Any, url: str) -> dict[str, Any]:
    try:
        data = extruct.extract(
            tree,
            base_url=url,
            syntaxes=["json-ld", "microdata", "opengraph"],
            uniform=True,
            errors="ignore",
        )
    except Exception as e:  # broken JSON-LD or markup must not lose the page
        logger.debug("No structured data from %s: %s", url, e)
        return {}
    if _HAS_RDFA(tree):
        data["rdfa"] = _rdfa(tree, url)
    return data


def _rdfa(tree: Any, url: str) -> list[dict]:
    """extruct's RDFa reading, which needs the page parsed by its own DOM-building parser:
    the tree is serialized for it (only pages with RDFa pay for that)."""
    try:
        html = etree.tostring(tree, encoding="utf-8", method="html")
        return RDFaExtractor().extract(html, base_url=url)
    except Exception as e:  # pyRdfa on broken markup
        logger.debug("No RDFa from %s: %s", url, e)
        return []


def _nested_review(result: Structured, entities: list[dict]) -> None:
    """A Product or Movie carrying its review: that review, and the entity as its item. (An
    entity listing several reviews, as a shop lists its customers', has no one review that
    is the page's; they are all in the ``reviews`` table.)"""
    for entity in entities:
        nested = entity.get("review")
        if isinstance(nested, list):
            if len(nested) > 1 and result.item is None:
                result.item = entity  # what the page's reviews review, all of them
            nested = nested[0] if len(nested) == 1 else None
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


# -- one shape for every syntax: @graph members, @id references, RDFa ----------------------

#: At most this many entities are copied in when resolving ``@id`` references on one page,
#: and references are followed this deep (a hostile graph must not grow without bound).
MAX_RESOLVED = 5000
MAX_DEPTH = 6


def graph_members(items: list[Any]) -> list[dict]:
    """JSON-LD's top-level objects, with each ``@graph`` replaced by its members."""
    out: list[dict] = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("@graph"), list):
            out.extend(m for m in item["@graph"] if isinstance(m, dict))
        elif isinstance(item, dict):
            out.append(item)
        elif isinstance(item, list):
            out.extend(graph_members(item))
    return out


def _is_reference(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"@id"} and isinstance(value["@id"], str)


def resolved(nodes: list[dict]) -> list[dict]:
    """``nodes`` with every ``{"@id": X}`` replaced by (a copy of) the node whose ``@id`` is
    X, where the page has one; a node is not copied into itself."""
    index = {
        node["@id"]: node for node in nodes if isinstance(node.get("@id"), str) and len(node) > 1
    }
    if not index:
        return nodes
    budget = [MAX_RESOLVED]

    def resolve(value: Any, path: tuple[str, ...]) -> Any:
        if _is_reference(value):
            target = index.get(value["@id"])
            if target is None or value["@id"] in path or len(path) >= MAX_DEPTH or budget[0] <= 0:
                return value
            budget[0] -= 1
            return resolve(target, path)
        if isinstance(value, dict):
            here = path + ((value["@id"],) if isinstance(value.get("@id"), str) else ())
            return {k: resolve(v, here) if k != "@id" else v for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v, path) for v in value]
        return value

    return [resolve(node, ()) for node in nodes]


_SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/")


def _compact_rdfa(node: dict) -> dict:
    out: dict[str, Any] = {}
    for key, values in node.items():
        if key == "@id":
            out[key] = values
        elif key == "@type":
            out[key] = [t.rsplit("/", 1)[-1] for t in values if isinstance(t, str)]
        elif key.startswith(_SCHEMA_PREFIXES) and isinstance(values, list):
            found = [
                v["@value"] if "@value" in v else {"@id": v["@id"]}
                for v in values
                if isinstance(v, dict) and ("@value" in v or "@id" in v)
            ]
            if found:
                out[key.rsplit("/", 1)[-1]] = found[0] if len(found) == 1 else found
    return out


def rdfa_roots(nodes: list[dict]) -> list[dict]:
    """extruct's RDFa (expanded JSON-LD, schema.org terms as IRIs) in the shape of its
    JSON-LD: short property names, plain values; only the typed entities no other entity
    refers to, each of which carries the rest once its references are resolved."""
    compact = [_compact_rdfa(n) for n in nodes if isinstance(n, dict) and n.get("@type")]
    compact = [n for n in compact if n.get("@type")]
    referred = {
        ref["@id"]
        for node in compact
        for value in node.values()
        for ref in (value if isinstance(value, list) else [value])
        if _is_reference(ref)
    }
    return [n for n in resolved(compact) if n.get("@id") not in referred]
