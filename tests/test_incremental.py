"""Incremental crawls: conditional requests, revisit records, versions of changed reviews."""

from __future__ import annotations

import json

import pytest

from archive.warc_reader import iter_records, read_record
from tests.conftest import (
    REPLAY_ADDRESS,
    Crawl,
    get,
    replay_command,
    run_reviewarc,
    running,
    warcio_check,
)
from tests.mockserver import FixtureServer

SEEDS = ("/cond/a/", "/plain/a/")
PAGES = [f"/{section}/{name}/" for section in ("cond", "plain") for name in ("a", "b", "edited")]


@pytest.fixture(scope="module")
def server():
    server = FixtureServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def crawls(server: FixtureServer, tmp_path_factory: pytest.TempPathFactory) -> list[Crawl]:
    """Three crawls of one site: the second after an edit, the third with no change."""
    data = tmp_path_factory.mktemp("incremental") / "data"
    done = []
    for edition in (1, 2, 2):
        server.edition = edition
        start = len(server.log)
        result = run_reviewarc(
            "crawl", *(server.base_url + s for s in SEEDS), "--data", str(data),
            "--set", "DOWNLOAD_TIMEOUT=1.5",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        done.append(Crawl(result, data, server, server.log[start:]))
    return done


def rows(crawl: Crawl, crawl_id: int) -> dict[str, dict]:
    base = crawl.server.base_url
    return {
        r["url"][len(base) :]: r
        for r in crawl.sql(f"select * from captures where crawl_id = {crawl_id}")
    }


def test_second_crawl_sends_validators(crawls: list[Crawl]) -> None:
    first, second, _ = crawls
    assert not any(e.header("If-None-Match") for e in first.log)
    sent = {e.path: e.header("If-None-Match") for e in second.log if e.path.startswith("/cond/")}
    assert sent == {"/cond/a/": '"a-1"', "/cond/b/": '"b-1"', "/cond/edited/": '"edited-1"'}
    assert not any(e.header("If-None-Match") for e in second.log if e.path.startswith("/plain/"))


def test_unchanged_pages_become_revisits(crawls: list[Crawl]) -> None:
    second = crawls[1]
    first_rows, second_rows = rows(second, 1), rows(second, 2)
    for path, profile, status in (
        ("/cond/a/", "server-not-modified", 304),
        ("/cond/b/", "server-not-modified", 304),
        ("/plain/a/", "identical-payload-digest", 200),
        ("/plain/b/", "identical-payload-digest", 200),
    ):
        row = second_rows[path]
        assert (row["record_type"], row["status"]) == ("revisit", status), path
        original = first_rows[path]
        assert row["refers_to_id"] == original["id"]
        record = read_record(second.data / "warcs" / row["warc_file"], row["warc_offset"])
        assert record.record_type == "revisit"
        assert record.header("WARC-Profile").endswith("/revisit/" + profile)
        assert record.header("WARC-Refers-To-Target-URI") == original["url"]
        assert record.header("WARC-Refers-To-Date") == original["fetched_at"]
        assert record.header("WARC-Refers-To") == original["warc_record_id"]
        assert record.header("WARC-Payload-Digest") == original["payload_digest"]
        assert record.payload == b""  # the HTTP head only
    for path in ("/cond/edited/", "/plain/edited/"):
        assert second_rows[path]["record_type"] == "response"


def test_versions_only_for_the_edited_reviews(crawls: list[Crawl]) -> None:
    crawl = crawls[-1]
    base = crawl.server.base_url
    counts = {
        r["url"][len(base) :]: r["n"]
        for r in crawl.sql("select url, count(*) as n from article_versions group by url")
    }
    for path in PAGES:
        assert counts[path] == (2 if path.endswith("/edited/") else 1), path
    (article,) = crawl.sql(f"select text from articles where url = '{base}/cond/edited/'")
    assert "edition 2" in article["text"]


def test_unchanged_site_gets_no_full_response(crawls: list[Crawl]) -> None:
    third = crawls[2]
    changing = {"/changing/"}  # answers differently every time
    full = [
        path for path, row in rows(third, 3).items()
        if row["record_type"] == "response" and row["status"] == 200 and path not in changing
    ]  # fmt: skip
    assert full == []
    assert any(r["record_type"] == "revisit" for r in rows(third, 3).values())


def test_links_are_followed_through_unchanged_pages(crawls: list[Crawl]) -> None:
    # /cond/b/ is linked only from /cond/ pages, which answered 304 in the third crawl.
    assert "/cond/b/" in rows(crawls[2], 3)


def test_warcs_valid_and_revisits_replayable(crawls: list[Crawl]) -> None:
    crawl = crawls[-1]
    warcs = sorted((crawl.data / "warcs").glob("*.warc.gz"))
    assert warcio_check(warcs).returncode == 0
    assert sum(r.record_type == "revisit" for p in warcs for r in iter_records(p)) >= 8
    with running(replay_command(crawl.data), REPLAY_ADDRESS) as server:
        (port,) = server.ports
        base = crawl.server.base_url
        for path in ("/cond/a/", "/plain/a/"):
            stamp = "".join(c for c in rows(crawl, 3)[path]["fetched_at"] if c.isdigit())[:14]
            status, _, body = get(port, f"/web/{stamp}id_/{base}{path}")
            assert status == 200, path
            assert b"edition 1" in body


def test_show_diff(crawls: list[Crawl]) -> None:
    crawl = crawls[-1]
    url = crawl.server.base_url + "/cond/edited/"
    out = run_reviewarc("show", url, "--diff", "--data", str(crawl.data))
    assert out.returncode == 0, out.stderr
    assert "2 version(s)" in out.stdout
    assert "edition 1" in out.stdout and "edition 2" in out.stdout
    data = json.loads(
        run_reviewarc("show", url, "--diff", "--json", "--data", str(crawl.data)).stdout
    )
    (diff,) = data["diffs"]
    assert "-Review edited, edition 1." in diff and "+Review edited, edition 2." in diff


def test_reprocess_keeps_revisits(crawls: list[Crawl], tmp_path) -> None:
    import shutil

    crawl = crawls[-1]
    shutil.copytree(crawl.data / "warcs", tmp_path / "warcs")
    out = run_reviewarc("reprocess", "--data", str(tmp_path))
    assert out.returncode == 0, out.stderr[-2000:]
    again = Crawl(out, tmp_path, crawl.server)
    query = (
        "select url, status, record_type, payload_digest, warc_file, warc_offset, etag "
        "from captures order by warc_file, warc_offset"
    )
    assert again.sql(query) == crawl.sql(query)
    versions = "select url, text_hash, first_seen from article_versions order by url, first_seen"
    assert again.sql(versions) == crawl.sql(versions)


def test_sitemap_lastmod_skips_unchanged_pages(crawls: list[Crawl]) -> None:
    first, second, third = crawls
    # Listed only in the sitemap, with a lastmod older than its first capture.
    assert first.requested("/only-in-sitemap/")
    assert not second.requested("/only-in-sitemap/") and not third.requested("/only-in-sitemap/")
