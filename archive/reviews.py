"""Reviews and the items they review: every review a page's markup states, and the thing
reviewed as one entity across sites.

A page states an item (a *mention*: name, type, year, creators, identifiers); mentions that
are the same thing join one ``items`` row. Two mentions are the same thing when

1. they share an identifier (IMDb, MusicBrainz, Wikidata, ISBN, GTIN, brand + MPN, ...), or
2. their normalized names and type families are equal and their years are equal, or
3. their normalized names and type families are equal, they share a creator (director,
   artist, author, brand) and their years, where both are given, are at most one apart, or
4. they are on the same page under the same normalized name (the page said it again).

A name alone never joins two pages. An item is a connected group of mentions under these
links, so which page was stored first does not change which items there are; the item's
shown name, year and creator are the ones most of its mentions give. Two mentions that give
different values of one identifier scheme (two IMDb ids) are never joined. Each mention
records how it joined (``match_method``) so that a match can be audited.

Ratings are kept per capture (``review_ratings``, ``item_ratings``): a score that changed
between crawls shows as two rows. The ``reviews`` row holds what the latest capture stated.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlite_utils import Database

from archive import rows

#: ``match_method`` of a mention no other mention of its item links to.
ONLY_MENTION = "only mention"
NAME_ONLY = "only mention (name only: never matched on a name alone)"


@dataclass(frozen=True)
class ItemFacts:
    """The item a page states, and what matching reads of it (already normalized)."""

    name: str
    type: str | None = None
    name_key: str = ""
    type_key: str | None = None
    year: int | None = None
    creators: tuple[str, ...] = ()
    creator_keys: tuple[str, ...] = ()
    #: ``(scheme, value)`` pairs, normalized: ``("imdb", "tt0012345")``.
    identifiers: tuple[tuple[str, str], ...] = ()
    same_as: tuple[str, ...] = ()

    @property
    def mention_key(self) -> str:
        ids = sorted(f"{s}:{v}" for s, v in self.identifiers)
        facts = [self.name_key, self.type_key or "", str(self.year or "")]
        facts += [*sorted(self.creator_keys), *ids]
        return hashlib.sha1("\x1f".join(facts).encode()).hexdigest()[:20]

    @property
    def name_only(self) -> bool:
        return not (self.identifiers or self.year or self.creator_keys)


@dataclass(frozen=True)
class RatingFacts:
    """A rating as stated, and its score on 0-100 (None when its scale is unknown)."""

    text: str | None = None
    value: float | None = None
    best: float | None = None
    worst: float | None = None
    scale: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class ReviewFacts:
    key: str  # which review of its page
    kind: str  # "page" or "listed"
    syntax: str  # json-ld, microdata, rdfa
    item: ItemFacts | None = None
    author: str | None = None
    published: str | None = None
    headline: str | None = None
    body: str | None = None
    rating: RatingFacts = field(default_factory=RatingFacts)


@dataclass(frozen=True)
class AggregateFacts:
    item: ItemFacts
    rating: RatingFacts
    rating_count: int | None = None
    review_count: int | None = None


def score_band(score: float | None) -> str | None:
    if score is None:
        return None
    low = min(int(score // 20) * 20, 80)
    return f"{low}-{low + 19}" if low < 80 else "80-100"


def _json(values: Iterable[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


class ReviewStore:
    """Writes reviews, mentions, items and ratings (inside the caller's transaction)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(
        self,
        url: str,
        reviews: list[ReviewFacts],
        aggregates: list[AggregateFacts],
        *,
        capture_id: int | None,
        seen_at: str,
        article_id: int | None,
        site_id: int | None,
        site_name: str | None,
    ) -> None:
        """What one capture of ``url`` states: its reviews and the items' aggregates."""
        touched: set[int] = set()
        mentions: dict[str, int] = {}

        def mention(item: ItemFacts) -> int:
            key = item.mention_key
            if key not in mentions:
                mentions[key] = self._mention(url, item, seen_at, touched)
            return mentions[key]

        for review in reviews:
            mention_id = mention(review.item) if review.item is not None else None
            touched |= self._review(url, review, mention_id, capture_id, seen_at, article_id,
                                    site_id, site_name)  # fmt: skip
        for aggregate in aggregates:
            mention_id = mention(aggregate.item)
            item_id = self._item_of(mention_id)
            rating = aggregate.rating
            rows.insert(
                self.db,
                "item_ratings",
                {"mention_id": mention_id, "capture_id": capture_id, "item_id": item_id,
                 "url": url, "fetched_at": seen_at, "rating_value": rating.value,
                 "rating_best": rating.best, "rating_worst": rating.worst,
                 "rating_count": aggregate.rating_count, "review_count": aggregate.review_count,
                 "score": rating.score},
                ignore=True,
            )  # fmt: skip
        for item_id in sorted(touched):
            self._summarize(item_id)
        # Items whose reviews and mentions are as they were: only when they were seen moves.
        for item_id in sorted({self._item_of(m) for m in mentions.values()} - touched):
            self.db.execute(
                "update items set first_seen = min(first_seen, ?), last_seen = max(last_seen, ?)"
                " where id = ?",
                [seen_at, seen_at, item_id],
            )

    # -- reviews -----------------------------------------------------------------------

    def _review(
        self,
        url: str,
        review: ReviewFacts,
        mention_id: int | None,
        capture_id: int | None,
        seen_at: str,
        article_id: int | None,
        site_id: int | None,
        site_name: str | None,
    ) -> set[int]:
        """Store one review as this capture states it; the items whose summary it changed
        (a new review, or another score, site or item than stored)."""
        rating = review.rating
        row = {
            "kind": review.kind, "syntax": review.syntax,
            "item_id": self._item_of(mention_id) if mention_id is not None else None,
            "mention_id": mention_id, "article_id": article_id, "capture_id": capture_id,
            "site_id": site_id, "site_name": site_name, "author": review.author,
            "published": review.published, "headline": review.headline, "body": review.body,
            "rating_text": rating.text, "rating_value": rating.value,
            "rating_best": rating.best, "rating_worst": rating.worst, "scale": rating.scale,
            "score": rating.score, "score_band": score_band(rating.score),
        }  # fmt: skip
        found = self.db.execute(
            "select id, first_seen, last_seen, score, site_id, item_id from reviews"
            " where url = ? and review_key = ?",
            [url, review.key],
        ).fetchone()
        changed: set[int] = {row["item_id"]}
        if found is None:
            review_id = rows.insert(
                self.db, "reviews",
                {"url": url, "review_key": review.key, **row,
                 "first_seen": seen_at, "last_seen": seen_at},
            )  # fmt: skip
        else:
            review_id, first_seen, last_seen, *counted = found
            changed = set()
            if seen_at >= last_seen:  # the latest capture says what the review is now
                rows.update(self.db, "reviews", review_id, {**row, "last_seen": seen_at})
                if counted != [row["score"], row["site_id"], row["item_id"]]:
                    changed = {row["item_id"], counted[2]}
            if seen_at < first_seen:
                rows.update(self.db, "reviews", review_id, {"first_seen": seen_at})
        rows.insert(
            self.db,
            "review_ratings",
            {"review_id": review_id, "capture_id": capture_id, "fetched_at": seen_at,
             "rating_text": rating.text, "rating_value": rating.value,
             "rating_best": rating.best, "rating_worst": rating.worst, "score": rating.score},
            ignore=True,
        )  # fmt: skip
        return {i for i in changed if i is not None}

    # -- mentions and items ------------------------------------------------------------

    def _item_of(self, mention_id: int) -> int:
        return int(
            self.db.execute(
                "select item_id from item_mentions where id = ?", [mention_id]
            ).fetchone()[0]
        )

    def _mention(self, url: str, item: ItemFacts, seen_at: str, touched: set[int]) -> int:
        """The mention row of ``item`` on ``url`` (made, and matched to an item, if new)."""
        found = self.db.execute(
            "select id, first_seen, last_seen from item_mentions where url = ? and mention_key = ?",
            [url, item.mention_key],
        ).fetchone()
        if found is not None:
            mention_id, first_seen, last_seen = found
            change = {}
            if seen_at < first_seen:
                change["first_seen"] = seen_at
            if seen_at > last_seen:
                change["last_seen"] = seen_at
            if change:
                rows.update(self.db, "item_mentions", mention_id, change)
            return int(mention_id)
        matched = self._matching_items(url, item)
        if matched:
            item_id = min(matched)
            for other in sorted(matched - {item_id}):
                self._merge(other, into=item_id)
        else:
            item_id = rows.insert(self.db, "items", {"name": item.name, "type": item.type})
        mention_id = rows.insert(
            self.db,
            "item_mentions",
            {"url": url, "mention_key": item.mention_key, "item_id": item_id,
             "name": item.name, "type": item.type, "name_key": item.name_key,
             "type_key": item.type_key, "year": item.year,
             "creators": _json(item.creators), "creator_keys": _json(item.creator_keys),
             "identifiers": _json(f"{s}:{v}" for s, v in item.identifiers),
             "same_as": _json(item.same_as), "first_seen": seen_at, "last_seen": seen_at},
        )  # fmt: skip
        for scheme, value in item.identifiers:
            rows.insert(
                self.db, "item_identifiers",
                {"scheme": scheme, "value": value, "item_id": item_id}, ignore=True,
            )  # fmt: skip
        touched.add(item_id)
        return mention_id

    def _matching_items(self, url: str, item: ItemFacts) -> set[int]:
        """Items one of whose mentions links to ``item`` (rules 1-4 of the module), less
        those that state another value of one of its identifier schemes."""
        found: set[int] = set()
        for scheme, value in item.identifiers:
            row = self.db.execute(
                "select item_id from item_identifiers where scheme = ? and value = ?",
                [scheme, value],
            ).fetchone()
            if row:
                found.add(int(row[0]))
        if item.name_key:
            candidates = self.db.execute(
                "select item_id, url, type_key, year, creator_keys from item_mentions"
                " where name_key = ?",
                [item.name_key],
            ).fetchall()
            for item_id, other_url, type_key, year, creator_keys in candidates:
                if link(item, other_url == url, type_key, year, json.loads(creator_keys)):
                    found.add(int(item_id))
        schemes = dict(item.identifiers)
        return {i for i in found if not self._conflicts(i, schemes)}

    def _conflicts(self, item_id: int, schemes: dict[str, str]) -> bool:
        return any(
            scheme in schemes and schemes[scheme] != value
            for scheme, value in self.db.execute(
                "select scheme, value from item_identifiers where item_id = ?", [item_id]
            )
        )

    def _merge(self, other: int, *, into: int) -> None:
        """Item ``other`` is the same thing as ``into``: its mentions, reviews, ratings and
        identifiers move there."""
        for table in ("item_mentions", "reviews", "item_ratings", "item_identifiers"):
            self.db.execute(f"update [{table}] set item_id = ? where item_id = ?", [into, other])
        self.db.execute("delete from items where id = ?", [other])

    def _summarize(self, item_id: int) -> None:
        """The item's shown facts and counts, from all its mentions and reviews; and how
        each of its mentions joined it."""
        mentions = self.db.execute(
            "select id, url, name, type, name_key, type_key, year, creators, creator_keys,"
            " identifiers, same_as, first_seen, last_seen from item_mentions"
            " where item_id = ? order by first_seen, url, id",
            [item_id],
        ).fetchall()
        if not mentions:
            return
        names = Counter(m[2] for m in mentions)
        name = max(mentions, key=lambda m: (names[m[2]], len(json.loads(m[9])), -len(m[2])))[2]
        types = Counter(m[3] for m in mentions if m[3])
        years = Counter(m[6] for m in mentions if m[6])
        creators = Counter(c for m in mentions for c in json.loads(m[7]))
        identifiers: dict[str, str] = {}
        same_as: dict[str, None] = {}
        for m in mentions:
            for pair in json.loads(m[9]):
                scheme, value = pair.split(":", 1)
                identifiers.setdefault(scheme, value)
            same_as.update(dict.fromkeys(json.loads(m[10])))
        counts = self.db.execute(
            "select count(*), count(distinct site_id), avg(score), min(score), max(score)"
            " from reviews where item_id = ?",
            [item_id],
        ).fetchone()
        rows.update(
            self.db,
            "items",
            item_id,
            {"name": name, "type": _most(types), "year": _most(years),
             "creator": _most(creators), "identifiers": json.dumps(identifiers, sort_keys=True),
             "same_as": _json(same_as), "mentions": len(mentions), "reviews": counts[0],
             "sites": counts[1], "mean_score": _round(counts[2]), "min_score": counts[3],
             "max_score": counts[4], "first_seen": min(m[11] for m in mentions),
             "last_seen": max(m[12] for m in mentions)},
        )  # fmt: skip
        compared = [_Mention.of(m) for m in mentions]
        for m in mentions:
            method = _method(_Mention.of(m), [o for o in compared if o.id != m[0]])
            self.db.execute(
                "update item_mentions set match_method = ? where id = ?", [method, m[0]]
            )


