"""A crawl of the fixture site, checked the way an archivist would check it."""

from __future__ import annotations

import gzip
import re
from urllib.parse import urlsplit

import pytest

from archive.warc_reader import iter_records, read_record
from tests.conftest import SECRET_AUTH, Crawl, warcio_check


@pytest.fixture(scope="module")
def records(crawled: Crawl) -> list:
    assert crawled.result.returncode == 0, crawled.result.stderr[-3000:]
    return [r for path in crawled.warcs for r in iter_records(path)]


def responses(records: list, path: str, crawled: Crawl) -> list:
    url = crawled.server.base_url + path
    return [
        r for r in records if r.record_type == "response" and r.header("WARC-Target-URI") == url
    ]


def only_response(records: list, path: str, crawled: Crawl):
    found = responses(records, path, crawled)
    assert len(found) == 1, f"{path}: {len(found)} responses archived"
    return found[0]


def head_lines(record) -> list[bytes]:
    return record.http_head.rstrip(b"\r\n").split(b"\r\n")


def test_crawl_exits_zero_and_reports(crawled: Crawl) -> None:
    assert crawled.result.returncode == 0, crawled.result.stderr[-3000:]
    assert "responses archived" in crawled.result.stdout


def test_every_warc_passes_warcio_check(crawled: Crawl, records: list) -> None:
    assert crawled.warcs
    check = warcio_check(crawled.warcs)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout and "fail" not in check.stdout


def test_files_are_named_closed_and_start_with_warcinfo(crawled: Crawl) -> None:
    warc_dir = crawled.data / "warcs"
    assert not list(warc_dir.glob("*.open"))
    for path in crawled.warcs:
        assert re.fullmatch(r"reviewarc-\d{17}-\d{5}\.warc\.gz", path.name)
        first = next(iter_records(path))
        assert first.record_type == "warcinfo"
        assert first.header("WARC-Filename") == path.name
        info = first.payload.decode()
        assert "software: reviewarc/" in info
        assert "http-header-user-agent: reviewarc/" in info
        assert "robots: obey" in info


def test_each_record_is_its_own_gzip_member(crawled: Crawl) -> None:
    for path in crawled.warcs:
        data = path.read_bytes()
        offsets = [r.offset for r in iter_records(path)]
        for start, end in zip(offsets, [*offsets[1:], len(data)], strict=True):
            member = gzip.decompress(data[start:end])
            assert member.startswith(b"WARC/1.1\r\n")


def test_request_and_response_are_linked(records: list) -> None:
    by_id = {r.header("WARC-Record-ID"): r for r in records}
    pairs = 0
    for record in records:
        if record.record_type != "request":
            continue
        response = by_id[record.header("WARC-Concurrent-To")]
        assert response.record_type == "response"
        assert response.header("WARC-Concurrent-To") == record.header("WARC-Record-ID")
        assert response.header("WARC-Date") == record.header("WARC-Date")
        assert response.header("WARC-Target-URI") == record.header("WARC-Target-URI")
        assert "<" not in record.header("WARC-Target-URI")
        assert response.header("WARC-IP-Address") == "127.0.0.1"
        pairs += 1
    assert pairs == sum(1 for r in records if r.record_type == "response")


def test_body_stays_content_coded(crawled: Crawl, records: list) -> None:
    record = only_response(records, "/gzip/", crawled)
    assert b"Content-Encoding: gzip" in head_lines(record)
    assert record.payload == crawled.server.sent["/gzip/"]
    assert gzip.decompress(record.payload) == crawled.server.sent_decoded["/gzip/"]


def test_chunked_body_stored_dechunked_with_matching_length(crawled: Crawl, records: list) -> None:
    record = only_response(records, "/chunked/", crawled)
    lines = [line.lower() for line in head_lines(record)]
    assert not any(line.startswith(b"transfer-encoding") for line in lines)
    assert f"content-length: {len(record.payload)}".encode() in lines
    assert record.payload == crawled.server.sent["/chunked/"]


def test_status_line_and_headers_as_received(crawled: Crawl, records: list) -> None:
    record = only_response(records, "/reason/", crawled)
    lines = head_lines(record)
    assert lines[0] == b"HTTP/1.1 200 Fine Thanks"
    # Python's server sends Server and Date first, then ours, in this order and case.
    names = [line.split(b":", 1)[0] for line in lines[1:]]
    assert names == [b"Server", b"Date", b"Content-Type", b"Content-Length"]


