"""Package the archive for other tools: articles as JSON Lines or CSV, everything as WACZ.

- :func:`export_jsonl` and :func:`export_csv` write one record per row of ``articles``: its
  columns (less the internal ids), its ``tags``, and ``fetched_at``, ``warc_file`` and
  ``warc_offset`` of the capture it was extracted from. With ``table="reviews"``, one record
  per review: its columns, its item's (``item_name``, ``item_type``, ``item_year``,
  ``item_creator``, ``item_identifiers``), its capture's, and its ``ratings`` per capture;
  with ``table="items"``, one per item, with its ``reviews`` (URL, site, author, score).
  In CSV a list or object is a JSON text.
- :func:`export_wacz` writes a WACZ 1.1.1 package (built by py-wacz) of the closed WARC files
  with a ``pages/pages.jsonl`` listing the articles, for ReplayWeb.page and other WACZ readers.
  Its index is py-wacz's, but for one field: a ``304`` revisit's line gives the status of the
  response it confirmed (:class:`RevisitStatusIndexer`).

Every output is written to a temporary file beside it and renamed into place, so a reader never
sees half a file and a failed export leaves any earlier file as it was.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from sqlite_utils import Database

from archive.errors import ArchiveError
from archive.warc_writer import OPEN_SUFFIX

logger = logging.getLogger(__name__)

# Row ids that mean nothing outside archive.db (the capture is given as warc_file/warc_offset).
EXCLUDED_COLUMNS = frozenset({"id", "site_id", "author_id", "capture_id"})
CAPTURE_FIELDS = ("fetched_at", "warc_file", "warc_offset")
CSV_TAG_SEPARATOR = ";"
WARC_GLOB = "*.warc.gz"
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}

# The article's tags in the order they were stored (the page's order).
_TAGS_SQL = (
    "(select json_group_array(name) from (select t.name from article_tags at "
    "join tags t on t.id = at.tag_id where at.article_id = a.id order by at.rowid))"
)
# Characters str.splitlines() breaks on that JSON leaves raw; escaped so every consumer sees
# one record per line.
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


class ExportError(ArchiveError):
    """An export could not be written: bad output path, nothing to export, ..."""


# -- articles --------------------------------------------------------------------------------


def require_articles(db: Database) -> None:
    if not db["articles"].exists():
        raise ExportError("the database has no articles table; is it a reviewarc archive.db?")


def article_columns(db: Database) -> list[str]:
    """The ``articles`` columns that are exported, in table order."""
    require_articles(db)
    return [c.name for c in db["articles"].columns if c.name not in EXCLUDED_COLUMNS]


def export_fields(db: Database) -> list[str]:
    """Field names of an exported article record, in output order."""
    return [*article_columns(db), "tags", *CAPTURE_FIELDS]


def iter_articles(db: Database) -> Iterator[dict[str, Any]]:
    """Every article as an export record (``tags`` a list), streamed in ``id`` order."""
    columns = ", ".join(f"a.[{name}]" for name in article_columns(db))
    captured = ", ".join(f"c.[{name}]" for name in CAPTURE_FIELDS)
    cursor = db.execute(
        f"select {columns}, {_TAGS_SQL} as tags, {captured} from articles a "
        "left join captures c on c.id = a.capture_id order by a.id"
    )
    names = [d[0] for d in cursor.description]
    for row in cursor:
        record = dict(zip(names, row, strict=True))
        record["tags"] = json.loads(record["tags"] or "[]")
        yield record


_REVIEW_SQL = """
select r.url, r.review_key, r.kind, r.syntax, r.site_name, r.author, r.published, r.headline,
  r.body, r.rating_text, r.rating_value, r.rating_best, r.rating_worst, r.scale, r.score,
  r.first_seen, r.last_seen, r.item_id, i.name as item_name, i.type as item_type,
  i.year as item_year, i.creator as item_creator, i.identifiers as item_identifiers,
  m.match_method, c.fetched_at, c.warc_file, c.warc_offset,
  (select json_group_array(json_object('fetched_at', x.fetched_at, 'rating_text',
     x.rating_text, 'score', x.score)) from (select * from review_ratings
     where review_id = r.id order by fetched_at) x) as ratings
