"""Other tools' WARCs into ``reviewarc reprocess``: wget ``--warc-file`` and warcio's
``capture_http`` against a local site, and files of the shapes other archivers write (ARC,
uncompressed WARC, chunked and content-coded payloads, bare LF heads, records cut short, files
that are not WARCs). Captures equal warcio's count, article text equals what a crawl of the
same pages stores, and every broken file is one line and a ``failures`` row while the other
files are still read."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.capture_http import capture_http
from warcio.warcwriter import WARCWriter

from tests.conftest import REPLAY_ADDRESS, get, read_sql, replay_command, run_reviewarc, running

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "warc-samples"


def review(title: str, critic: str, words: str) -> bytes:
    paragraphs = "".join(
        f"<p>{words} Paragraph {i} of the review weighs the pacing, the score and the cast "
        f"against each other, and says why the {title.lower()} lingers after the credits.</p>"
        for i in range(1, 7)
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta name='author' content='{critic}'>"
        "<meta property='article:published_time' content='2026-03-04T10:00:00Z'>"
        f"</head><body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>"
        f"<p class='byline'>By {critic}, March 4, 2026</p>{paragraphs}</article>"
        "<footer>Interop Reviews</footer></body></html>"
    ).encode()


PAGES = {
    "/reviews/plain": review("Harbour Lights", "Ines Varga", "A plain response."),
    "/reviews/chunked": review("Paper Rivers", "Tomas Okafor", "Sent in chunks."),
    "/reviews/gzip-chunked": review("Cold Orchard", "Mina Sato", "Gzipped, then chunked."),
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/":
            links = "".join(f"<a href='{p}'>{p}</a> " for p in PAGES)
            body, how = f"<html><body>{links}</body></html>".encode(), "plain"
        elif self.path in PAGES:
            body, how = PAGES[self.path], self.path.rsplit("/", 1)[1]
        else:
            body, how = b"<p>no such page</p>", "plain"
        self.send_response(200 if self.path == "/" or self.path in PAGES else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if how == "gzip-chunked":
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        if how == "plain":
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(body), 700):
            part = body[start : start + 700]
            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def crawled_text(site: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What a crawl of the same pages stores: article text by URL."""
    data = tmp_path_factory.mktemp("crawl")
    result = run_reviewarc("crawl", site + "/", "--data", str(data), "--no-requisites")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_sql(data, "select url, text from articles")
    texts = {row["url"]: row["text"] for row in rows}
    assert set(texts) == {site + p for p in PAGES}, texts.keys()
    return texts


def responses(path: Path) -> int:
    """warcio's count of response and revisit records (ARC records converted)."""
    with open(path, "rb") as fh:
        return sum(
            r.rec_type in ("response", "revisit") for r in ArchiveIterator(fh, arc2warc=True)
        )


def reprocessed(data: Path) -> subprocess.CompletedProcess:
    result = run_reviewarc("reprocess", "--data", str(data))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stdout + result.stderr
    return result


def assert_same_articles(data: Path, site: str, crawled_text: dict[str, str]) -> None:
    rows = read_sql(data, "select url, text from articles")
    texts = {row["url"]: row["text"] for row in rows}
    assert texts == crawled_text
    for text in texts.values():
        assert "\n2bc\n" not in f"\n{text}\n"  # no chunk-size line (700 bytes) in the text


def test_wget_warc_file_is_read_as_a_crawl_reads_the_pages(
    site: str, crawled_text: dict[str, str], outside: Path
) -> None:
    tmp_path = outside  # a WARC of another tool's: no warcinfo record first
    warcs = tmp_path / "warcs"
    urls = [site + p for p in PAGES]
    subprocess.run(
        ["wget", "--quiet", "--warc-file", str(warcs / "wget"), "--no-warc-keep-log",
         "--directory-prefix", str(tmp_path / "files"), *urls],
        check=True, timeout=60,
    )  # fmt: skip
    warc = warcs / "wget.warc.gz"
    raw = gzip.decompress(warc.read_bytes())
    assert b"Transfer-Encoding: chunked" in raw  # wget keeps the chunk framing as sent
    reprocessed(tmp_path)
    (count,) = read_sql(tmp_path, "select count(*) n from captures")[0].values()
    assert count == responses(warc) == 3
    assert_same_articles(tmp_path, site, crawled_text)


