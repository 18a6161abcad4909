"""Full-text search over articles (SQLite FTS5), and one article with its history."""

from __future__ import annotations

import difflib
import itertools
import re
import sqlite3
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database
from w3lib.url import safe_url_string

from archive.errors import ArchiveError

HIGHLIGHT = ("**", "**")
#: Hangul, kana and CJK ideographs. Korean attaches particles to words and Japanese and
#: Chinese do not separate words, so such a query term also matches as a word prefix.
_CJK = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af]")
_BARE_TERM = re.compile(r'(?<![\w"*])([^\s"()*:^+-][^\s"()*:^]*)(?![\w"*])')


class SearchQueryError(ArchiveError):
    """The query is not valid FTS5 syntax."""


@dataclass(frozen=True)
class Hit:
    url: str
    title: str | None
    site_name: str | None
    published: str | None
    author: str | None
    language: str | None
    rating_value: float | None
    rating_best: float | None
    snippet: str
    rank: float


def fts_query(query: str) -> str:
    """The user's FTS5 query, with bare CJK terms made prefix terms (``영화`` -> ``영화*``)."""

    def widen(match: re.Match[str]) -> str:
        term = match.group(1)
        if term.upper() in ("AND", "OR", "NOT", "NEAR") or not _CJK.search(term):
            return term
        return term + "*"

    parts = re.split(r'("[^"]*")', query)  # leave "phrases" alone
    return "".join(p if p.startswith('"') else _BARE_TERM.sub(widen, p) for p in parts)


def search(db: Database, query: str, limit: int = 20) -> list[Hit]:
    """Articles matching ``query``, best match first (bm25, title weighted 5x)."""
    if not query.strip():
        raise SearchQueryError("empty query")
    sql = """
        select a.url, a.title, a.site_name, a.published, a.author, a.language,
               a.rating_value, a.rating_best,
               snippet(articles_fts, 1, ?, ?, '…', 16) as snippet,
               bm25(articles_fts, 5.0, 1.0) as rank
        from articles_fts join articles a on a.rowid = articles_fts.rowid
        where articles_fts match ?
        order by rank limit ?
    """
    try:
        rows = db.execute(sql, [*HIGHLIGHT, fts_query(query), limit]).fetchall()
    except sqlite3.OperationalError as e:
        raise SearchQueryError(f"invalid search query {query!r}: {e}") from e
    if not rows and _CJK.search(query):
        rows = _substring_search(db, query, limit)
    return [Hit(*row) for row in rows]


def _substring_search(db: Database, query: str, limit: int) -> list[tuple]:
    """For CJK text without word boundaries: plain substring match of every term."""
    terms = [t.strip('"*') for t in query.split() if t.strip('"*')]
    where = " and ".join("(a.title like ? or a.text like ?)" for _ in terms)
    params: list[Any] = [p for t in terms for p in (f"%{t}%", f"%{t}%")]
    rows = db.execute(
        f"select a.url, a.title, a.site_name, a.published, a.author, a.language, "
        f"a.rating_value, a.rating_best, a.text, 0.0 from articles a where {where} "
        f"order by a.published desc limit ?",
        [*params, limit],
    ).fetchall()
    return [(*row[:8], _cut(row[8], terms[0]), row[9]) for row in rows]


def _cut(text: str, term: str, width: int = 60) -> str:
    at = text.find(term)
    start = max(0, at - width)
    piece = text[start : at + len(term) + width].replace(term, HIGHLIGHT[0] + term + HIGHLIGHT[1])
    return ("…" if start else "") + piece + ("…" if at + len(term) + width < len(text) else "")


def url_forms(url: str) -> list[str]:
    """``url`` as given, as stored (percent-encoded, as a browser's address bar hides it), and
    each with or without a trailing slash: the forms a user may paste for one page."""
    forms = dict.fromkeys([url.strip(), safe_url_string(url.strip())])
    for form in list(forms):
        path = urlsplit(form).path
        if not urlsplit(form).query and path not in ("", "/"):
            forms.setdefault(form[:-1] if form.endswith("/") else form + "/")
    return list(forms)


def article_history(db: Database, url: str) -> dict[str, Any] | None:
    """The stored article for ``url`` (or the article a captured URL redirected to), its
    versions and the captures of the URL; ``url`` in any of its :func:`url_forms`."""
    for form in url_forms(url):
        found = _article_history(db, form)
        if found is not None:
            return found
    return None


def _article_history(db: Database, url: str) -> dict[str, Any] | None:
    rows = list(db.query("select * from articles where url = ?", [url]))
    captures = list(
        db.query(
            "select id, fetched_at, status, content_type, record_type, payload_digest, "
            "warc_file, warc_offset from captures where url = ? order by fetched_at",
            [url],
        )
    )
    if not rows and not captures:
        return None
    article = rows[0] if rows else None
    versions = []
    tags: list[str] = []
    if article is not None:
        versions = list(
            db.query(
                "select id, title, first_seen, capture_id, text_hash, extractor, text "
                "from article_versions where article_id = ? order by first_seen",
                [article["id"]],
            )
        )
        tags = [r["name"] for r in db.query(
            "select t.name from article_tags at join tags t on t.id = at.tag_id "
            "where at.article_id = ? order by t.name", [article["id"]]
        )]  # fmt: skip
        article["tags"] = tags
    return {"url": url, "article": article, "versions": versions, "captures": captures}


def version_diffs(versions: list[dict[str, Any]]) -> list[str]:
    """Unified diffs of each version's text against the one before, oldest first."""
    diffs = []
    for old, new in itertools.pairwise(versions):
        lines = difflib.unified_diff(
            (old["text"] or "").splitlines(),
            (new["text"] or "").splitlines(),
            fromfile=f"version of {old['first_seen']}",
            tofile=f"version of {new['first_seen']}",
            lineterm="",
        )
        diffs.append("\n".join(lines))
    return diffs