from reviews r left join items i on i.id = r.item_id
left join item_mentions m on m.id = r.mention_id
left join captures c on c.id = r.capture_id
order by r.item_id, r.url, r.id"""
_ITEM_SQL = """
select i.id as item_id, i.name, i.type, i.year, i.creator, i.identifiers, i.same_as,
  i.reviews, i.sites, i.mean_score, i.min_score, i.max_score, i.first_seen, i.last_seen,
  (select json_group_array(json_object('url', x.url, 'site_name', x.site_name, 'author',
     x.author, 'rating_text', x.rating_text, 'score', x.score)) from (select * from reviews
     where item_id = i.id order by url, id) x) as reviews_list
from items i order by i.id"""
#: What ``table=`` exports besides articles, and its fields holding JSON.
_TABLES = {
    "reviews": (_REVIEW_SQL, ("item_identifiers", "ratings")),
    "items": (_ITEM_SQL, ("identifiers", "same_as", "reviews_list")),
}
TABLES = ("articles", *_TABLES)


def _records(db: Database, table: str) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """(field names, records) of an export of ``table``."""
    if table == "articles":
        return export_fields(db), iter_articles(db)
    if table not in _TABLES:
        raise ExportError(f"cannot export {table!r}: choose one of {', '.join(TABLES)}")
    if not db[table].exists():
        raise ExportError(f"the database has no {table} table; is it a reviewarc archive.db?")
    sql, json_fields = _TABLES[table]
    cursor = db.execute(sql)
    names = [d[0] for d in cursor.description]

    def records() -> Iterator[dict[str, Any]]:
        for row in cursor:
            record = dict(zip(names, row, strict=True))
            for name in json_fields:
                if isinstance(record[name], str):
                    record[name] = json.loads(record[name])
            yield record

    return names, records()


def jsonl_line(record: dict[str, Any]) -> str:
    """One JSON Lines record: UTF-8 text kept as is, always exactly one line."""
    line = json.dumps(record, ensure_ascii=False)
    for char, escaped in _LINE_BREAKS.items():
        line = line.replace(char, escaped)
    return line + "\n"


def csv_row(record: dict[str, Any]) -> dict[str, Any]:
    row = {
        k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
        for k, v in record.items()
    }
    if isinstance(record.get("tags"), list):
        row["tags"] = CSV_TAG_SEPARATOR.join(record["tags"])
    return row


def export_jsonl(db: Database, path: str | os.PathLike[str], table: str = "articles") -> int:
    """Write every article (or review, or item) to ``path`` as JSON Lines (UTF-8). Returns
    how many."""
    output = check_output(path, db)
    _, records = _records(db, table)  # fails before creating anything
    count = 0
    with atomic_text(output) as fh:
        for record in records:
            fh.write(jsonl_line(record))
            count += 1
    logger.info("Exported %d %s to %s", count, table, output)
    return count


def export_csv(db: Database, path: str | os.PathLike[str], table: str = "articles") -> int:
    """Write every article (or review, or item) to ``path`` as CSV (UTF-8, header row,
    ``tags`` joined by ``;``, other lists as JSON). Returns how many were written."""
    output = check_output(path, db)
    fields, records = _records(db, table)
    count = 0
    with atomic_text(output, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for record in records:
            writer.writerow(csv_row(record))
            count += 1
    logger.info("Exported %d %s to %s", count, table, output)
    return count


# -- WACZ ------------------------------------------------------------------------------------


def closed_warcs(warc_dir: Path) -> list[Path]:
    """The closed WARC files of ``warc_dir``, by name; files still being written are left out."""
    if not warc_dir.is_dir():
        raise ExportError(f"WARC directory {warc_dir} does not exist")
    warcs = sorted(p for p in warc_dir.glob(WARC_GLOB) if p.is_file())
    still_open = sorted(warc_dir.glob(WARC_GLOB + OPEN_SUFFIX))
    if still_open:
        logger.warning(
            "Skipping %d WARC file(s) still being written: %s",
            len(still_open),
            ", ".join(p.name for p in still_open),
        )
    if not warcs:
        hint = " (a crawl is still writing; wait for it to finish)" if still_open else ""
        raise ExportError(f"no closed WARC files in {warc_dir}: nothing to package{hint}")
    return warcs


def iter_pages(db: Database, warc_files: Iterable[str]) -> Iterator[dict[str, str]]:
    """A JSON-pages entry (``url``, ``ts``, ``title``) per article whose capture is in one of
    ``warc_files``, oldest capture first."""
    included = set(warc_files)
    require_articles(db)
    skipped = 0
    for url, title, fetched_at, warc_file in db.execute(
        "select a.url, a.title, c.fetched_at, c.warc_file from articles a "
        "join captures c on c.id = a.capture_id order by c.fetched_at, a.id"
    ):
        if warc_file not in included:
            skipped += 1
            continue
        page = {"url": url, "ts": fetched_at}
        if title:
            page["title"] = title
        yield page
    if skipped:
        logger.warning(
            "%d article(s) left out of the pages: their WARC file is not packaged", skipped
        )


def write_pages(db: Database, path: Path, warc_files: Iterable[str]) -> int:
    """Write ``pages.jsonl`` (header line, then one page per article). Returns the page count.

    ASCII-only JSON: py-wacz reads the file back in the locale's encoding.
    """
    count = 0
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        fh.write(json.dumps(PAGES_HEADER) + "\n")
        for page in iter_pages(db, warc_files):
            fh.write(json.dumps(page) + "\n")
            count += 1
    return count


def confirmed_statuses(db: Database) -> dict[tuple[str, str], str]:
    """For each ``304`` revisit whose original is known: (WARC file name, record offset), as
    py-wacz's index names the record, -> the status of the response it confirmed."""
    if not db["captures"].exists() or "refers_to_id" not in db["captures"].columns_dict:
        return {}
    return {
        (warc_file, str(offset)): str(status)
        for warc_file, offset, status in db.execute(
            "select c.warc_file, c.warc_offset, o.status from captures c"
            " join captures o on o.id = c.refers_to_id"
            " where c.record_type = 'revisit' and c.status = 304"
        )
    }