def test_repeated_headers_kept(crawled: Crawl, records: list) -> None:
    record = only_response(records, "/cookies/", crawled)
    cookies = [line for line in head_lines(record) if line.startswith(b"Set-Cookie:")]
    assert cookies == [b"Set-Cookie: session=abc123; Path=/", b"Set-Cookie: theme=dark; Path=/"]


def test_payload_digest_is_sha1_of_stored_body(records: list) -> None:
    import base64
    import hashlib

    for record in records:
        if record.record_type == "response":
            digest = base64.b32encode(hashlib.sha1(record.payload).digest()).decode()
            assert record.header("WARC-Payload-Digest") == "sha1:" + digest


def test_request_keeps_query_and_host_and_drops_credentials(crawled: Crawl, records: list) -> None:
    requests = [r for r in records if r.record_type == "request"]
    search = [r for r in requests if "/search?" in r.header("WARC-Target-URI")]
    assert len(search) == 1
    lines = head_lines(search[0])
    assert lines[0] == b"GET /search?q=film+noir&page=2 HTTP/1.1"
    host = crawled.server.base_url.split("//")[1].encode()
    assert b"Host: " + host in lines
    # The server did get credentials and cookies; the archive never holds them.
    assert any(e.header("Authorization") == SECRET_AUTH for e in crawled.log)
    assert any(e.header("Cookie") for e in crawled.log)
    for record in requests:
        head = record.http_head.lower()
        assert b"authorization:" not in head and b"cookie:" not in head
        assert SECRET_AUTH.encode() not in record.http_head
        assert b"session=abc123" not in record.http_head


def test_redirect_chain_archived_hop_by_hop(crawled: Crawl, records: list) -> None:
    first = only_response(records, "/old-review", crawled)
    second = only_response(records, "/moved-once", crawled)
    assert head_lines(first)[0].startswith(b"HTTP/1.1 301")
    assert head_lines(second)[0].startswith(b"HTTP/1.1 302")
    final = only_response(records, "/reviews/two/", crawled)
    assert b"Copper Bells" in final.payload


def test_redirect_loop_ends(crawled: Crawl) -> None:
    assert 1 <= len(crawled.requested("/loop-a")) <= 3
    assert 1 <= len(crawled.requested("/loop-b")) <= 3
    # ... as a recorded failure, so the user learns why the page never arrived.
    failures = crawled.sql("select url, kind, reason from failures where kind = 'redirect'")
    assert [urlsplit(f["url"]).path for f in failures] == ["/loop-b"]
    assert failures[0]["reason"].endswith("/loop-a -> " + crawled.server.base_url + "/loop-b -> "
                                          + crawled.server.base_url + "/loop-a")  # fmt: skip


def test_error_pages_archived_and_recorded(crawled: Crawl, records: list) -> None:
    assert head_lines(only_response(records, "/missing", crawled))[0].startswith(b"HTTP/1.1 404")
    errors = responses(records, "/broken", crawled)
    assert errors and all(head_lines(r)[0].startswith(b"HTTP/1.1 500") for r in errors)
    failures = {(f["url"], f["kind"], f["status"]) for f in crawled.sql("select * from failures")}
    base = crawled.server.base_url
    assert (base + "/missing", "http", 404) in failures
    assert (base + "/broken", "http", 500) in failures


def test_robots_obeyed_and_archived(crawled: Crawl, records: list) -> None:
    robots = only_response(records, "/robots.txt", crawled)
    assert b"Disallow: /private/" in robots.payload
    assert not crawled.requested("/private/secret.html")
    kinds = {f["url"]: f["kind"] for f in crawled.sql("select url, kind from failures")}
    assert kinds[crawled.server.base_url + "/private/secret.html"] == "robots"


def test_sitemaps_and_feed_discovery(crawled: Crawl, records: list) -> None:
    for path in ("/sitemap_index.xml", "/sitemap-pages.xml", "/sitemap.xml", "/feed.xml"):
        only_response(records, path, crawled)
    for path in ("/only-in-sitemap/", "/only-in-default-sitemap/", "/only-in-feed/"):
        record = only_response(records, path, crawled)
        assert head_lines(record)[0] == b"HTTP/1.0 200 OK" or b" 200 " in head_lines(record)[0]