def link(
    item: ItemFacts,
    same_page: bool,
    type_key: str | None,
    year: int | None,
    creator_keys: list[str],
) -> bool:
    """Rules 2-4: does ``item`` link to a mention of the same normalized name with these
    facts?"""
    if same_page and (type_key == item.type_key or not type_key or not item.type_key):
        return True
    if not item.type_key or type_key != item.type_key:
        return False
    if item.year and year and item.year == year:
        return True
    close = not (item.year and year and abs(item.year - year) > 1)
    return close and bool(set(item.creator_keys) & set(creator_keys))


@dataclass(frozen=True)
class _Mention:
    """What :func:`_method` compares of a mention row (its JSON read once)."""

    id: int
    url: str
    name_key: str
    type_key: str | None
    year: int | None
    creator_keys: frozenset[str]
    identifiers: frozenset[str]

    @classmethod
    def of(cls, row: tuple) -> _Mention:
        return cls(row[0], row[1], row[4], row[5], row[6], frozenset(json.loads(row[8])),
                   frozenset(json.loads(row[9])))  # fmt: skip


def _method(mention: _Mention, others: list[_Mention]) -> str:
    """How ``mention`` joins the item of ``others``: its strongest link to one of them."""
    shared = sorted(i for other in others for i in mention.identifiers & other.identifiers)
    if shared:
        return f"identifier ({shared[0].split(':', 1)[0]})"
    kind = mention.type_key
    alike = [o for o in others if o.name_key == mention.name_key and kind and o.type_key == kind]
    if any(mention.year and o.year == mention.year for o in alike):
        return "name+type+year"
    for o in alike:
        far = mention.year and o.year and abs(mention.year - o.year) > 1
        if not far and mention.creator_keys & o.creator_keys:
            return "name+type+creator"
    if any(o.url == mention.url and o.name_key == mention.name_key for o in others):
        return "same page"
    if others:  # joined through another mention of the item
        return "through another mention"
    facts = mention.identifiers or mention.year or mention.creator_keys
    return ONLY_MENTION if facts else NAME_ONLY


def _most(counter: Counter) -> object:
    return counter.most_common(1)[0][0] if counter else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