def test_warcio_capture_http_is_read_as_a_crawl_reads_the_pages(
    site: str, crawled_text: dict[str, str], outside: Path
) -> None:
    tmp_path = outside  # a WARC of another tool's: no warcinfo record first
    warcs = tmp_path / "warcs"
    warc = warcs / "captured.warc.gz"
    with capture_http(str(warc)):
        for path in PAGES:
            with urllib.request.urlopen(site + path, timeout=30) as answer:
                answer.read()
    reprocessed(tmp_path)
    (count,) = read_sql(tmp_path, "select count(*) n from captures")[0].values()
    assert count == responses(warc) == 3
    assert_same_articles(tmp_path, site, crawled_text)


@pytest.fixture
def outside() -> Iterator[Path]:
    """A data directory outside pytest's temporary tree, for WARC files broken on purpose or
    written by others (the session's end checks every WARC file under that tree), with its
    ``warcs/``."""
    with tempfile.TemporaryDirectory() as path:
        (Path(path) / "warcs").mkdir()
        yield Path(path)


# -- files of other shapes, written here ---------------------------------------------------


def http_response(body: bytes, *head: str, eol: bytes = b"\r\n") -> bytes:
    lines = ["HTTP/1.1 200 OK", *head, f"Content-Length: {len(body)}"]
    return eol.join(line.encode() for line in lines) + eol + eol + body