def revisit_status_indexer(confirmed: dict[tuple[str, str], str]) -> type:
    """py-wacz's indexer, but a ``304`` revisit's index line gives the status ``confirmed``
    names (the original response's) instead of ``304``.

    ReplayWeb.page (wabac.js) takes a capture's status from its index line and loads no body
    for a 304 (a null-body status), so it showed a blank page for a URL last captured by a 304.
    With the original's status it loads the revisit record, finds the original through
    ``WARC-Refers-To-Target-URI`` and ``WARC-Refers-To-Date`` (the line stays ``mime:
    warc/revisit`` and points at the revisit record, whose ``WARC-Date`` it checks against the
    line's timestamp) and serves its payload. pywb reads the status from the record itself,
    so it replays as before. The WARC files are packaged unchanged.
    """
    from wacz.waczindexer import WACZIndexer

    class RevisitStatusIndexer(WACZIndexer):
        def _do_write(self, urlkey: str, ts: str, index: dict, out: Any) -> None:
            if index.get("mime") == "warc/revisit" and index.get("status") == "304":
                key = (index.get("filename", ""), str(index.get("offset", "")))
                index["status"] = confirmed.get(key, index["status"])
            super()._do_write(urlkey, ts, index, out)

    return RevisitStatusIndexer


def run_py_wacz(
    warcs: list[Path],
    pages: Path,
    output: Path,
    title: str | None,
    confirmed: dict[tuple[str, str], str] | None = None,
) -> None:
    """Build the WACZ at ``output`` with py-wacz, copying ``pages`` in as ``pages/pages.jsonl``;
    ``confirmed``: statuses for ``304`` revisits' index lines (see :func:`confirmed_statuses`)."""
    import wacz.main  # imported here: only this command needs it

    args = ["create", f"--output={output}", f"--pages={pages}", "--copy-pages"]
    args += ["--hash-type=sha256", *([f"--title={title}"] if title else [])]
    args += [str(w.resolve()) for w in warcs]
    printed = io.StringIO()
    # py-wacz's create builds the indexer it finds in its module: ours for the call's length.
    indexer = wacz.main.WACZIndexer
    try:
        wacz.main.WACZIndexer = revisit_status_indexer(confirmed or {})
        with contextlib.redirect_stdout(printed):
            status = wacz.main.main(args)
    except SystemExit as e:  # argparse refused the arguments
        status = e.code
    except Exception as e:  # a WARC py-wacz cannot read, ...: a message, not a traceback
        raise ExportError(f"could not build the WACZ package: {e}") from e
    finally:
        wacz.main.WACZIndexer = indexer
        for line in printed.getvalue().splitlines():
            logger.debug("py-wacz: %s", line)
    if status:
        last = printed.getvalue().strip().splitlines()[-1:]
        raise ExportError(f"could not build the WACZ package: {' '.join(last) or status}")


