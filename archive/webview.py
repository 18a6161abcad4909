"""The web view of ``reviewarc serve``: a read-only Datasette over ``archive.db``.

Reviews are searchable (FTS5), faceted by site, language, rating and author, and every
article URL links into replay (pywb, on its own origin) at ``{replay_base}/web/{ts}/{url}``,
never to the live site. A small in-process Datasette plugin (this module) does the linking;
it acts only on Datasette instances made by :func:`build_datasette`.

The database is opened ``mode=ro`` (not ``immutable=1``): SQLite then reads the WAL and honours
locks, so a crawl can keep writing while the view runs, and new reviews show up on reload.
"""

from __future__ import annotations

import logging
import re
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import markupsafe
from datasette import hookimpl
from datasette.app import Datasette
from datasette.plugins import pm
from datasette.utils import add_cors_headers, tilde_encode
from datasette.utils.asgi import Base400, Response
from datasette.views.base import DatasetteError

from archive.replay import COLLECTION, timestamp14
from archive.search import HIGHLIGHT, SearchQueryError, fts_query, merge_highlights

logger = logging.getLogger(__name__)

PLUGIN_NAME = "reviewarc-webview"
TEMPLATES = Path(__file__).parent / "webview_templates"

#: Columns of ``articles`` shown first in the table and row pages, in this order.
ARTICLE_COLUMNS = (
    "title",
    "author",
    "site_name",
    "published",
    "rating_value",
    "rating_best",
    "language",
    "url",
    "item_reviewed",
    "description",
    "text",
)
#: Characters left as they are when a URL is put after ``/web/{ts}/`` (RFC 3986 reserved
#: characters and ``%``); spaces, quotes, ``<``, ``>`` and non-ASCII are percent-encoded.
_URL_SAFE = "!#$&'()*+,/:;=?@[]~%"
_DENIED_ACTIONS = frozenset(
    {
        "view-database-download",
        "insert-row",
        "upsert-row",
        "update-row",
        "delete-row",
        "create-table",
        "alter-table",
        "drop-table",
    }
)
_HIGHLIGHTED = re.compile(re.escape(HIGHLIGHT[0]) + r"(.+?)" + re.escape(HIGHLIGHT[1]))

# -- URLs --------------------------------------------------------------------------------


def _is_http_url(value: object) -> bool:
    return (
        isinstance(value, str)
        and value[:8].lower().startswith(("http://", "https://"))
        and not any(ch.isspace() for ch in value)
    )


def replay_timestamp(fetched_at: object) -> str | None:
    """``2026-11-24T12:03:28.807886Z`` -> ``20261124120328`` (None if it holds no date)."""
    if not isinstance(fetched_at, str) or sum(ch.isdigit() for ch in fetched_at) < 8:
        return None
    return timestamp14(fetched_at)


def replay_url(replay_base: str, url: str, fetched_at: object = None) -> str | None:
    """Where replay shows ``url`` as captured at ``fetched_at``: ``{base}/web/{ts}/{url}``;
    without a time, the list of its captures (``{base}/web/*/{url}``). None unless http(s)."""
    if not _is_http_url(url):
        return None
    ts = replay_timestamp(fetched_at) or "*"
    return f"{replay_base}/{COLLECTION}/{ts}/{quote(url, safe=_URL_SAFE)}"


