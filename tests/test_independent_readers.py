"""reviewarc's own WARC files read by readers that share none of its code: FastWARC (block
digests) and cdxj-indexer (the index pywb and py-wacz build on), beside warcio, which
``every_warc_checked`` (conftest) runs on every file the suite writes."""

from __future__ import annotations

import json
import subprocess

from fastwarc.warc import ArchiveIterator, WarcRecordType

from tests.conftest import BIN, Crawl

HTTP_RECORDS = WarcRecordType.response | WarcRecordType.request | WarcRecordType.revisit


def test_fastwarc_verifies_every_block_digest(crawled: Crawl) -> None:
    checked = 0
    for path in crawled.warcs:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh, parse_http=False, record_types=HTTP_RECORDS):
                assert record.headers.get("WARC-Block-Digest"), (path, record.stream_pos)
                assert record.verify_block_digest(), (path, record.stream_pos)
                checked += 1
    (captures,) = crawled.sql("select count(*) n from captures")[0].values()
    assert checked > captures > 0


def test_cdxj_indexer_finds_every_capture_where_the_database_says(crawled: Crawl) -> None:
    out = subprocess.run(
        [str(BIN / "cdxj-indexer"), *map(str, crawled.warcs)],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    indexed = set()
    for line in out.splitlines():
        fields = json.loads(line.split(" ", 2)[2])
        indexed.add((fields["filename"], int(fields["offset"]), fields["url"]))
    rows = crawled.sql("select warc_file, warc_offset, url from captures")
    assert rows
    missing = [r for r in rows if (r["warc_file"], r["warc_offset"], r["url"]) not in indexed]
    assert missing == []