def export_wacz(
    db: Database,
    warc_dir: Path,
    path: str | os.PathLike[str],
    title: str | None = None,
) -> int:
    """Write a WACZ 1.1.1 package of the closed WARC files of ``warc_dir`` to ``path``, with
    the articles as its pages. Returns the number of pages listed."""
    output = check_output(path, db)
    warcs = closed_warcs(Path(warc_dir))
    if output.resolve() in {w.resolve() for w in warcs}:
        raise ExportError(f"{output} is one of the archive's WARC files; choose another path")
    with tempfile.TemporaryDirectory(prefix="reviewarc-export-") as tmp:
        pages = Path(tmp) / "pages.jsonl"
        count = write_pages(db, pages, [w.name for w in warcs])
        with atomic_path(output) as partial:
            run_py_wacz(warcs, pages, partial, title, confirmed_statuses(db))
    logger.info("Exported %d WARC file(s) and %d page(s) to %s", len(warcs), count, output)
    return count


# -- output files ----------------------------------------------------------------------------


def database_files(db: Database) -> set[Path]:
    """archive.db and its WAL companions, which an export must never replace."""
    files = set()
    for row in db.execute("PRAGMA database_list").fetchall():
        if row[2]:
            main = Path(row[2]).resolve()
            files |= {main, main.with_name(main.name + "-wal"), main.with_name(main.name + "-shm")}
    return files


def check_output(path: str | os.PathLike[str], db: Database | None = None) -> Path:
    """``path`` as a :class:`Path`, or :class:`ExportError` if no file can be written there."""
    output = Path(path)
    parent = output.parent
    if not parent.is_dir():
        raise ExportError(f"cannot write {output}: directory {parent} does not exist")
    if output.is_dir():
        raise ExportError(f"cannot write {output}: it is a directory")
    if db is not None and output.resolve() in database_files(db):
        raise ExportError(f"cannot write {output}: it is the archive's database")
    return output


@contextlib.contextmanager
def atomic_path(output: Path) -> Iterator[Path]:
    """A temporary path beside ``output``, renamed to ``output`` (after fsync) when the block
    ends without error and removed when it fails."""
    try:
        fd, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    except OSError as e:
        raise ExportError(f"cannot write {output}: {e.strerror or e}") from e
    os.close(fd)
    partial = Path(name)
    try:
        yield partial
        _fsync(partial)
        partial.chmod(0o666 & ~_umask())  # as open() would have made it
        os.replace(partial, output)
    except OSError as e:
        partial.unlink(missing_ok=True)
        raise ExportError(f"cannot write {output}: {e.strerror or e}") from e
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_text(output: Path, newline: str | None = "\n") -> Iterator[TextIO]:
    """A UTF-8 text file that becomes ``output`` when the block ends without error."""
    with (
        atomic_path(output) as partial,
        open(partial, "w", encoding="utf-8", newline=newline) as fh,
    ):
        yield fh


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


__all__ = [
    "ExportError",
    "export_csv",
    "export_fields",
    "export_jsonl",
    "export_wacz",
    "iter_articles",
]
