"""``reviewarc search``, ``show`` and ``sql``: reading the archive database."""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from archive.database import ArchiveDB
from archive.errors import ArchiveError
from archive.readonly import ReadOnlyRefused
from crawler.cli.common import (
    cli,
    command_as_run,
    console,
    data_option,
    fail,
    jsonable,
    read_db,
    resolve,
)


@cli.command()
@click.argument("query")
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of results.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
def search(query: str, data_dir: Path | None, as_json: bool, limit: int) -> None:
    """Full-text search over the archived reviews, best match first.

    QUERY is words (all of them must match); a word with punctuation in it, such as
    Nan-young, it's or C++, is searched as written. SQLite FTS5 operators work too:
    "exact phrases", OR, AND, NOT, prefix*, (parentheses), NEAR(a b, 5), and title:word or
    text:word for one column. A query FTS5 cannot read (an unbalanced quote or
    parenthesis) is searched as plain words.

    Example:

        reviewarc search '"slow burn" OR thriller' --limit 5
    """
    from archive.search import SearchQueryError
    from archive.search import search as run_search

    db = read_db(data_dir)
    try:
        hits = run_search(db, query, limit=limit)
    except SearchQueryError as e:
        fail(str(e))
    finally:
        db.close()
    if as_json:
        click.echo(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo(f"No reviews match {query!r}.")
        return
    for hit in hits:
        rating = f"  {hit.rating_value:g}/{hit.rating_best:g}" if hit.rating_value else ""
        console.print(f"[bold]{escape(hit.title or hit.url)}[/bold]{rating}")
        published = (hit.published or "")[:10]  # the date; --json has the value as stored
        meta = " · ".join(x for x in (hit.site_name, hit.author, published) if x)
        console.print(f"  [dim]{escape(meta)}[/dim]")
        console.print(f"  {escape(hit.url)}", soft_wrap=True, highlight=False)
        snippet = escape(hit.snippet).replace("**", "\x00")
        parts = snippet.split("\x00")
        marked = "".join(
            f"[bold yellow]{p}[/bold yellow]" if i % 2 else p for i, p in enumerate(parts)
        )
        console.print(f"  {marked}\n", highlight=False)


@cli.command()
@click.argument("target", metavar="URL|ITEM")
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
@click.option("--diff", "as_diff", is_flag=True, help="Show what changed between versions.")
def show(target: str, data_dir: Path | None, as_json: bool, as_diff: bool) -> None:
    """The stored article for a URL (its versions, its captures, and every review of what
    it reviews, across sites), or one item and every review of it.

    ITEM is an item's id (as `reviewarc items` lists it), an identifier (an IMDb id such as
    tt0111161, a Wikidata id, an ISBN, a GTIN, a MusicBrainz id, or a sameAs URL) or the
    item's name.

    Examples:

        reviewarc show https://reviews.example/reviews/some-film/ --diff

        reviewarc show 3
    """
    from archive.item_queries import ItemNotFound, item_reviews
    from archive.search import article_history, version_diffs

    db = read_db(data_dir)
    try:
        is_url = "://" in target
        history = article_history(db, target) if is_url else None
        try:
            item_ids = _items_of(db, target, history)
        except ItemNotFound as e:
            fail(str(e))
        items = [item_reviews(db, item_id) for item_id in item_ids]
    finally:
        db.close()
    if history is None and not items:
        fail(f"nothing archived for {target}")
    if history is not None and as_diff:
        history["diffs"] = version_diffs(history["versions"])
    if as_json:
        out = dict(history or {}, items=items) if is_url else items[0]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2, default=jsonable))
        return
    if history is not None:
        if history["article"] is None:
            click.echo(f"{target} was captured but is not an article.")
        else:
            _print_article(history)
        click.echo(f"{len(history['captures'])} capture(s):")
        for c in history["captures"]:
            click.echo(
                f"  {c['fetched_at']}  {c['status']}  {c['record_type']}  "
                f"{c['warc_file']}@{c['warc_offset']}"
            )
    for item in items:
        if history is not None:
            click.echo()
        _print_item(item)


