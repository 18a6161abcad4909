"""The WARC writer alone: deterministic output, read back by warcio and checked by it."""

from __future__ import annotations

import gzip
import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.errors import WARCWriteError
from archive.exchange import Exchange, RequestHead, ResponseHead
from archive.warc_reader import iter_records
from archive.warc_writer import WARCFileWriter, sha1_digest
from tests.conftest import warcio_check

WHEN = datetime(2026, 3, 14, 9, 30, 0, 123456, tzinfo=UTC)


def fixed_writer(directory: Path, **kwargs) -> WARCFileWriter:
    ids = (f"<urn:uuid:00000000-0000-4000-8000-{n:012d}>" for n in itertools.count(1))
    return WARCFileWriter(
        directory,
        clock=lambda: WHEN,
        record_id=lambda: next(ids),
        warcinfo={"software": "reviewarc-test"},
        **kwargs,
    )


def exchange(body: bytes = b"<p>hello</p>", url: str = "http://site.test/a?x=1&y=2", **kw):
    response_headers = kw.pop(
        "response_headers",
        [(b"Content-Type", b"text/html"), (b"Content-Length", str(len(body)).encode())],
    )
    return Exchange(
        url=url,
        date=WHEN,
        request=RequestHead(
            b"GET",
            url,
            [
                (b"User-Agent", b"ua"),
                (b"Cookie", b"sid=SECRET"),
                (b"Authorization", b"Bearer SECRET"),
                (b"Proxy-Authorization", b"Basic SECRET"),
            ],
        ),
        response=ResponseHead(200, response_headers, b"HTTP/1.1", b"OK", raw=True),
        body=body,
        ip_address="192.0.2.7",
        **kw,
    )


def test_golden_pair(tmp_path: Path) -> None:
    with fixed_writer(tmp_path) as writer:
        written = writer.write_exchange(exchange())
    (path,) = tmp_path.glob("*.warc.gz")
    assert path.name == "reviewarc-20260314093000123-00000.warc.gz"
    members = []
    data = path.read_bytes()
    records = list(iter_records(path))
    bounds = [r.offset for r in records] + [len(data)]
    members = [gzip.decompress(data[a:b]) for a, b in itertools.pairwise(bounds)]
    assert members[1] == (
        b"WARC/1.1\r\n"
        b"WARC-Type: response\r\n"
        b"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000002>\r\n"
        b"WARC-Date: 2026-03-14T09:30:00.123456Z\r\n"
        b"WARC-Target-URI: http://site.test/a?x=1&y=2\r\n"
        b"WARC-IP-Address: 192.0.2.7\r\n"
        b"WARC-Warcinfo-ID: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
        b"WARC-Concurrent-To: <urn:uuid:00000000-0000-4000-8000-000000000003>\r\n"
        b"WARC-Payload-Digest: " + sha1_digest(b"<p>hello</p>").encode() + b"\r\n"
        b"WARC-Block-Digest: "
        + sha1_digest(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\n<p>hello</p>"
        ).encode()
        + b"\r\n"
        b"Content-Type: application/http;msgtype=response\r\n"
        b"Content-Length: 76\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\n<p>hello</p>"
        b"\r\n\r\n"
    )
    assert written.response.offset == bounds[1]
    assert written.request.offset == bounds[2]
    assert written.warc_date == "2026-03-14T09:30:00.123456Z"
    assert warcio_check([path]).returncode == 0


def test_request_record_redacts_credentials(tmp_path: Path) -> None:
    with fixed_writer(tmp_path) as writer:
        writer.write_exchange(exchange())
    (path,) = tmp_path.glob("*.warc.gz")
    request = next(r for r in iter_records(path) if r.record_type == "request")
    assert request.http_head == (
        b"GET /a?x=1&y=2 HTTP/1.1\r\nHost: site.test\r\nUser-Agent: ua\r\n\r\n"
    )
    assert b"SECRET" not in path.read_bytes() and b"SECRET" not in gzip.decompress(
        path.read_bytes()
    )


def test_chunked_response_stored_with_content_length(tmp_path: Path) -> None:
    headers = [(b"Content-Type", b"text/plain"), (b"Transfer-Encoding", b"chunked"), (b"X-A", b"1")]
    with fixed_writer(tmp_path) as writer:
        writer.write_exchange(exchange(b"abcdef", response_headers=headers))
    (path,) = tmp_path.glob("*.warc.gz")
    response = next(r for r in iter_records(path) if r.record_type == "response")
    assert response.http_head == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nX-A: 1\r\n\r\n"
    )
    with open(path, "rb") as fh:
        bodies = [
            r.content_stream().read() for r in ArchiveIterator(fh) if r.rec_type == "response"
        ]
    assert bodies == [b"abcdef"]


