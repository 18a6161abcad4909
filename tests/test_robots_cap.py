"""A huge robots.txt: its first 500 KiB are obeyed, the rest ignored, all of it archived, and
the crawl's memory stays bounded."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import BIN
from tests.mockserver import PagesServer

HOME = (
    b"<html><head><title>Home</title></head><body>"
    b'<a href="/private/page.html">private</a> <a href="/late/page.html">late</a>'
    b"</body></html>"
)


def huge_robots_txt() -> bytes:
    """~24 MB: a rule early, 24 MB of ``Allow`` lines, then a rule far past 500 KiB."""
    filler = b"".join(b"Allow: /filler/%07d/page.html\n" % n for n in range(800_000))
    return b"User-agent: *\nDisallow: /private/\n" + filler + b"Disallow: /late/\n"


@pytest.fixture
def site() -> Iterator[PagesServer]:
    page = (200, {}, HOME)
    server = PagesServer({
        "/robots.txt": (200, {"Content-Type": "text/plain"}, huge_robots_txt()),
        "/": page, "/private/page.html": page, "/late/page.html": page,
    })  # fmt: skip
    try:
        yield server
    finally:
        server.stop()


#: Runs the command and prints the peak RSS of the largest process it started (the crawl,
#: or one of its extraction workers): ru_maxrss over the waited-for children.
PEAK = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:])
print("PEAK_RSS_KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def test_huge_robots_txt_is_obeyed_to_500_kib_and_archived_whole(
    site: PagesServer, tmp_path
) -> None:
    assert len(site.pages["/robots.txt"][2]) > 24_000_000
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PEAK,
            str(BIN / "reviewarc"),
            "crawl",
            site.base_url + "/",
            "--data",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]

    assert "/private/page.html" not in site.paths()  # a rule before the cap: obeyed
    assert "/late/page.html" in site.paths()  # a rule after it: ignored

    archived = None
    for path in (tmp_path / "warcs").glob("*.warc.gz"):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                uri = record.rec_headers.get_header("WARC-Target-URI")
                if record.rec_type == "response" and uri == site.base_url + "/robots.txt":
                    archived = record.content_stream().read()
    assert archived == site.pages["/robots.txt"][2]  # the whole response, byte for byte

    peak_mb = int(result.stderr.rsplit("PEAK_RSS_KB", 1)[1].split()[0]) / 1024
    assert peak_mb < 400, f"peak RSS {peak_mb:.0f} MB"
