"""Articles, their versions, sites, authors and tags: one transaction per stored article."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, fields, replace
from urllib.parse import urlsplit

from sqlite_utils import Database

from archive import rows
from archive.reviews import AggregateFacts, ReviewFacts, ReviewStore


@dataclass
class Article:
    """An extracted article, ready to store. ``text`` is the body only."""

    url: str
    title: str | None
    text: str
    author: str | None = None
    published: str | None = None
    modified: str | None = None
    site_name: str | None = None
    language: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    tags: list[str] = field(default_factory=list)
    rating_value: float | None = None
    rating_best: float | None = None
    rating_worst: float | None = None
    item_reviewed: str | None = None
    item_reviewed_type: str | None = None
    detected_by: str | None = None
    extractor: str | None = None
    #: Every review the page's markup states, and the aggregate ratings of its items
    #: (their own tables: see :mod:`archive.reviews`).
    reviews: list[ReviewFacts] = field(default_factory=list)
    aggregates: list[AggregateFacts] = field(default_factory=list)

    @property
    def text_hash(self) -> str:
        return hashlib.sha1(self.text.encode("utf-8")).hexdigest()


#: The fields stored as columns of ``articles`` (tags and reviews have their own tables).
_COLUMNS = [f for f in fields(Article) if f.name not in ("tags", "reviews", "aggregates")]

_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(value: str) -> str:
    """``value`` with each lone surrogate replaced by U+FFFD.

    ``json.loads`` turns a JSON-LD ``"\\ud800"`` into a lone surrogate, which UTF-8 (and so
    SQLite, and the text hash) cannot encode. A high and low surrogate in a row are one
    character written in two halves and become that character.
    """
    if _SURROGATE.search(value) is None:
        return value
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def valid_article(article: Article) -> Article:
    """``article`` with every text field valid Unicode (see :func:`valid_unicode`)."""
    changes: dict[str, object] = {
        f.name: valid_unicode(value)
        for f in _COLUMNS
        if isinstance(value := getattr(article, f.name), str) and _SURROGATE.search(value)
    }
    if any(isinstance(tag, str) and _SURROGATE.search(tag) for tag in article.tags):
        changes["tags"] = [valid_unicode(t) if isinstance(t, str) else t for t in article.tags]
    return replace(article, **changes) if changes else article


@dataclass(frozen=True)
class Saved:
    article_id: int
    new_article: bool
    #: The body was not stored for this article before: a row was added to article_versions.
    new_version: bool
    #: An article already stored now holds another body (a new one, or an earlier one again).
    changed: bool = False


class ArticleStore:
    """Stores articles so that the tables depend only on which bodies were seen when.

    ``article_versions`` has one row per distinct body (text hash) of an article URL: its
    first sighting (``first_seen``, ``capture_id``, ``title``, ``extractor``) and its last
    (``last_seen``). A page whose body goes A -> B -> A has two versions, A last seen after B.
    The ``articles`` row holds the body of the latest capture. Storing a capture again (a
    second ``reprocess``, or one resumed after a kill) therefore changes nothing.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.reviews = ReviewStore(db)

    def _id(self, table: str, key: str, value: str, extra: dict | None = None) -> int:
        row = self.db.execute(f"select id from [{table}] where [{key}] = ?", [value]).fetchone()
        if row:
            return int(row[0])
        return rows.insert(self.db, table, {key: value, **(extra or {})})

    def save(self, article: Article, capture_id: int | None, seen_at: str) -> Saved:
        """Store ``article`` as seen in capture ``capture_id`` at ``seen_at``.

        The same text again changes no article and adds no version (it only moves
        ``last_seen``); a changed text updates the article and, if the article never had it
        before, adds a version. A capture older than the article's latest only adds to the
        versions (and moves ``first_seen`` back), so captures may be stored in any order.
        """
        article = valid_article(article)
        text_hash = article.text_hash
        with self.db.atomic():
            site_id = self._id(
                "sites", "host", urlsplit(article.url).netloc.lower(), {"name": article.site_name}
            )
            author_id = self._id("authors", "name", article.author) if article.author else None
            row = {f.name: getattr(article, f.name) for f in _COLUMNS}
            row.update(
                text_hash=text_hash, capture_id=capture_id, last_seen=seen_at,
                site_id=site_id, author_id=author_id,
            )  # fmt: skip
            existing = self.db.execute(
                "select id, text_hash, first_seen, last_seen from articles where url = ?",
                [article.url],
            ).fetchone()
            if existing is None:
                row["first_seen"] = seen_at
                article_id = rows.insert(self.db, "articles", row)
                self._set_tags(article_id, article.tags)
                new_article, changed = True, False
            else:
                article_id, new_article = int(existing[0]), False
                changed = self._update(article_id, existing[1:], row, article.tags)
            new_version = self._add_version(article_id, article, text_hash, capture_id, seen_at)
            if article.reviews or article.aggregates:
                self.reviews.save(
                    article.url, article.reviews, article.aggregates, capture_id=capture_id,
                    seen_at=seen_at, article_id=article_id, site_id=site_id,
                    site_name=article.site_name,
                )  # fmt: skip
        return Saved(article_id, new_article, new_version, changed)

    def _update(
        self,
        article_id: int,
        stored: tuple[str, str | None, str | None],
        row: dict,
        tags: list[str],
    ) -> bool:
        """Bring the stored article up to a sighting of it; whether its body changed."""
        stored_hash, first_seen, last_seen = stored
        seen_at = row["last_seen"]
        if first_seen and seen_at < first_seen:
            rows.update(self.db, "articles", article_id, {"first_seen": seen_at})
        if last_seen and seen_at <= last_seen:
            return False  # not the latest sighting: the article keeps what that one showed
        if stored_hash == row["text_hash"]:
            rows.update(self.db, "articles", article_id, {"last_seen": seen_at})
            return False  # capture_id stays the first capture of this unchanged body
        rows.update(self.db, "articles", article_id, row)
        self._set_tags(article_id, tags)
        return True

    def _set_tags(self, article_id: int, tags: list[str]) -> None:
        self.db.execute("delete from article_tags where article_id = ?", [article_id])
        for tag in tags:
            tag_id = self._id("tags", "name", tag)
            rows.insert(
                self.db, "article_tags", {"article_id": article_id, "tag_id": tag_id}, ignore=True
            )

    def _add_version(
        self,
        article_id: int,
        article: Article,
        text_hash: str,
        capture_id: int | None,
        seen_at: str,
    ) -> bool:
        """Record a sighting of the article's body; whether it is a body not stored before."""
        found = self.db.execute(
            "select id, first_seen, last_seen from article_versions"
            " where article_id = ? and text_hash = ?",
            [article_id, text_hash],
        ).fetchone()
        first_sighting = {
            "url": article.url,
            "title": article.title,
            "first_seen": seen_at,
            "capture_id": capture_id,
            "extractor": article.extractor,
        }
        if found is None:
            rows.insert(
                self.db,
                "article_versions",
                {"article_id": article_id, "text": article.text, "text_hash": text_hash,
                 "last_seen": seen_at, **first_sighting},
            )  # fmt: skip
            return True
        version_id, first_seen, last_seen = found
        if first_seen and seen_at < first_seen:  # an earlier capture of it, stored later
            rows.update(self.db, "article_versions", version_id, first_sighting)
        if not last_seen or seen_at > last_seen:
            rows.update(self.db, "article_versions", version_id, {"last_seen": seen_at})
        return False
