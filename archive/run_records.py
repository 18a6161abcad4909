"""The records a crawl writes about itself, so that an indexer can rebuild ``crawls`` and
``failures`` from the WARC files alone (see docs/warc.md, "Runs and failures").

* each file's ``warcinfo`` names its run (:func:`warcinfo_run_fields`);
* a ``metadata`` record per failure (:func:`failure_fields`), ``WARC-Target-URI`` the failed
  URL, ``WARC-Refers-To`` the response record of the error page when it was archived;
* a ``metadata`` record per worker that ends (:func:`run_end_fields`), ``WARC-Target-URI``
  :func:`run_uri`.

Write them with :meth:`archive.warc_writer.WARCFileWriter.write_metadata` (or, in a crawl,
:meth:`archive.capture_store.CaptureStore.record_metadata`); read them with
:func:`read_failure` and :func:`read_run_end`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: warcinfo fields of a crawl's files.
RUN_FIELD = "reviewarc-run"  # the run's id, hex
CRAWL_KEY_FIELD = "reviewarc-crawl-key"
SEEDS_FIELD = "reviewarc-seeds"  # the seed URLs, separated by single spaces
WORKER_FIELD = "reviewarc-worker"  # also in a run-end record
#: warcinfo field of the source's name (empty when the crawl has no sources file).
SOURCE_FIELD = "isPartOf"

#: Fields of a failure record.
FAILURE_FIELD = "reviewarc-failure"  # its kind: http, timeout, dns, ...
REASON_FIELD = "reviewarc-reason"
STATUS_FIELD = "reviewarc-status"  # optional, an integer

#: Fields of a run-end record.
RUN_END_FIELD = "reviewarc-run-end"  # the outcome: finished, shutdown, ...
PAGES_FIELD = "reviewarc-pages"
LAST_FIELD = "reviewarc-last"  # yes from the crawl's last worker out, else no

#: The WARC-Target-URI of a run-end record: this and the run's id.
RUN_URI_PREFIX = "urn:reviewarc:run:"


def run_uri(run: str) -> str:
    """The WARC-Target-URI of run ``run``'s end records."""
    return RUN_URI_PREFIX + run


def warcinfo_run_fields(
    run: str, crawl_key: str | None, seeds: Iterable[str], worker: str
) -> dict[str, str]:
    """The fields to add to each file's warcinfo (``WARCFileWriter(warcinfo=...)``)."""
    return {
        RUN_FIELD: run,
        CRAWL_KEY_FIELD: crawl_key or "",
        SEEDS_FIELD: " ".join(seeds),
        WORKER_FIELD: worker,
    }


def failure_fields(kind: str, reason: str, status: int | None = None) -> list[tuple[str, str]]:
    """The fields of a failure record: its kind (``failures.kind``), reason and HTTP status."""
    fields = [(FAILURE_FIELD, kind), (REASON_FIELD, reason)]
    if status is not None:
        fields.append((STATUS_FIELD, str(int(status))))
    return fields


def run_end_fields(outcome: str, pages: int, worker: str, last: bool) -> list[tuple[str, str]]:
    """The fields of a worker's end record: the outcome (Scrapy's finish reason), the pages it
    crawled, its name, and whether it was the crawl's last worker out."""
    return [
        (RUN_END_FIELD, outcome),
        (PAGES_FIELD, str(int(pages))),
        (WORKER_FIELD, worker),
        (LAST_FIELD, "yes" if last else "no"),
    ]


@dataclass(frozen=True)
class RunInfo:
    """What a file's warcinfo says of the run that wrote it."""

    run: str
    crawl_key: str | None
    seeds: list[str]
    source: str | None
    worker: str | None


@dataclass(frozen=True)
class Failure:
    kind: str
    reason: str
    status: int | None


@dataclass(frozen=True)
class RunEnd:
    run: str
    outcome: str
    pages: int
    worker: str | None
    last: bool


def read_run_info(fields: Mapping[str, str]) -> RunInfo | None:
    """The run of a warcinfo's fields (names lower-cased), or None for a file of no run."""
    run = fields.get(RUN_FIELD)
    if not run:
        return None
    return RunInfo(
        run=run,
        crawl_key=fields.get(CRAWL_KEY_FIELD) or None,
        seeds=(fields.get(SEEDS_FIELD) or "").split(),
        source=fields.get(SOURCE_FIELD.lower()) or None,
        worker=fields.get(WORKER_FIELD) or None,
    )


def read_failure(fields: Mapping[str, str]) -> Failure | None:
    """The failure a metadata record's fields (names lower-cased) state, or None."""
    kind = fields.get(FAILURE_FIELD)
    if not kind:
        return None
    status = (fields.get(STATUS_FIELD) or "").strip()
    return Failure(kind, fields.get(REASON_FIELD) or "", int(status) if status.isdigit() else None)


def read_run_end(target_uri: str, fields: Mapping[str, str]) -> RunEnd | None:
    """The run end a metadata record states, or None."""
    outcome = fields.get(RUN_END_FIELD)
    if not outcome or not target_uri.startswith(RUN_URI_PREFIX):
        return None
    pages = (fields.get(PAGES_FIELD) or "").strip()
    return RunEnd(
        run=target_uri.removeprefix(RUN_URI_PREFIX),
        outcome=outcome,
        pages=int(pages) if pages.isdigit() else 0,
        worker=fields.get(WORKER_FIELD) or None,
        last=(fields.get(LAST_FIELD) or "").strip().lower() == "yes",
    )