def _items_of(db: Any, target: str, history: dict | None) -> list[int]:
    """The items ``show`` shows: those reviewed on the page a URL names, or the one item
    an id, identifier or name names."""
    from archive.item_queries import ItemNotFound, find_item, items_on_page

    if history is not None:
        return items_on_page(db, history["url"])
    try:
        return [find_item(db, target)]
    except ItemNotFound:
        if "://" in target:
            return []  # neither a page nor an item's URL: "nothing archived"
        raise


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _print_item(item: dict) -> None:
    """An item, how its mentions joined it, and every review of it across sites."""
    facts = " · ".join(str(x) for x in (item["type"], item["year"], item["creator"]) if x)
    console.print(f"[bold]{escape(item['name'])}[/bold]  [dim]item {item['id']}[/dim]")
    if facts:
        console.print(f"  {escape(facts)}", highlight=False)
    if item["identifiers"]:
        ids = ", ".join(f"{k} {v}" for k, v in sorted(item["identifiers"].items()))
        console.print(f"  {escape(ids)}", highlight=False)
    console.print(
        f"  {item['reviews']} review(s) on {item['sites']} site(s); score mean "
        f"{_score(item['mean_score'])}, from {_score(item['min_score'])} to "
        f"{_score(item['max_score'])} (0-100)",
        highlight=False,
    )
    for mention in item["mentions"]:
        console.print(
            f"  [dim]as {escape(mention['name'])!r} on {escape(mention['url'])}: "
            f"{escape(mention['match_method'] or '')}[/dim]",
            highlight=False,
            soft_wrap=True,
        )
    for r in item["reviews_list"]:
        rating = r["rating_text"] or "no rating"
        if r["rating_text"] and r["scale"]:
            rating += f" on {r['scale']}"
        scores = list(dict.fromkeys(h["score"] for h in r["history"]))
        changed = f"  (was {', '.join(map(_score, scores[:-1]))})" if len(scores) > 1 else ""
        who = " · ".join(x for x in (r["site_name"], r["author"], (r["published"] or "")[:10]) if x)
        console.print(f"  [bold]{_score(r['score']):>5}[/bold]  {escape(rating)}{changed}  "
                      f"{escape(who)}", highlight=False, soft_wrap=True)  # fmt: skip
        console.print(f"         {escape(r['url'])}", highlight=False, soft_wrap=True)
    for a in item["aggregates"][-3:]:
        console.print(
            f"  aggregate {a['rating_value']:g}/{_score(a['rating_best'])} from "
            f"{a['rating_count'] or a['review_count'] or '?'} rating(s) at {a['fetched_at'][:10]}"
            f" on {escape(a['url'])}",
            highlight=False,
            soft_wrap=True,
        )


@cli.command()
@click.argument("query", required=False)
@data_option
@click.option("--type", "item_type", help="Only items of this schema.org type (Movie, Book, ...).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of items.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
def items(
    query: str | None, data_dir: Path | None, item_type: str | None, as_json: bool, limit: int
) -> None:
    """The things reviewed (films, albums, books, products...), most reviewed first, each
    with its number of reviews and sites and its mean score (0-100).

    QUERY, if given, is words of the name, an identifier (tt0111161, Q42, an ISBN, a GTIN,
    a MusicBrainz id) or the URL of a page reviewing it.

    Examples:

        reviewarc items

        reviewarc items orchard --type Movie
    """
    from archive.item_queries import list_items

    db = read_db(data_dir)
    try:
        found = list_items(db, query, item_type=item_type, limit=limit)
    finally:
        db.close()
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo(f"No item matches {query!r}." if query else "No items archived yet.")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("id", "name", "type", "year", "reviews", "sites", "mean score"):
        table.add_column(column, overflow="fold")
    for i in found:
        table.add_row(str(i["id"]), i["name"], i["type"] or "", str(i["year"] or ""),
                      str(i["reviews"]), str(i["sites"]), _score(i["mean_score"]))  # fmt: skip
    console.print(table)
    click.echo(f"Every review of one: {command_as_run()} show {found[0]['id']}")


_SHOWN_FIELDS = (
    "title",
    "author",
    "published",
    "modified",
    "site_name",
    "language",
    "item_reviewed",
    "item_reviewed_type",
    "canonical_url",
    "extractor",
)


def _print_article(history: dict) -> None:
    """An article's fields, text, versions and (with --diff) what changed."""
    article = history["article"]
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key in _SHOWN_FIELDS:
        if article.get(key):
            table.add_row(key, str(article[key]))
    if article.get("rating_value") is not None:
        table.add_row("rating", f"{article['rating_value']:g} / {article['rating_best']:g}")
    if article.get("tags"):
        table.add_row("tags", ", ".join(article["tags"]))
    console.print(table)
    click.echo()
    click.echo(article["text"])
    click.echo()
    click.echo(f"{len(history['versions'])} version(s):")
    for v in history["versions"]:
        click.echo(f"  {v['first_seen']}  capture {v['capture_id']}  {v['text_hash'][:12]}")
    for diff in history.get("diffs", []):
        click.echo()
        for line in diff.splitlines():
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
            console.print(escape(line), style=style or None, highlight=False, soft_wrap=True)


@cli.command()
@click.argument("query")
@data_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of objects.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row.")
def sql(query: str, data_dir: Path | None, as_json: bool, as_csv: bool) -> None:
    """Run a read-only SQL query on the archive database.

    Only reading is allowed: statements that would write, change the schema, attach or
    create another file (ATTACH, VACUUM INTO) or set a PRAGMA are refused before they run.

    Example:

        reviewarc sql "select status, count(*) from captures group by status"
    """
    if as_json and as_csv:
        fail("choose one of --json and --csv")
    try:
        datadir = resolve(data_dir).require()
    except ArchiveError as e:
        fail(str(e))
    try:
        con = ArchiveDB.open_readonly(datadir.db_path).db.conn
    except (ArchiveError, sqlite3.Error) as e:
        fail(f"cannot open {datadir.db_path}: {e}")
    try:
        cursor = con.execute(query)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    except ReadOnlyRefused as e:
        fail(f"reviewarc sql is read-only: {e}")
    except sqlite3.Error as e:
        fail(f"SQL error: {e}")
    finally:
        con.close()
    if as_json:
        click.echo(
            json.dumps(
                [dict(zip(columns, r, strict=True)) for r in rows],
                ensure_ascii=False,
                indent=2,
                default=jsonable,
            )
        )
    elif as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        table = Table()
        for col in columns:
            table.add_column(col)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)
