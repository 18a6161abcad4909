"""Reading items and their reviews: ``reviewarc items`` and ``reviewarc show ITEM``.

An item is named by its id (``17``), one of its identifiers (``tt9912345``, ``Q42``, an
ISBN, a GTIN, a MusicBrainz id, or a URL such as ``https://www.imdb.com/title/tt9912345/``),
the URL of a page reviewing it, or its name (``"the quiet orchard"``: matched as matching
compares names, so spelling, case and a leading article do not count).
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlite_utils import Database

from archive.names import name_key
from archive.search import url_forms

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_ITEM_COLUMNS = (
    "i.id, i.name, i.type, i.year, i.creator, i.reviews, i.sites, i.mean_score, i.min_score,"
    " i.max_score, i.identifiers, i.first_seen, i.last_seen"
)


class ItemNotFound(LookupError):
    """No item, or more than one, answers to what the user gave (the message says which)."""


def _identifier_forms(text: str) -> list[tuple[str, str]]:
    """``(scheme, value)`` pairs ``text`` may be, as :mod:`pipelines.items` stores them."""
    text = text.strip()
    forms: list[tuple[str, str]] = []
    if re.fullmatch(r"tt\d{7,10}", text):
        forms.append(("imdb", text))
    if re.fullmatch(r"Q\d+", text, re.I):
        forms.append(("wikidata", text.upper()))
    digits = re.sub(r"[\s-]", "", text)
    if re.fullmatch(r"\d{8}|\d{12,14}", digits):
        forms.append(("gtin", digits.zfill(14)))
    if re.fullmatch(r"97[89]\d{10}", digits):
        forms.append(("isbn", digits))
    if _UUID.match(text):
        forms += [(
            "musicbrainz", f"{kind}/{text.lower()}") for kind in
            ("release-group", "release", "recording", "artist", "work")]  # fmt: skip
    return forms


def _by_identifier(db: Database, text: str) -> set[int]:
    found: set[int] = set()
    for scheme, value in _identifier_forms(text):
        found.update(
            r[0]
            for r in db.execute(
                "select item_id from item_identifiers where scheme = ? and value = ?",
                [scheme, value],
            )
        )
    if "://" in text:  # a sameAs URL: any item one of whose mentions gives it
        found.update(
            r[0]
            for r in db.execute(
                "select distinct m.item_id from item_mentions m, json_each(m.same_as) j"
                " where rtrim(j.value, '/') = rtrim(?, '/')",
                [text.strip()],
            )
        )
    return found


def _by_page(db: Database, url: str) -> set[int]:
    found: set[int] = set()
    for form in url_forms(url):
        found.update(
            r[0]
            for r in db.execute(
                "select distinct item_id from reviews where url = ? and item_id is not null"
                " union select distinct item_id from item_mentions where url = ?",
                [form, form],
            )
        )
    return found


def items_on_page(db: Database, url: str) -> list[int]:
    """The items the reviews on ``url`` review (stored as it is, after its url_forms)."""
    return sorted(_by_page(db, url))


def _by_name(db: Database, text: str, *, exact: bool) -> set[int]:
    key = name_key(text)
    if not key:
        return set()
    if exact:
        sql, arg = "select distinct item_id from item_mentions where name_key = ?", key
    else:
        sql = "select distinct item_id from item_mentions where name_key like ? escape '\\'"
        arg = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return {r[0] for r in db.execute(sql, [arg])}


def list_items(
    db: Database, query: str | None = None, *, item_type: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Items, most reviewed first; with ``query``, those it names (an identifier, a page
    URL, or words of the name)."""
    where, args = [], []
    if query:
        ids = _by_identifier(db, query) | _by_page(db, query) | _by_name(db, query, exact=False)
        if not ids:
            return []
        where.append(f"i.id in ({', '.join('?' * len(ids))})")
        args += sorted(ids)
    if item_type:
        where.append("lower(i.type) = lower(?)")
        args.append(item_type)
    sql = f"select {_ITEM_COLUMNS} from items i"
    if where:
        sql += " where " + " and ".join(where)
    sql += " order by i.reviews desc, i.sites desc, i.name limit ?"
    return _decoded(db.query(sql, [*args, limit]))


def _decoded(rows: Any) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        row = dict(row)
        for key in ("identifiers", "same_as"):
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
        out.append(row)
    return out


def find_item(db: Database, ref: str) -> int:
    """The id of the one item ``ref`` names; :class:`ItemNotFound` saying why not."""
    text = ref.strip()
    if text.isdigit() and db.execute("select 1 from items where id = ?", [int(text)]).fetchone():
        return int(text)
    for finder in (_by_identifier, _by_page):
        ids = finder(db, text)
        if ids:
            return _one(db, ids, ref)
    ids = _by_name(db, text, exact=True)
    if ids:
        return _one(db, ids, ref)
    raise ItemNotFound(f"no item is named or identified by {ref!r} (reviewarc items lists them)")


def _one(db: Database, ids: set[int], ref: str) -> int:
    if len(ids) == 1:
        return next(iter(ids))
    found = db.execute(
        f"select id, name, type, year from items where id in ({', '.join('?' * len(ids))})"
        " order by reviews desc, id",
        sorted(ids),
    ).fetchall()
    listed = "; ".join(
        f"{i} {n} ({t or 'no type'}{', ' + str(y) if y else ''})" for i, n, t, y in found
    )
    raise ItemNotFound(f"{ref!r} names {len(found)} items: {listed}; give one of their ids")


def item_reviews(db: Database, item_id: int) -> dict[str, Any]:
    """One item: its facts, its mentions (and how each joined it), every review of it across
    sites with each review's scores per capture, and its aggregates per capture."""
    item = _decoded(db.query(f"select {_ITEM_COLUMNS}, i.same_as from items i where i.id = ?",
                             [item_id]))[0]  # fmt: skip
    item["mentions"] = list(db.query(
        "select url, name, type, year, match_method, first_seen, last_seen from item_mentions"
        " where item_id = ? order by first_seen, url", [item_id]))  # fmt: skip
    reviews = list(db.query(
        "select r.id, r.url, r.site_name, r.author, r.published, r.headline, r.kind, r.syntax,"
        " r.rating_text, r.rating_value, r.rating_best, r.rating_worst, r.scale, r.score,"
        " r.first_seen, r.last_seen, c.fetched_at, m.match_method"
        " from reviews r left join captures c on c.id = r.capture_id"
        " left join item_mentions m on m.id = r.mention_id"
        " where r.item_id = ? order by r.score is null, r.score desc, r.site_name, r.url, r.id",
        [item_id]))  # fmt: skip
    for review in reviews:
        review["history"] = list(db.query(
            "select fetched_at, rating_text, score from review_ratings where review_id = ?"
            " order by fetched_at", [review["id"]]))  # fmt: skip
    item["reviews_list"] = reviews
    item["aggregates"] = list(db.query(
        "select url, fetched_at, rating_value, rating_best, rating_count, review_count, score"
        " from item_ratings where item_id = ? order by url, fetched_at", [item_id]))  # fmt: skip
    return item