def _normalize_base(replay_base: str, port: int | None) -> str:
    parts = urlsplit(replay_base.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"replay_base must be an http(s) URL, not {replay_base!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"replay_base must not have a query or fragment: {replay_base!r}")
    if port is not None and (parts.port or (443 if parts.scheme == "https" else 80)) == port:
        raise ValueError(
            f"replay ({replay_base}) must run on its own origin, not on the web view's port {port}"
        )
    return replay_base.strip().rstrip("/")


# -- search ------------------------------------------------------------------------------


def search_query(query: str | None) -> str:
    """The FTS5 MATCH expression for what a user typed, read as ``reviewarc search`` reads it
    (:func:`archive.search.fts_query`); a query with nothing to search for matches nothing.
    Registered for the canned ``search`` query and, as ``escape_fts``, the table search box."""
    try:
        return fts_query(query or "")
    except SearchQueryError:
        return '""'


# -- metadata ----------------------------------------------------------------------------


def _queries(replay_sql: str) -> dict[str, dict[str, Any]]:
    article = f"""
        a.title, a.author, a.site_name, a.published, a.rating_value, a.rating_best,
        a.language, a.url, {replay_sql} as replay, a.id as article_id"""
    captured = "left join captures c on c.id = a.capture_id"
    return {
        "latest_reviews": {
            "title": "Latest reviews",
            "description": "The newest reviews by publication date, each with its replay.",
            "sql": f"""select {article}
from articles a {captured}
order by a.published is null, a.published desc, a.last_seen desc
limit 200""",
        },
        "best_rated": {
            "title": "Best rated",
            "description": "Rated reviews, highest first: score is rating_value / rating_best "
            "as a percentage (a missing best rating counts as 5, schema.org's default).",
            "sql": f"""select
  round(100.0 * a.rating_value / coalesce(nullif(a.rating_best, 0), 5), 1) as score,
  {article.strip()}
from articles a {captured}
where a.rating_value is not null
order by score desc, a.published desc
limit 200""",
        },
        "changed_reviews": {
            "title": "Changed reviews",
            "description": "Reviews whose text changed between crawls: how many distinct "
            "versions were archived and when the last one was first seen.",
            "sql": f"""select
  a.title, a.site_name, a.url, count(v.id) as versions,
  min(v.first_seen) as first_version, max(v.first_seen) as last_change,
  {replay_sql} as replay, a.id as article_id
from articles a
join article_versions v on v.article_id = a.id
{captured}
group by a.id
having count(v.id) > 1
order by last_change desc""",
        },
        "search": {
            "title": "Search reviews",
            "description": "Full-text search, best match first (title weighted 5x). "
            'Understands words, "phrases", OR, AND, NOT, prefix*, (parentheses), NEAR(a b) '
            "and title:word; a word with punctuation (Nan-young, it's) is searched as written.",
            "sql": f"""select
  a.title,
  merge_highlights(snippet(articles_fts, 1, '{HIGHLIGHT[0]}', '{HIGHLIGHT[1]}', '…', 16))
    as snippet,
  a.site_name, a.published, a.url, {replay_sql} as replay, a.id as article_id
from articles_fts
join articles a on a.id = articles_fts.rowid
{captured}
where articles_fts match search_query(:q)
order by bm25(articles_fts, 5.0, 1.0)
limit 100""",
        },
        "tags": {
            "title": "Tags",
            "description": "Tags and how many reviews carry each.",
            "sql": """select t.name as tag, count(*) as reviews
from tags t join article_tags at on at.tag_id = t.id
group by t.id
order by reviews desc, tag""",
        },
        "reviews_tagged": {
            "title": "Reviews with a tag",
            "description": "The reviews that carry a tag, newest first.",
            "sql": f"""select {article}
from articles a
join article_tags at on at.article_id = a.id
join tags t on t.id = at.tag_id
{captured}
where t.name = :tag
order by a.published is null, a.published desc""",
        },
    }


def _item_queries() -> dict[str, dict[str, Any]]:
    """Canned queries over ``items`` and ``reviews``: one thing reviewed, across sites."""
    review_replay = "replay_url(r.url, coalesce(c.fetched_at, r.last_seen))"
    return {
        "most_reviewed": {
            "title": "Most reviewed",
            "description": "The things reviewed (films, albums, books, products), the most "
            "reviewed first: how many reviews and sites, and the mean, lowest and highest "
            "score on a 0-100 scale. Click a name for all its reviews.",
            "sql": """select
  i.name as item, i.type, i.year, i.creator,
  count(r.id) as reviews, count(distinct coalesce(r.site_id, r.site_name)) as sites,
  group_concat(distinct r.site_name) as site_names,
  round(avg(r.score), 1) as mean_score, min(r.score) as min_score, max(r.score) as max_score,
  i.id as item_id
from items i
join reviews r on r.item_id = i.id
group by i.id
order by reviews desc, sites desc, i.name
limit 200""",
        },
        "item_reviews": {
            "title": "Reviews of one item",
            "description": "Every review of one item (an items id), from every site, the "
            "highest score first: the rating as the page states it, the scale it was read on "
            "and its 0-100 score. The url opens the review as archived, in replay.",
            "sql": f"""select
  r.site_name, r.author, r.published, r.rating_text, r.scale, r.score, r.headline, r.url,
  {review_replay} as replay, i.name as item, r.kind, r.syntax,
  r.id as review_id, r.item_id
from reviews r
join items i on i.id = r.item_id
left join captures c on c.id = r.capture_id
where r.item_id = :item
order by r.score is null, r.score desc, r.published, r.id""",
        },
        "widest_disagreement": {
            "title": "Widest disagreement",
            "description": "Items with at least two scored reviews, those the reviewers "
            "disagree on most first: spread is the highest score minus the lowest (0-100).",
            "sql": """select
  i.name as item, i.type,
  max(r.score) - min(r.score) as spread,
  count(r.score) as scored_reviews, count(distinct coalesce(r.site_id, r.site_name)) as sites,
  min(r.score) as min_score, max(r.score) as max_score, round(avg(r.score), 1) as mean_score,
  i.id as item_id
from items i
join reviews r on r.item_id = i.id
where r.score is not null
group by i.id
having count(r.score) >= 2
order by spread desc, scored_reviews desc, i.name
limit 200""",
        },
        "scores_that_changed": {
            "title": "Scores that changed",
            "description": "Reviews whose rating differs between the captures of their page "
            "(a critic or shopper revised it): the first and the latest rating and score, when "
            "each was archived, and a replay of each.",
            "sql": """with ranked as (
  select rr.*,
    row_number() over (partition by rr.review_id order by rr.fetched_at, rr.capture_id) as nth,
    row_number() over (partition by rr.review_id
                       order by rr.fetched_at desc, rr.capture_id desc) as nth_last,
    count(*) over (partition by rr.review_id) as captures
  from review_ratings rr
),
changed as (
  select review_id from review_ratings
  group by review_id
  having count(distinct coalesce(score, -1)) > 1
      or count(distinct coalesce(rating_text, '')) > 1
)
select
  i.name as item, r.site_name, r.author, r.headline,
  f.rating_text as first_rating, f.score as first_score, f.fetched_at as first_seen,
  l.rating_text as latest_rating, l.score as latest_score, l.fetched_at as latest_seen,
  l.captures, r.url, replay_url(r.url, f.fetched_at) as first_replay,
  replay_url(r.url, l.fetched_at) as replay, r.id as review_id, r.item_id
from changed ch
join reviews r on r.id = ch.review_id
left join items i on i.id = r.item_id
join ranked f on f.review_id = ch.review_id and f.nth = 1
join ranked l on l.review_id = ch.review_id and l.nth_last = 1
order by latest_seen desc, r.id""",
        },
        "aggregates_that_changed": {
            "title": "Aggregate ratings that changed",
            "description": "Items whose average rating, as a page states it (aggregateRating), "
            "differs between captures of that page: the first and the latest average and count, "
            "and when each was archived.",
            "sql": """with ranked as (
  select ir.*,
    row_number() over (partition by ir.mention_id order by ir.fetched_at, ir.capture_id)
      as nth,
    row_number() over (partition by ir.mention_id
                       order by ir.fetched_at desc, ir.capture_id desc) as nth_last,
    count(*) over (partition by ir.mention_id) as captures
  from item_ratings ir
),
changed as (
  select mention_id from item_ratings
  group by mention_id
  having count(distinct coalesce(rating_value, -1)) > 1
      or count(distinct coalesce(rating_best, -1)) > 1
      or count(distinct coalesce(rating_count, -1)) > 1
      or count(distinct coalesce(review_count, -1)) > 1
)
select
  i.name as item, l.url,
  f.rating_value as first_value, f.rating_best as first_best, f.rating_count as first_count,
  f.score as first_score, f.fetched_at as first_seen,
  l.rating_value as latest_value, l.rating_best as latest_best,
  l.rating_count as latest_count, l.score as latest_score, l.fetched_at as latest_seen,
  l.captures, replay_url(l.url, f.fetched_at) as first_replay,
  replay_url(l.url, l.fetched_at) as replay, l.item_id
from changed ch
join ranked f on f.mention_id = ch.mention_id and f.nth = 1
join ranked l on l.mention_id = ch.mention_id and l.nth_last = 1
left join items i on i.id = l.item_id
order by latest_seen desc, l.mention_id""",
        },
    }


def _metadata(database: str, replay_base: str) -> dict[str, Any]:
    replay_sql = "replay_url(a.url, coalesce(c.fetched_at, a.last_seen))"
    description = markupsafe.Markup(
        "Reviews archived by reviewarc: search them, facet them by site, language, rating, "
        'author or tag, and open any review as it was archived in <a href="{}">replay</a>. '
        "Read-only; the WARC files are the source of truth."
    ).format(f"{replay_base}/{COLLECTION}/")
    return {
        "title": "reviewarc",
        "description_html": str(description),
        "plugins": {PLUGIN_NAME: {"replay_base": replay_base, "database": database}},
        "databases": {
            database: {
                "description": "The archive database: captures, failures, crawls, articles, "
                "and the reviews and items (things reviewed) they state.",
                "tables": {
                    "articles": {
                        "description": "One row per review, holding its latest version. "
                        "The search box searches titles and text; url opens the archived copy "
                        "in replay.",
                        "fts_table": "articles_fts",
                        "fts_pk": "id",
                        "facets": ["site_name", "language", "rating_value", "author"],
                        "sort_desc": "published",
                        "label_column": "title",
                        "columns": {
                            "url": "final URL after redirects; links to the archived copy",
                            "published": "datePublished (ISO 8601)",
                            "rating_value": "reviewRating ratingValue",
                            "rating_best": "reviewRating bestRating",
                            "language": "ISO 639-1",
                            "text": "body text of the review (truncated here; full on the row)",
                            "capture_id": "the capture this version was extracted from",
                        },
                    },
                    "article_versions": {
                        "description": "Each distinct body text an article has had.",
                        "sort_desc": "first_seen",
                        "facets": ["article_id"],
                    },
                    "article_tags": {
                        "description": "Which review carries which tag.",
                        "facets": ["tag_id"],
                    },
                    "items": {
                        "description": "One row per thing reviewed (a film, album, book or "
                        "product), joined across sites: pages that name it with a shared "
                        "identifier, or the same name, type and year or creator, count as one "
                        "item; a name alone never joins two pages. Scores are 0-100.",
                        "label_column": "name",
                        "facets": ["type", "sites"],
                        "sort_desc": "reviews",
                        "columns": {
                            "name": "the name most of its pages give; links to its reviews",
                            "type": "schema.org type: Movie, MusicAlbum, Book, Product, ...",
                            "year": "the year most of its pages give",
                            "creator": "director, artist, author or brand, as most pages give it",
                            "identifiers": "IMDb, MusicBrainz, ISBN, GTIN, ... ids its pages give",
                            "same_as": "the sameAs URLs its pages give",
                            "mentions": "how many distinct ways pages state it",
                            "reviews": "how many reviews of it were archived",
                            "sites": "how many sites reviewed it",
                            "mean_score": "the mean of its reviews' scores, 0-100",
                            "min_score": "its lowest review score, 0-100",
                            "max_score": "its highest review score, 0-100",
                            "first_seen": "when a review of it was first archived",
                            "last_seen": "when a review of it was last archived",
                        },
                    },
                    "reviews": {
                        "description": "One row per review a page states (a critic's review, "
                        "or each shopper's review listed on a product page), as its latest "
                        "capture states it, with its rating read onto a 0-100 score. url opens "
                        "the page as archived, in replay.",
                        "label_column": "headline",
                        "facets": ["site_name", "score_band", "kind", "syntax", "item_id"],
                        "sort_desc": "published",
                        "columns": {
                            "url": "the page the review is on; links to the archived copy",
                            "kind": "page: the page's own review; listed: one of a list",
                            "syntax": "the markup it is stated in: json-ld, microdata, rdfa",
                            "item_id": "the thing reviewed",
                            "mention_id": "how this page names the thing reviewed",
                            "article_id": "the article the page was stored as",
                            "capture_id": "the latest capture it was seen in",
                            "site_name": "the site, as it names itself",
                            "published": "datePublished (ISO 8601)",
                            "rating_text": "the rating as written: 4, 4.5, B+, 8/10",
                            "rating_value": "the rating as a number",
                            "rating_best": "the best rating on its scale",
                            "rating_worst": "the worst rating on its scale",
                            "scale": "the scale the rating was read on: 0-5, 1-10, F-A+",
                            "score": "the rating on 0-100; empty when its scale is unknown",
                            "score_band": "the score in bands of 20: 0-19 ... 80-100",
                        },
                    },
                    "item_mentions": {
                        "description": "Each way a page states the thing it reviews (name, "
                        "type, year, creators, identifiers), and how it was joined to its item: "
                        "to check why two pages count as reviews of one thing.",
                        "label_column": "name",
                        "facets": ["match_method", "type"],
                        "columns": {
                            "url": "the page that states it",
                            "match_method": "how it joined its item: identifier, "
                            "name+type+year, name+type+creator, or only mention",
                            "name_key": "the name normalized for matching",
                            "type_key": "the type's family for matching",
                        },
                    },
                    "review_ratings": {
                        "description": "A review's rating in each capture of its page: a "
                        "rating that changed between crawls shows as two rows.",
                        "sort_desc": "fetched_at",
                        "facets": ["review_id"],
                        "columns": {
                            "fetched_at": "when that capture was archived",
                            "score": "the rating on 0-100",
                        },
                    },
                    "item_ratings": {
                        "description": "An item's average rating (aggregateRating) as a page "
                        "states it, in each capture of that page.",
                        "sort_desc": "fetched_at",
                        "facets": ["item_id"],
                        "columns": {
                            "fetched_at": "when that capture was archived",
                            "rating_count": "how many ratings the page says the average is of",
                            "review_count": "how many reviews the page says it has",
                            "score": "the average on 0-100",
                        },
                    },
                    "captures": {
                        "description": "One row per archived HTTP response (WARC record).",
                        "label_column": "fetched_at",
                        "sort_desc": "id",
                        "facets": ["status", "content_type"],
                    },
                    "failures": {"sort_desc": "id", "facets": ["kind"]},
                    "crawls": {"sort_desc": "id"},
                },
                "queries": {**_queries(replay_sql), **_item_queries()},
            }
        },
    }


# -- the plugin --------------------------------------------------------------------------


def _config(datasette: Datasette) -> dict[str, Any] | None:
    config = datasette.plugin_config(PLUGIN_NAME)
    return config if config and config.get("replay_base") else None


def _link(href: str, text: str, css: str) -> markupsafe.Markup:
    # Markup.format escapes both arguments.
    return markupsafe.Markup('<a class="{}" href="{}">{}</a>').format(css, href, text)


def _field(row: Any, name: str) -> Any:
    try:
        value = row[name]
    except (KeyError, IndexError):
        return None
    return value["value"] if isinstance(value, dict) else value  # expanded foreign key


async def _url_cell(
    row: Any, url: str, datasette: Datasette, database: str, base: str
) -> markupsafe.Markup:
    replay = _field(row, "replay")
    if (
        isinstance(replay, str)
        and replay.startswith(f"{base}/")
        and replay.endswith("/" + quote(url, safe=_URL_SAFE))
    ):
        href = replay
    else:
        fetched_at = _field(row, "fetched_at")
        capture = row["capture_id"] if "capture_id" in row.keys() else None
        if isinstance(capture, dict):  # expanded foreign key, labelled by fetched_at
            fetched_at = fetched_at or capture.get("label")
            capture = capture.get("value")
        if replay_timestamp(fetched_at) is None and isinstance(capture, int):
            found = await datasette.get_database(database).execute(
                "select fetched_at from captures where id = ?", [capture]
            )
            fetched_at = found.rows[0][0] if found.rows else None
        if replay_timestamp(fetched_at) is None:
            fetched_at = _field(row, "last_seen") or _field(row, "first_seen")
        href = replay_url(base, url, fetched_at) or ""
    limit = datasette.setting("truncate_cells_html") or 0
    text = url if not limit or len(url) <= limit else url[:limit] + "…"
    return _link(href, text, "replay-url")


def _item_cell(
    row: Any, value: object, column: str, table: str | None, database: str, datasette: Datasette
) -> markupsafe.Markup | None:
    """An item's name, linked to its reviews from every site (the ``item_reviews`` query):
    in the ``items`` table, and in a query's row that has an ``item_id``."""
    if not isinstance(value, str):
        return None
    if table == "items" and column == "name":
        item_id = _field(row, "id")
    elif table is None and column in ("item", "name"):
        item_id = _field(row, "item_id")
    else:
        return None
    if not isinstance(item_id, int):
        return None
    href = datasette.urls.database(database) + "/item_reviews?" + urlencode({"item": item_id})
    return _link(href, value, "item")


@hookimpl(specname="render_cell")
def _render_cell(row, value, column, table, database, datasette):
    config = _config(datasette)
    if config is None or database != config["database"]:
        return None
    base = config["replay_base"]
    item = _item_cell(row, value, column, table, database, datasette)
    if item is not None:
        return item
    if table is None and isinstance(value, str):  # canned and custom queries
        if column == "snippet":
            escaped = markupsafe.escape(value)
            return markupsafe.Markup(_HIGHLIGHTED.sub(r"<mark>\1</mark>", str(escaped)))
        article_id = _field(row, "article_id")
        if column == "title" and isinstance(article_id, int):
            href = datasette.urls.row(database, "articles", tilde_encode(str(article_id)))
            return _link(href, value, "article")
        if column == "tag":
            href = (
                datasette.urls.database(database) + "/reviews_tagged?" + urlencode({"tag": value})
            )
            return _link(href, value, "tag")
    if not _is_http_url(value):
        return None
    if value.startswith(f"{base}/{COLLECTION}/"):
        return _link(value, "replay", "replay")
    # Every other http(s) URL opens in replay, never on the live site.
    return _url_cell(row, value, datasette, database, base)


@hookimpl(specname="prepare_connection", trylast=True)  # after Datasette's own escape_fts
def _prepare_connection(conn, database, datasette):
    config = _config(datasette)
    if config is None:
        return
    if database == config["database"]:
        # Autocommit: Python's sqlite3 would otherwise open a transaction before any DML
        # statement (which fails on this read-only connection) and keep it open, pinning
        # the connection to an old snapshot while a crawl writes.
        conn.isolation_level = None
    base = config["replay_base"]
    conn.create_function("replay_url", 2, lambda url, fetched_at: replay_url(base, url, fetched_at))
    conn.create_function("search_query", 1, search_query, deterministic=True)
    conn.create_function("merge_highlights", 1, merge_highlights, deterministic=True)
    if database == config["database"]:
        # The table page's search box (``?_search=``) matches ``escape_fts(:search)``: here
        # the same reading of a query as the canned search and ``reviewarc search``.
        conn.create_function("escape_fts", 1, search_query, deterministic=True)


def _is_datasettes_own(result: object) -> bool:
    return getattr(result, "__module__", None) == "datasette.handle_exception"


@hookimpl(specname="handle_exception", wrapper=True)
def _handle_exception(datasette, request, exception):
    """Datasette's own error handler prints the whole traceback, with every local variable
    (hundreds of lines), for each error, a refused ``?sql=delete ...`` included. Here its
    answer is made without that: a 4xx is the request's fault and logs nothing, anything
    else logs one line."""
    results = yield
    if _config(datasette) is None:
        return results
    return [
        _quiet_error(datasette, request, exception) if _is_datasettes_own(r) else r for r in results
    ]


def _quiet_error(datasette: Datasette, request: Any, exception: BaseException) -> Any:
    """The response Datasette's own handler gives (``datasette/handle_exception.py``: same
    status, message, JSON or HTML error page), without printing anything."""

    async def inner() -> Response:
        title = None
        info: dict[str, Any] = {}
        if isinstance(exception, Base400):
            status, message = exception.status, exception.args[0]
        elif isinstance(exception, DatasetteError):
            status, info, title = exception.status, exception.error_dict, exception.title
            message = exception.message
            if exception.message_is_html:
                message = markupsafe.Markup(message)
        else:
            status, message = 500, str(exception)
        if status >= 500:
            logger.error(
                "%s %s failed: %s: %s", request.method, request.path, type(exception).__name__,
                message,
            )  # fmt: skip
        info.update({"ok": False, "error": message, "status": status, "title": title})
        headers: dict[str, str] = {}
        if datasette.cors:
            add_cors_headers(headers)
        if request.path.split("?")[0].endswith(".json"):
            return Response.json(info, status=status, headers=headers)
        template = datasette.jinja_env.select_template([f"{status}.html", "error.html"])
        html = await template.render_async(
            dict(
                info,
                urls=datasette.urls,
                app_css_hash=datasette.app_css_hash(),
                menu_links=lambda: [],
            )
        )
        return Response.html(html, status=status, headers=headers)

    return inner


@hookimpl(specname="prepare_jinja2_environment")
def _prepare_jinja2_environment(env, datasette):
    env.filters["reviewarc_article_columns"] = article_columns_first


@hookimpl(specname="permission_allowed")
def _permission_allowed(datasette, actor, action, resource):
    if _config(datasette) is not None and action in _DENIED_ACTIONS:
        return False
    return None


def article_columns_first(columns: Sequence[dict], rows: Sequence[Any]) -> tuple[list, list]:
    """Reorder the table template's columns and rows: the link column, ARTICLE_COLUMNS,
    then the rest as in the schema."""
    names = [c["name"] for c in columns]
    order = [0] if names and (names[0] in ("id", "Link") or columns[0].get("is_pk")) else []
    order += [names.index(n) for n in ARTICLE_COLUMNS if n in names and names.index(n) not in order]
    order += [i for i in range(len(names)) if i not in order]
    new_rows = []
    for row in rows:
        cells = list(row)
        new_rows.append(type(row)([cells[i] for i in order]) if len(cells) == len(order) else row)
    return [columns[i] for i in order], new_rows


def _register_plugin() -> None:
    module = sys.modules[__name__]
    if not pm.is_registered(module):
        pm.register(module, name=PLUGIN_NAME)


# -- public ------------------------------------------------------------------------------


def build_datasette(db_path: Path, replay_base: str, *, port: int | None = None) -> Datasette:
    """A Datasette over ``db_path``, read-only, linking articles to replay at ``replay_base``
    (e.g. ``http://127.0.0.1:8002``, which must be another origin than the web view's
    ``port``)."""
    db_path = Path(db_path)
    if not db_path.is_file():
        raise FileNotFoundError(f"no archive database at {db_path}")
    base = _normalize_base(replay_base, port)
    _register_plugin()
    return Datasette(
        # files= (not immutables=): opened with mode=ro, so SQLite reads the WAL and a crawl
        # can keep writing. immutable=1 would ignore the WAL and cache stale pages.
        files=[str(db_path)],
        metadata=_metadata(db_path.stem, base),
        template_dir=str(TEMPLATES),
        settings={
            "truncate_cells_html": 140,
            "default_page_size": 50,
            "suggest_facets": False,
            "facet_time_limit_ms": 1000,
            "sql_time_limit_ms": 3000,
            "allow_download": False,
        },
    )


def run_datasette(ds: Datasette, sock: socket.socket) -> None:
    """Serve ``ds`` with uvicorn on ``sock`` (bound and listening) until interrupted. The
    caller binds it, so that the address it prints is the one served, port 0 included."""
    import uvicorn

    config = uvicorn.Config(ds.app(), log_level="warning", lifespan="on", workers=1)
    uvicorn.Server(config).run(sockets=[sock])


__all__ = ["build_datasette", "replay_url", "run_datasette", "search_query"]
