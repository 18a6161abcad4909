"""Schema of ``archive.db``, built by numbered migrations (``PRAGMA user_version``).

Append new migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlite_utils import Database

logger = logging.getLogger(__name__)

Migration = Callable[[Database], None]


def m001_captures_failures_crawls(db: Database) -> None:
    db["crawls"].create(
        {
            "id": int,
            "source": str,
            "seeds": str,  # JSON array
            "started_at": str,
            "finished_at": str,
            "outcome": str,  # Scrapy's finish reason: finished, shutdown, warc_write_failed, ...
            "pages": int,
            "captures": int,
            "failures": int,
        },
        pk="id",
    )
    db["captures"].create(
        {
            "id": int,
            "url": str,
            "fetched_at": str,
            "status": int,
            "content_type": str,
            "record_type": str,
            "payload_digest": str,
            "payload_length": int,
            "warc_file": str,
            "warc_offset": int,
            "warc_length": int,
            "warc_record_id": str,
            "request_offset": int,
            "request_length": int,
            "ip_address": str,
            "crawl_id": int,
        },
        pk="id",
        foreign_keys=[("crawl_id", "crawls", "id")],
    )
    db["captures"].create_index(["url", "fetched_at"])
    db["captures"].create_index(["warc_file", "warc_offset"], unique=True)
    db["captures"].create_index(["payload_digest"])
    db["failures"].create(
        {
            "id": int,
            "url": str,
            "failed_at": str,
            "kind": str,  # http, timeout, dns, connection, too_large, robots, error
            "status": int,
            "reason": str,
            "capture_id": int,
            "crawl_id": int,
        },
        pk="id",
        foreign_keys=[("crawl_id", "crawls", "id"), ("capture_id", "captures", "id")],
    )
    db["failures"].create_index(["url"])


def m002_articles(db: Database) -> None:
    db["sites"].create({"id": int, "host": str, "name": str}, pk="id")
    db["sites"].create_index(["host"], unique=True)
    db["authors"].create({"id": int, "name": str}, pk="id")
    db["authors"].create_index(["name"], unique=True)
    db["tags"].create({"id": int, "name": str}, pk="id")
    db["tags"].create_index(["name"], unique=True)
    db["articles"].create(
        {
            "id": int,
            "url": str,  # final URL after redirects
            "canonical_url": str,
            "title": str,
            "author": str,
            "published": str,
            "modified": str,
            "site_name": str,
            "language": str,
            "text": str,
            "description": str,
            "rating_value": float,
            "rating_best": float,
            "rating_worst": float,
            "item_reviewed": str,
            "item_reviewed_type": str,
            "detected_by": str,  # schema.org, og:type, article_pattern, dateline, fallback
            "text_hash": str,
            "capture_id": int,
            "extractor": str,
            "first_seen": str,
            "last_seen": str,
            "site_id": int,
            "author_id": int,
        },
        pk="id",
        foreign_keys=[
            ("capture_id", "captures", "id"),
            ("site_id", "sites", "id"),
            ("author_id", "authors", "id"),
        ],
    )
    db["articles"].create_index(["url"], unique=True)
    db["articles"].create_index(["published"])
    db["article_versions"].create(
        {
            "id": int,
            "article_id": int,
            "url": str,
            "title": str,
            "text": str,
            "text_hash": str,
            "first_seen": str,
            "capture_id": int,
            "extractor": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id"), ("capture_id", "captures", "id")],
    )
    db["article_versions"].create_index(["url", "first_seen"])
    db["article_tags"].create(
        {"article_id": int, "tag_id": int},
        pk=("article_id", "tag_id"),
        foreign_keys=[("article_id", "articles", "id"), ("tag_id", "tags", "id")],
    )
    # Full-text index over title and text, kept in step by triggers (so also for rows
    # changed through a plain sqlite3 connection).
    db["articles"].enable_fts(
        ["title", "text"],
        fts_version="FTS5",
        create_triggers=True,
        tokenize="unicode61 remove_diacritics 2",
    )


def m003_revisits(db: Database) -> None:
    """Validators for conditional requests, and what a revisit record refers to."""
    db["captures"].add_column("etag", str)
    db["captures"].add_column("last_modified", str)
    db["captures"].add_column("refers_to_id", int)  # the response a revisit stands for
    db["captures"].create_index(["url", "status", "record_type"])
    db["captures"].create_index(["warc_record_id"])


def m004_crawl_key(db: Database) -> None:
    """Which crawl a run continues: the source, or the seeds (see crawler.frontier)."""
    db["crawls"].add_column("crawl_key", str)
    db["crawls"].create_index(["crawl_key"])


def m005_one_version_per_body(db: Database) -> None:
    """``article_versions`` holds one row per distinct body of an article, as the README
    says; earlier releases added a row again for a body seen before (a page that went back to
    an earlier text, or every ``reprocess`` of an article with two versions). Keep the row of
    each body's first sighting, record when each body was last seen, and let the database
    refuse a second row."""
    db["article_versions"].add_column("last_seen", str)
    # Where a body was seen more than once, its last sighting is the latest duplicate's;
    # the article's current body was last seen when the article was.
    db.execute(
        """update article_versions set last_seen = max(
             (select max(d.first_seen) from article_versions d
              where d.article_id = article_versions.article_id
              and d.text_hash = article_versions.text_hash),
             coalesce((select a.last_seen from articles a where a.id = article_versions.article_id
                       and a.text_hash = article_versions.text_hash), ''))"""
    )
    db.execute(
        """delete from article_versions where id not in (
             select id from (select id, row_number() over (
               partition by article_id, text_hash order by first_seen, id) as n
             from article_versions) where n = 1)"""
    )
    db["article_versions"].create_index(["article_id", "text_hash"], unique=True)


def m006_reviews_items(db: Database) -> None:
    """Every review on a page and the thing each reviews, across sites (see
    :mod:`archive.reviews` and docs/reviews.md)."""
    db["items"].create(
        {
            "id": int,
            "name": str,
            "type": str,
            "year": int,
            "creator": str,  # director, artist, author or brand, as most mentions give it
            "identifiers": str,  # JSON object: scheme -> value (imdb, musicbrainz, isbn, ...)
            "same_as": str,  # JSON array of the sameAs URLs its mentions give
            "mentions": int,
            "reviews": int,
            "sites": int,
            "mean_score": float,
            "min_score": float,
            "max_score": float,
            "first_seen": str,
            "last_seen": str,
        },
        pk="id",
    )
    db["items"].create_index(["type"])
    db["item_mentions"].create(
        {
            "id": int,
            "url": str,  # the page that describes the item
            "mention_key": str,  # the facts below, hashed: one row per way a page states it
            "item_id": int,
            "name": str,
            "type": str,
            "name_key": str,  # the name normalized for matching
            "type_key": str,  # the type's family for matching (MusicRelease -> MusicAlbum)
            "year": int,
            "creators": str,  # JSON array of names
            "creator_keys": str,  # JSON array, normalized
            "identifiers": str,  # JSON array of "scheme:value"
            "same_as": str,  # JSON array of URLs
            "match_method": str,  # how it joined its item: identifier (imdb), name+type+year, ...
            "first_seen": str,
            "last_seen": str,
        },
        pk="id",
        foreign_keys=[("item_id", "items", "id")],
    )
    db["item_mentions"].create_index(["url", "mention_key"], unique=True)
    db["item_mentions"].create_index(["name_key", "type_key"])
    db["item_mentions"].create_index(["item_id"])
    db["item_identifiers"].create(
        {"scheme": str, "value": str, "item_id": int},
        pk=("scheme", "value"),
        foreign_keys=[("item_id", "items", "id")],
    )
    db["item_identifiers"].create_index(["item_id"])
    db["reviews"].create(
        {
            "id": int,
            "url": str,  # the page the review is on
            "review_key": str,  # which review of that page (its @id, or author and date)
            "kind": str,  # page: the page's own review; listed: one of a list on the page
            "syntax": str,  # json-ld, microdata, rdfa
            "item_id": int,
            "mention_id": int,
            "article_id": int,
            "capture_id": int,  # the latest capture it was seen in
            "site_id": int,
            "site_name": str,
            "author": str,
            "published": str,
            "headline": str,
            "body": str,
            "rating_text": str,  # ratingValue as the page states it: 4, "4.5", "B+", "8/10"
            "rating_value": float,
            "rating_best": float,
            "rating_worst": float,
            "scale": str,  # the scale the score was read on: 0-5, 1-10, F-A+; NULL unknown
            "score": float,  # 0-100 on that scale; NULL when the scale is unknown
            "score_band": str,  # 0-19, 20-39, 40-59, 60-79, 80-100
            "first_seen": str,
            "last_seen": str,
        },
        pk="id",
        foreign_keys=[
            ("item_id", "items", "id"),
            ("mention_id", "item_mentions", "id"),
            ("article_id", "articles", "id"),
            ("capture_id", "captures", "id"),
            ("site_id", "sites", "id"),
        ],
    )
    db["reviews"].create_index(["url", "review_key"], unique=True)
    db["reviews"].create_index(["item_id"])
    db["reviews"].create_index(["article_id"])
    db["review_ratings"].create(
        {
            "review_id": int,
            "capture_id": int,
            "fetched_at": str,
            "rating_text": str,
            "rating_value": float,
            "rating_best": float,
            "rating_worst": float,
            "score": float,
        },
        pk=("review_id", "capture_id"),
        foreign_keys=[("review_id", "reviews", "id"), ("capture_id", "captures", "id")],
    )
    db["item_ratings"].create(
        {
            "mention_id": int,
            "capture_id": int,
            "item_id": int,
            "url": str,
            "fetched_at": str,
            "rating_value": float,
            "rating_best": float,
            "rating_worst": float,
            "rating_count": int,
            "review_count": int,
            "score": float,
        },
        pk=("mention_id", "capture_id"),
        foreign_keys=[
            ("mention_id", "item_mentions", "id"),
            ("capture_id", "captures", "id"),
            ("item_id", "items", "id"),
        ],
    )
    db["item_ratings"].create_index(["item_id"])


def m007_runs(db: Database) -> None:
    """What an indexer reads back from a crawl's own records (:mod:`archive.run_records`): the
    run a ``crawls`` row stands for, its workers' end records and the files it has read, and
    the metadata record each recorded failure came from (so it is added once)."""
    db["crawls"].add_column("run", str)  # reviewarc-run of its files' warcinfo
    db["crawls"].add_column("run_ends", str)  # JSON object: end record id -> what it says
    db["crawls"].add_column("warc_files", str)  # JSON array: its files indexed so far
    db["crawls"].create_index(["run"], unique=True)
    db["failures"].add_column("warc_record_id", str)
    db["failures"].create_index(["warc_record_id"], unique=True)


MIGRATIONS: list[Migration] = [
    m001_captures_failures_crawls,
    m002_articles,
    m003_revisits,
    m004_crawl_key,
    m005_one_version_per_body,
    m006_reviews_items,
    m007_runs,
]


def schema_version(db: Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: Database) -> int:
    """Bring ``db`` to the latest schema. Returns the number of migrations applied."""
    current = schema_version(db)
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"archive.db has schema version {current}, newer than this reviewarc "
            f"({len(MIGRATIONS)}); upgrade reviewarc"
        )
    applied = 0
    for number, migration in enumerate(MIGRATIONS[current:], start=current + 1):
        with db.atomic():
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")
        logger.info("Applied migration %d: %s", number, migration.__name__)
        applied += 1
    return applied