def test_rotation_never_splits_a_pair(tmp_path: Path) -> None:
    with fixed_writer(tmp_path, max_size=3000) as writer:
        for i in range(20):
            writer.write_exchange(exchange(bytes(300) + str(i).encode(), url=f"http://s.test/{i}"))
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) > 3
    assert [f.name[-14:] for f in files][:2] == ["-00000.warc.gz", "-00001.warc.gz"]
    seen = 0
    for path in files:
        records = list(iter_records(path))
        assert records[0].record_type == "warcinfo"
        kinds = [r.record_type for r in records[1:]]
        assert kinds == ["response", "request"] * (len(kinds) // 2)
        seen += len(kinds) // 2
    assert seen == 20
    assert warcio_check(files).returncode == 0


def test_open_suffix_while_writing(tmp_path: Path) -> None:
    writer = fixed_writer(tmp_path)
    writer.write_exchange(exchange())
    assert [p.name for p in tmp_path.iterdir()] == [writer.current_name + ".open"]
    writer.close()
    assert [p.name for p in tmp_path.iterdir()] == [writer.files_written[0]]


def test_file_with_only_warcinfo_is_not_kept(tmp_path: Path) -> None:
    writer = fixed_writer(tmp_path)
    writer.open()
    writer.close()
    assert list(tmp_path.iterdir()) == []


def test_unwritable_directory_raises_named_error(tmp_path: Path) -> None:
    blocker = tmp_path / "warcs"
    blocker.write_bytes(b"a file where the directory should be")
    with pytest.raises(WARCWriteError):
        fixed_writer(blocker).write_exchange(exchange())


def test_no_exchange_is_written_after_a_failed_write(tmp_path: Path) -> None:
    writer = fixed_writer(tmp_path)
    writer.write_exchange(exchange(url="http://s.test/kept"))

    class FullDisk:
        """The open file, on a disk that has just filled up."""

        def __init__(self, fh) -> None:
            self.fh = fh

        def write(self, data: bytes) -> int:
            raise OSError(28, "No space left on device")

        def __getattr__(self, name: str):
            return getattr(self.fh, name)

    writer._fh = FullDisk(writer._fh)  # type: ignore[assignment]
    with pytest.raises(WARCWriteError, match="No space left"):
        writer.write_exchange(exchange(url="http://s.test/lost"))
    # Queued exchanges (the crawl's writer thread) are refused, not written to a new file.
    with pytest.raises(WARCWriteError, match="earlier failure"):
        writer.write_exchange(exchange(url="http://s.test/queued"))
    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == writer.files_written
    urls = [r.header("WARC-Target-URI") for r in iter_records(files[0])]
    assert urls == [None, "http://s.test/kept", "http://s.test/kept"]
    assert warcio_check(files).returncode == 0


def test_reader_returns_what_warcio_reads(tmp_path: Path) -> None:
    """iter_records inflates with ISA-L: every record, offset and byte must be what warcio's
    own zlib reading gives, also across the boundaries of its read buffer."""
    import random

    rng = random.Random(7)
    bodies = [rng.randbytes(n) for n in (0, 1, 16383, 16384, 16385, 300_000)]
    bodies += [b"<p>" + b"compressible review text " * n + b"</p>" for n in (1, 5000, 40000)]
    with fixed_writer(tmp_path) as writer:
        for n, body in enumerate(bodies):
            writer.write_exchange(exchange(body, url=f"http://site.test/{n}"))
    (path,) = tmp_path.glob("*.warc.gz")
    ours = [(r.offset, r.record_type, r.http_head + r.payload) for r in iter_records(path)]
    with path.open("rb") as fh:
        it = ArchiveIterator(fh, no_record_parse=True)
        theirs = []
        for record in it:
            block = record.raw_stream.read()  # before the offset, which reads to the end
            theirs.append((it.get_record_offset(), record.rec_type, block))
    assert len(ours) == 1 + 2 * len(bodies)
    assert [(o, t) for o, t, _ in ours] == [(o, t) for o, t, _ in theirs]
    assert [b for _, _, b in ours] == [b for _, _, b in theirs]
    responses = [b for _, t, b in ours if t == "response"]
    assert [r.split(b"\r\n\r\n", 1)[1] for r in responses] == bodies
