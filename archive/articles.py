"""Articles, their versions, sites, authors and tags: one transaction per stored article."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from urllib.parse import urlsplit

from sqlite_utils import Database

from archive import rows


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

    @property
    def text_hash(self) -> str:
        return hashlib.sha1(self.text.encode("utf-8")).hexdigest()


#: The fields stored as columns of ``articles`` (tags have their own table).
_COLUMNS = [f for f in fields(Article) if f.name != "tags"]


@dataclass(frozen=True)
class Saved:
    article_id: int
    new_article: bool
    new_version: bool


class ArticleStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _id(self, table: str, key: str, value: str, extra: dict | None = None) -> int:
        row = self.db.execute(f"select id from [{table}] where [{key}] = ?", [value]).fetchone()
        if row:
            return int(row[0])
        return rows.insert(self.db, table, {key: value, **(extra or {})})

    def save(self, article: Article, capture_id: int | None, seen_at: str) -> Saved:
        """Store ``article`` as seen in capture ``capture_id`` at ``seen_at``.

        The same text again changes no article and adds no version (it only moves
        ``last_seen``); a changed text updates the article and adds a version.
        """
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
                "select id, text_hash, last_seen from articles where url = ?", [article.url]
            ).fetchone()
            if existing is None:
                row["first_seen"] = seen_at
                article_id = rows.insert(self.db, "articles", row)
                new_article = new_version = True
            else:
                article_id = int(existing[0])
                new_article, new_version = False, existing[1] != text_hash
                if not new_version:
                    if existing[2] and existing[2] > seen_at:
                        return Saved(article_id, False, False)  # an older capture: no news
                    row = {"last_seen": seen_at}  # capture_id stays the text's first capture
                rows.update(self.db, "articles", article_id, row)
            if new_version:
                rows.insert(
                    self.db,
                    "article_versions",
                    {
                        "article_id": article_id,
                        "url": article.url,
                        "title": article.title,
                        "text": article.text,
                        "text_hash": text_hash,
                        "first_seen": seen_at,
                        "capture_id": capture_id,
                        "extractor": article.extractor,
                    },
                )
                self.db.execute("delete from article_tags where article_id = ?", [article_id])
                for tag in article.tags:
                    tag_id = self._id("tags", "name", tag)
                    rows.insert(
                        self.db,
                        "article_tags",
                        {"article_id": article_id, "tag_id": tag_id},
                        ignore=True,
                    )
        return Saved(article_id, new_article, new_version)