def test_non_html_archived(crawled: Crawl, records: list) -> None:
    pdf = only_response(records, "/files/review.pdf", crawled)
    assert pdf.payload == (crawled.server.sent["/files/review.pdf"])
    assert pdf.payload.startswith(b"%PDF")


def test_scope_and_schemes(crawled: Crawl) -> None:
    here = crawled.server.base_url.split("//")[1]
    offsite = [e.path for e in crawled.log if e.header("Host") != here]
    # Only a page requisite (an image an article shows) may come from another host.
    assert offsite and set(offsite) <= {"/robots.txt", "/static/offsite.png"}, offsite
    assert not crawled.requested("/offsite/")
    assert not any("passwd" in e.path or e.path.startswith("/pub") for e in crawled.log)


def test_page_requisites_archived_once(crawled: Crawl, records: list) -> None:
    for path in (
        "/static/site.css",
        "/static/print.css",
        "/static/paper.png",
        "/static/cover.png",
        "/static/fonts/serif.woff2",
    ):
        record = only_response(records, path, crawled)
        assert record.payload == crawled.server.sent[path]
    offsite = crawled.server.base_url.replace("127.0.0.1", "localhost") + "/static/offsite.png"
    assert [r for r in records if r.header("WARC-Target-URI") == offsite]


def test_calendar_trap_bounded(crawled: Crawl) -> None:
    months = [e for e in crawled.log if e.path.startswith("/calendar/")]
    assert 3 <= len(months) <= 45  # depth limit 20 each way


def test_repeating_path_not_followed(crawled: Crawl) -> None:
    assert not crawled.requested("/repeat/repeat/repeat/repeat/")


def test_bombs_refused_and_recorded(crawled: Crawl, records: list) -> None:
    failures = {f["url"]: f for f in crawled.sql("select * from failures")}
    for path in ("/bomb/gzip/", "/bomb/br/"):
        failure = failures[crawled.server.base_url + path]
        assert failure["kind"] == "too_large", failure
        # What the server sent is archived as sent (small, still compressed).
        assert only_response(records, path, crawled).payload == crawled.server.bomb(
            path.split("/")[2]
        )


def test_timeout_recorded(crawled: Crawl) -> None:
    failures = {f["url"]: f for f in crawled.sql("select * from failures")}
    assert failures[crawled.server.base_url + "/slow/"]["kind"] == "timeout"


def test_user_agent_names_reviewarc_with_contact(crawled: Crawl) -> None:
    agents = {e.header("User-Agent") for e in crawled.log}
    assert len(agents) == 1
    agent = agents.pop()
    assert agent.startswith("reviewarc/") and "+http" in agent


def test_every_capture_row_points_at_its_record(crawled: Crawl) -> None:
    rows = crawled.sql("select * from captures order by id")
    assert len(rows) >= 25
    for row in rows:
        record = read_record(crawled.data / "warcs" / row["warc_file"], row["warc_offset"])
        assert record.record_type == row["record_type"] == "response"
        assert record.header("WARC-Target-URI") == row["url"]
        assert record.header("WARC-Date") == row["fetched_at"]
        assert record.header("WARC-Payload-Digest") == row["payload_digest"]
        assert record.header("WARC-Record-ID") == row["warc_record_id"]
        assert record.length == row["warc_length"]
        assert int(head_lines(record)[0].split()[1]) == row["status"]


def test_crawl_row_records_outcome(crawled: Crawl) -> None:
    (crawl,) = crawled.sql("select * from crawls")
    assert crawl["outcome"] == "finished"
    assert crawl["captures"] == len(crawled.sql("select id from captures"))
    assert crawl["failures"] >= 5


def test_archive_db_alone_holds_the_whole_database(crawled: Crawl, tmp_path) -> None:
    """After the crawl the write-ahead log is folded back: copying archive.db is enough."""
    import shutil
    import sqlite3

    copy = tmp_path / "archive.db"
    shutil.copyfile(crawled.data / "archive.db", copy)
    con = sqlite3.connect(copy)
    try:
        rows = con.execute("select count(*) from captures").fetchone()[0]
    finally:
        con.close()
    assert rows == crawled.sql("select count(*) as n from captures")[0]["n"] > 10
