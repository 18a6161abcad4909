"""Full-text search over articles (SQLite FTS5), and one article with its history."""

from __future__ import annotations

import difflib
import itertools
import re
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urlsplit

from sqlite_utils import Database
from w3lib.url import safe_url_string

from archive.errors import ArchiveError

HIGHLIGHT = ("**", "**")
#: Hangul, kana and CJK ideographs. Korean attaches particles to words and Japanese and
#: Chinese do not separate words, so such a query term also matches as a word prefix.
_CJK = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af]")
#: What FTS5 reads as operators when written in capitals; ``NEAR`` only before ``(``.
_OPERATORS = frozenset({"AND", "OR", "NOT"})
#: The columns of ``articles_fts``, usable as ``title:word``.
_COLUMNS = ("title", "text")
#: A piece of a query: a "phrase" (``""`` inside it is a quote; unterminated: to the end)
#: with an optional prefix ``*``, a parenthesis or a bare run.
_PIECE = re.compile(r'\s+|"(?:[^"]|"")*(?:"|$)\*?|[()]|[^\s"()]+')
_PHRASE = re.compile(r'"((?:[^"]|"")*)"?(\*?)')
_COLUMN_FILTER = re.compile(r"(title|text):", re.IGNORECASE)
_BAREWORD = re.compile(r"\w+")
#: A character the tokenizer (unicode61) keeps: a term without one searches for nothing.
_TOKEN_CHAR = re.compile(r"[^\W_]")
#: The text between two highlights, when it holds no word: the highlights are merged.
_BETWEEN_HIGHLIGHTS = re.compile(re.escape(HIGHLIGHT[1]) + r"([^\w*]*)" + re.escape(HIGHLIGHT[0]))


class SearchQueryError(ArchiveError):
    """Nothing can be searched for in the query."""


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


def _quoted(term: str, prefix: bool = False) -> str:
    return '"' + term.replace('"', '""') + '"' + ("*" if prefix else "")


def _term(text: str) -> str:
    """One bare term as FTS5 reads it: a plain word as it is (a CJK word widened to a prefix,
    ``영화`` -> ``영화*``), anything with punctuation in it (``Nan-young``, ``it's``, ``C++``,
    ``re:birth``) as a phrase of its words; empty when it has no word at all."""
    prefix = text.endswith("*")
    body = text.rstrip("*")
    if not _TOKEN_CHAR.search(body):
        return ""
    prefix = prefix or bool(_CJK.search(body))
    if _BAREWORD.fullmatch(body):
        return body + ("*" if prefix else "")
    return _quoted(body, prefix)


def _phrase(piece: str) -> str:
    """A ``"phrase"`` as typed (maybe unterminated, maybe ending in ``*``), well formed."""
    phrase = _PHRASE.fullmatch(piece)
    assert phrase is not None  # as _PIECE found it
    body = phrase.group(1).replace('""', '"')
    return _quoted(body, bool(phrase.group(2))) if _TOKEN_CHAR.search(body) else ""


def _translated(query: str) -> str:
    """``query`` with its operators, phrases, parentheses, ``NEAR(...)`` and ``title:``/``text:``
    filters kept and every other term made a valid FTS5 term (:func:`_term`)."""
    pieces = _PIECE.findall(query)
    out: list[str] = []
    near = False
    for i, piece in enumerate(pieces):
        following = pieces[i + 1] if i + 1 < len(pieces) else ""
        if piece.isspace():
            out.append(" ")
        elif piece.startswith('"'):
            out.append(_phrase(piece))
        elif piece in ("(", ")"):
            near = near and piece == "("  # a NEAR group ends at its parenthesis
            out.append(piece)
        elif piece == "NEAR" and following == "(":
            near = True
            out.append(piece)
        elif piece in _OPERATORS:
            out.append(piece)
        elif near and "," in piece:  # NEAR(a b, 5): the comma before the distance
            out.append(", ".join(_term(part) for part in piece.split(",")))
        elif (column := _COLUMN_FILTER.match(piece)) and (rest := _term(piece[column.end() :])):
            out.append(column.group(1).lower() + ":" + rest)
        elif _COLUMN_FILTER.fullmatch(piece) and following[:1] in ('"', "("):
            out.append(piece.lower())
        else:
            out.append(_term(piece))
    return "".join(out).strip()


def _plain_words(query: str) -> str:
    """``query`` as plain words, each a term (:func:`_term`); operators and quotes ignored."""
    words = (_term(w) for w in re.split(r'[\s"()]+', query) if w not in _OPERATORS)
    return " ".join(w for w in words if w)


_scratch = threading.local()


def _valid(expression: str) -> bool:
    """Whether FTS5 accepts ``expression`` as a MATCH over ``articles_fts``' columns."""
    con = getattr(_scratch, "con", None)
    if con is None:
        con = _scratch.con = sqlite3.connect(":memory:", check_same_thread=False)
        con.execute(f"create virtual table probe using fts5({', '.join(_COLUMNS)})")
    try:
        con.execute("select rowid from probe where probe match ?", [expression]).fetchall()
    except sqlite3.Error:
        return False
    return True


def fts_query(query: str) -> str:
    """The FTS5 MATCH expression for what a person typed, for ``reviewarc search`` and the web
    view alike.

    Operators work as FTS5 has them (``"phrase"``, ``OR``, ``AND``, ``NOT``, ``prefix*``,
    parentheses, ``NEAR(a b, N)``, ``title:`` and ``text:``); a bare term with punctuation in
    it is a phrase of its words (``Nan-young`` -> ``"Nan-young"``, never a column filter or
    ``NOT``); a bare CJK term is also a prefix (``영화`` -> ``영화*``). A query that is still
    not valid FTS5 (an unbalanced quote or parenthesis, a dangling ``OR``) is searched as
    plain words. Raises :class:`SearchQueryError` when there is no word to search for.
    """
    for expression in (_translated(query), _plain_words(query)):
        if expression and _valid(expression):
            return expression
    raise SearchQueryError(
        f"nothing to search for in {query!r}: type one or more words, "
        '"a phrase", or word* for a prefix'
    )


def merge_highlights(snippet: str) -> str:
    """``snippet`` with highlights next to each other (only spaces or punctuation between)
    made one: ``**slow** **burn**`` -> ``**slow burn**``."""
    return _BETWEEN_HIGHLIGHTS.sub(r"\1", snippet)


def search(db: Database, query: str, limit: int = 20) -> list[Hit]:
    """Articles matching ``query`` (see :func:`fts_query`), best match first (bm25, title
    weighted 5x)."""
    expression = fts_query(query)
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
        rows = db.execute(sql, [*HIGHLIGHT, expression, limit]).fetchall()
    except sqlite3.OperationalError as e:
        raise SearchQueryError(f"invalid search query {query!r}: {e}") from e
    if not rows and _CJK.search(query):
        rows = _substring_search(db, query, limit)
    return [Hit(*row[:8], merge_highlights(row[8]), row[9]) for row in rows]


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
    each with or without a trailing slash: the forms a user may paste for one page. Without
    its ``#fragment``, which is never part of a captured URL (``page/#comments`` is ``page/``)."""
    url = urldefrag(url.strip()).url
    forms = dict.fromkeys([url, safe_url_string(url)])
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