def warc_file(path: Path, records: list[tuple[str, bytes]], gzipped: bool = True) -> Path:
    """A WARC of response records ``(url, http block)``, written by warcio."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gzipped)
        for url, block in records:
            record = writer.create_warc_record(
                url, "response", payload=BytesIO(block), length=len(block),
                warc_content_type="application/http; msgtype=response",
            )  # fmt: skip
            writer.write_record(record)
    return path


def arc_file(path: Path, url: str, block: bytes) -> Path:
    """An ARC file (version 1): its ``filedesc://`` header, then one record, gzipped per
    record as Heritrix 1 wrote them."""
    meta = b'<?xml version="1.0"?>\n<arcmetadata/>\n'
    version = b"1 1 InternetArchive\nURL IP-address Archive-date Content-type Archive-length\n"
    desc_body = version + meta
    header = f"filedesc://{path.name} 0.0.0.0 20080430204825 text/plain {len(desc_body)}\n"
    record = f"{url} 192.0.2.7 20080430204826 text/html {len(block)}\n".encode() + block + b"\n"
    with open(path, "wb") as fh:
        fh.write(gzip.compress(header.encode() + desc_body + b"\n"))
        fh.write(gzip.compress(record))
    return path


PAGE = review("Glass Tides", "Rosa Linde", "Archived by another tool.")
HTML = http_response(PAGE, "Content-Type: text/html")


def test_arc_uncompressed_warc_lf_heads_and_precoded_bodies_are_read(outside: Path) -> None:
    tmp_path = outside
    warcs = tmp_path / "warcs"
    arc = arc_file(
        warcs / "heritrix1.arc.gz", "http://old.example/reviews/glass-tides",
        http_response(PAGE, "Content-Type: text/html"),
    )  # fmt: skip
    plain = warc_file(
        warcs / "plain.warc",
        [("http://plain.example/reviews/glass-tides", HTML)],
        gzipped=False,
    )  # fmt: skip
    lf = warc_file(
        warcs / "nutch.warc.gz",
        [
            (  # ClueWeb09: bare LF header lines, and the body stored decoded under its coding
                "http://lf.example/reviews/glass-tides",
                http_response(PAGE, "Content-Type: text/html", "Content-Encoding: gzip", eol=b"\n"),
            )
        ],
    )  # fmt: skip
    result = reprocessed(tmp_path)
    assert "4 WARC file(s)" not in result.stdout and "3 WARC file(s)" in result.stdout
    rows = read_sql(
        tmp_path, "select url, status, content_type, fetched_at from captures order by url"
    )
    assert [(r["url"], r["status"], r["content_type"]) for r in rows] == [
        ("http://lf.example/reviews/glass-tides", 200, "text/html"),
        ("http://old.example/reviews/glass-tides", 200, "text/html"),
        ("http://plain.example/reviews/glass-tides", 200, "text/html"),
    ]
    assert rows[1]["fetched_at"].startswith("2008-04-30T20:48:26")
    assert sum(responses(p) for p in (arc, plain, lf)) == 3
    articles = read_sql(tmp_path, "select url, title, author from articles order by url")
    assert [(a["title"], a["author"]) for a in articles] == [("Glass Tides", "Rosa Linde")] * 3
    # replay serves each capture's bytes as stored: the ARC's, the plain WARC's
    with running(replay_command(tmp_path), REPLAY_ADDRESS) as server:
        for url in (
            "http://old.example/reviews/glass-tides",
            "http://plain.example/reviews/glass-tides",
        ):
            status, _, body = get(server.ports[0], f"/web/2026id_/{url}")
            assert (status, body) == (200, PAGE), url
    # the same reading twice gives the same record ids (warcio makes random ones for ARC)
    first = read_sql(tmp_path, "select warc_record_id from captures order by url")
    (tmp_path / "archive.db").unlink()
    reprocessed(tmp_path)
    assert read_sql(tmp_path, "select warc_record_id from captures order by url") == first


def test_broken_files_are_one_line_each_and_the_others_are_read(outside: Path) -> None:
    tmp_path = outside
    warcs = tmp_path / "warcs"
    good = http_response(PAGE, "Content-Type: text/html")
    whole = warc_file(tmp_path / "whole.warc.gz", [("http://cut.example/a", good)] * 2)
    # a-: cut in the middle of its second record (a crash, a copy that stopped)
    data = whole.read_bytes()
    (warcs / "a-cut.warc.gz").write_bytes(data[: len(data) - 100])
    # b-: one record whose block is shorter than its Content-Length, in a member of its own
    short = BytesIO()
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://short.example/\r\n"
        "WARC-Date: 2026-03-04T10:00:00Z\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-"
        f"000000000001>\r\nContent-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(good) + 5000}\r\n\r\n"
    ).encode()
    short.write(gzip.compress(head + good))
    (warcs / "b-short.warc.gz").write_bytes(short.getvalue())
    # c-: HTML named .warc.gz; d-: an empty file; e-: the whole file one gzip stream
    (warcs / "c-page.warc.gz").write_bytes(PAGE)
    (warcs / "d-empty.warc.gz").write_bytes(b"")
    plain = warc_file(tmp_path / "plain.warc", [("http://one.example/a", good)], gzipped=False)
    (warcs / "e-one-stream.warc.gz").write_bytes(gzip.compress(plain.read_bytes() * 2))
    # z-: a good file after them all
    warc_file(warcs / "z-good.warc.gz", [("http://good.example/reviews/glass-tides", good)])

    result = reprocessed(tmp_path)
    said = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    assert "6 WARC file(s)" in result.stdout
    expected = {
        "a-cut.warc.gz": "cut short",
        "b-short.warc.gz": "cut short",
        "c-page.warc.gz": "not a WARC or ARC record",
        "d-empty.warc.gz": "empty file",
        "e-one-stream.warc.gz": "one gzip stream",
    }
    for name, what in expected.items():
        lines = [line for line in said if name in line]
        assert len(lines) == 1, (name, said)
        assert (what in lines[0] and "offset" in lines[0]) or name == "d-empty.warc.gz", lines
    assert len(said) == len(expected), said
    failures = read_sql(tmp_path, "select url, kind, reason from failures order by reason")
    assert [f["kind"] for f in failures] == ["warc"] * len(expected)
    # what was whole before the break is kept; the good file after the broken ones is read
    urls = [r["url"] for r in read_sql(tmp_path, "select url from captures order by url")]
    assert urls == [
        "http://cut.example/a",
        "http://good.example/reviews/glass-tides",
        "http://one.example/a",
    ]
    assert [r["url"] for r in read_sql(tmp_path, "select url from articles order by url")] == urls
    # read again: the same failures, not twice
    reprocessed(tmp_path)
    assert read_sql(tmp_path, "select url, kind, reason from failures order by reason") == failures


# -- the ecosystem's own samples, where this machine has them -------------------------------

BROKEN = {
    "warcio/example-bad-non-chunked.warc.gz": "one gzip stream",
    "warcio/example-wrong-chunks.warc.gz": "cut short",
    "resiliparse/clipped.warc.gz": "cut short",
}


def _samples() -> list[str]:
    if not SAMPLES.is_dir():
        return []
    names = ("*.warc", "*.warc.gz", "*.arc", "*.arc.gz")
    return sorted(str(p.relative_to(SAMPLES)) for n in names for p in SAMPLES.rglob(n))


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"no samples at {SAMPLES}")
@pytest.mark.parametrize("sample", _samples())
def test_a_sample_of_another_tool_is_read(sample: str, outside: Path) -> None:
    tmp_path = outside
    shutil.copy(SAMPLES / sample, tmp_path / "warcs")
    result = reprocessed(tmp_path)
    assert "1 WARC file(s)" in result.stdout
    (count,) = read_sql(tmp_path, "select count(*) n from captures")[0].values()
    if sample in BROKEN:
        assert BROKEN[sample] in result.stderr
        assert read_sql(tmp_path, "select kind from failures")[0]["kind"] == "warc"
        return
    assert count == responses(SAMPLES / sample)
    assert not read_sql(tmp_path, "select url from captures where url = '' or fetched_at = ''")
