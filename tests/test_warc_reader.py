"""The WARC reader on real files: every stored header comes back, in order, parsed by warcio.

Files are written by :class:`archive.warc_writer.WARCFileWriter` (and, for a record shape the
crawl never writes, by warcio's own writer), read back by :mod:`archive.warc_reader`, and
checked independently with warcio's :class:`ArchiveIterator` and ``warcio check``.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from archive.exchange import Exchange, RequestHead, ResponseHead
from archive.warc_reader import StoredRecord, iter_records, read_record, warcinfo_fields
from archive.warc_writer import IDENTICAL_PAYLOAD, Revisit, WARCFileWriter, sha1_digest
from tests.conftest import warcio_check

WHEN = datetime(2026, 3, 14, 9, 30, 0, 123456, tzinfo=UTC)
BODY = b"<!doctype html><title>Film</title><p>A review.</p>"
WARCINFO = {
    "software": "reviewarc-test",
    "isPartOf": "films",
    "article-pattern": "/reviews/[^/]+/$",
    "description": "Critiques de cin\u00e9ma \u2713",
}
#: A response head as a server sent it: two Set-Cookie, two Link and two Vary, interleaved.
HEADERS = [
    (b"Content-Type", b"text/html; charset=utf-8"),
    (b"Set-Cookie", b"session=abc; Path=/; HttpOnly"),
    (b"Link", b"</style.css>; rel=preload; as=style"),
    (b"Vary", b"Accept-Encoding"),
    (b"Set-Cookie", b"theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT"),
    (b"Link", b"</font.woff2>; rel=preload; as=font"),
    (b"Vary", b"Cookie"),
    (b"ETag", b'"v1"'),
    (b"Content-Length", str(len(BODY)).encode()),
]


def fixed_writer(directory: Path) -> WARCFileWriter:
    ids = (f"<urn:uuid:00000000-0000-4000-8000-{n:012d}>" for n in itertools.count(1))
    return WARCFileWriter(
        directory, clock=lambda: WHEN, record_id=lambda: next(ids), warcinfo=WARCINFO
    )


def exchange(url: str, response: ResponseHead, body: bytes = BODY) -> Exchange:
    request = RequestHead(b"GET", url, [(b"User-Agent", b"ua")])
    return Exchange(url, WHEN, request, response, body, ip_address="192.0.2.7")


def write(directory: Path, *exchanges: Exchange | tuple[Exchange, Revisit]) -> Path:
    with fixed_writer(directory) as writer:
        for item in exchanges:
            if isinstance(item, tuple):
                writer.write_exchange(*item)
            else:
                writer.write_exchange(item)
    (path,) = directory.glob("*.warc.gz")
    assert warcio_check([path]).returncode == 0
    return path


def responses(path: Path) -> dict[str, StoredRecord]:
    """The response and revisit records of ``path`` by target URI."""
    return {
        r.header("WARC-Target-URI") or "": r
        for r in iter_records(path)
        if r.record_type in ("response", "revisit")
    }


def warcio_heads(path: Path) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """What warcio itself parses from the same file: status line and headers by URI."""
    with open(path, "rb") as fh:
        return {
            r.rec_headers.get_header("WARC-Target-URI"): (
                r.http_headers.statusline if r.http_headers else "",
                list(r.http_headers.headers) if r.http_headers else [],
            )
            for r in ArchiveIterator(fh)
            if r.rec_type in ("response", "revisit")
        }


def test_repeated_headers_come_back_with_every_value_in_order(tmp_path: Path) -> None:
    url = "http://site.test/reviews/film/"
    path = write(tmp_path, exchange(url, ResponseHead(200, HEADERS, raw=True)))
    stored = [(k.decode(), v.decode()) for k, v in HEADERS]

    record = responses(path)[url]
    again = read_record(path, record.offset)
    for r in (record, again):
        headers = r.http_headers
        assert headers["link"] == (
            "</style.css>; rel=preload; as=style, </font.woff2>; rel=preload; as=font"
        )
        assert headers["vary"] == "Accept-Encoding, Cookie"
        # Set-Cookie cannot be joined (its values hold commas): the first, and all in the list.
        assert headers["set-cookie"] == "session=abc; Path=/; HttpOnly"
        assert [v for k, v in r.http_header_list if k.lower() == "set-cookie"] == [
            "session=abc; Path=/; HttpOnly",
            "theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
        ]
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert headers["etag"] == '"v1"'
        assert r.http_header_list == stored
        assert r.http_status == 200
        assert r.payload == BODY
        assert r.http_head + r.payload == (
            b"HTTP/1.1 200 OK\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in HEADERS)
            + b"\r\n" + BODY
        )  # fmt: skip
    assert again == record  # same record read by offset as in order

    # warcio, reading the file on its own, sees the same head.
    assert warcio_heads(path)[url] == ("200 OK", stored)


def test_a_header_value_that_is_not_utf8_reads_back_byte_for_byte(tmp_path: Path) -> None:
    url = "http://site.test/latin/"
    headers = [
        (b"Content-Type", b"text/html; charset=iso-8859-1"),
        (b"Content-Disposition", b'inline; filename="caf\xe9.html"'),  # ISO-8859-1 e-acute
        (b"X-Utf8", b"caf\xc3\xa9"),  # the same word in UTF-8, on the same head
    ]
    path = write(tmp_path, exchange(url, ResponseHead(200, headers, raw=True)))
    record = responses(path)[url]
    value = record.http_headers["content-disposition"]
    assert value == 'inline; filename="caf\u00e9.html"'
    assert value.encode("latin-1") == b'inline; filename="caf\xe9.html"'
    # Every value decodes one byte to one character, so the stored bytes are always at hand.
    assert record.http_headers["x-utf8"].encode("latin-1").decode("utf-8") == "caf\u00e9"
    assert [(k.encode(), v.encode("latin-1")) for k, v in record.http_header_list] == headers
    assert record.payload == BODY


def test_a_status_line_without_reason_phrase(tmp_path: Path) -> None:
    url = "http://site.test/odd/"
    head = ResponseHead(599, [(b"Content-Type", b"text/plain")], reason=b"", raw=True)
    path = write(tmp_path, exchange(url, head, b"odd"))
    record = responses(path)[url]
    assert record.http_head.startswith(b"HTTP/1.1 599\r\n")
    assert record.http_status == 599
    assert record.http_headers == {"content-type": "text/plain"}
    assert record.payload == b"odd"
    assert warcio_heads(path)[url] == ("599", [("Content-Type", "text/plain")])


def test_a_revisit_holding_the_head_alone(tmp_path: Path) -> None:
    url = "http://site.test/reviews/again/"
    first = exchange(url, ResponseHead(200, HEADERS, raw=True))
    not_modified = ResponseHead(304, [(b"ETag", b'"v1"'), (b"Link", b"</a>"), (b"Link", b"</b>")])
    revisit = Revisit(
        IDENTICAL_PAYLOAD, url, "2026-03-14T09:30:00.123456Z",
        "<urn:uuid:00000000-0000-4000-8000-000000000002>", sha1_digest(BODY),
    )  # fmt: skip
    path = write(tmp_path, first, (exchange(url, not_modified, b""), revisit))
    records = [r for r in iter_records(path) if r.record_type == "revisit"]
    assert len(records) == 1
    record = records[0]
    assert record.http_status == 304
    assert record.http_headers == {"etag": '"v1"', "link": "</a>, </b>"}
    assert (
        record.http_head
        == b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nLink: </a>\r\nLink: </b>\r\n\r\n'
    )
    assert record.payload == b""
    assert read_record(path, record.offset).http_header_list == [
        ("ETag", '"v1"'),
        ("Link", "</a>"),
        ("Link", "</b>"),
    ]


def test_a_revisit_with_an_empty_block_and_a_bare_lf_head(tmp_path: Path) -> None:
    """Records the crawl never writes but another tool may: read as warcio reads them."""
    path = tmp_path / "other-20260314093000000-00000.warc.gz"
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "other"}))
        writer.write_record(writer.create_revisit_record(
            "http://other.test/empty", sha1_digest(BODY), "http://other.test/empty",
            "2026-03-13T00:00:00Z",
        ))  # fmt: skip
        block = b"HTTP/1.0 200 OK\nContent-Type: text/html\nLink: </a>\nLink: </b>\n\n" + BODY
        writer.write_record(writer.create_warc_record(
            "http://other.test/lf", "response", payload=BytesIO(block), length=len(block),
            warc_content_type="application/http; msgtype=response",
        ))  # fmt: skip
    assert warcio_check([path]).returncode == 0
    by_uri = responses(path)

    empty = by_uri["http://other.test/empty"]
    assert (empty.http_status, empty.http_headers, empty.http_header_list) == (0, {}, [])
    assert (empty.http_head, empty.payload) == (b"", b"")

    lf = by_uri["http://other.test/lf"]
    assert lf.http_status == 200
    assert lf.http_headers == {"content-type": "text/html", "link": "</a>, </b>"}
    assert lf.payload == BODY
    assert warcio_heads(path)["http://other.test/lf"][1] == lf.http_header_list
    assert warcinfo_fields(next(iter_records(path))) == {"software": "other"}


def test_warcinfo_fields(tmp_path: Path) -> None:
    path = write(tmp_path, exchange("http://site.test/", ResponseHead(200, HEADERS, raw=True)))
    records = list(iter_records(path))
    info = records[0]
    assert info.record_type == "warcinfo"
    expected = {k.lower(): v for k, v in WARCINFO.items()}  # UTF-8 values come back as text
    assert warcinfo_fields(info) == expected
    assert warcinfo_fields(read_record(path, 0)) == expected
    assert warcinfo_fields(records[1]) == {}  # a response holds no warc-fields
    with open(path, "rb") as fh:
        block = next(iter(ArchiveIterator(fh))).content_stream().read()
    assert block.decode("utf-8").splitlines() == [f"{k}: {v}" for k, v in WARCINFO.items()]
