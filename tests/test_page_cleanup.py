"""Pages with control characters, an XML declaration or links no URL can be made of are read
like any other: their review is stored, its body whole, their other links followed (these came
back empty, or raised, before)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import crawl_linked_pages, read_sql
from tests.mockserver import PagesServer

SENTENCE = "The second act drags, but the score carries it through every long scene."


def review(title: str, extra: str = "", before: str = "") -> bytes:
    words = f"{SENTENCE} " * 6
    return (
        f"{before}<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta property='og:type' content='article'></head><body><article><h1>{title}</h1>"
        f"<p>{words}</p><p>Odd bytes in the {title.lower()}: caf{extra}e au lait, then more."
        f" {words}</p></article></body></html>"
    ).encode()


def test_control_characters_and_xml_declarations(tmp_path: Path) -> None:
    pages = {
        "/backspace/": review("Backspace review", "\x08"),
        "/vertical-tab/": review("Vertical tab review", "\x0b"),
        "/form-feed/": review("Form feed review", "\x0c\x1b"),
        "/xml/": review("XHTML review", before='<?xml version="1.0" encoding="utf-8"?>\n'),
        # References to controls: C0 ones become spaces, 128-159 are Windows-1252 (an en dash).
        "/control-reference/": review("Control reference review", "&#26;&#x1B; &#150; "),
        # A port that is not a number and an unclosed IPv6 host, in a link and in <base>.
        "/bad-links/": review(
            "Bad links review",
            extra='<a href="http://Fiction Books:Romance/">x</a><a href="http://[oops/">y</a>'
            '<link rel="alternate" type="application/rss+xml" href="http://[feed/">'
            '<a href="/found-after-bad-links/">next</a>',
            before='<base href="http://[base/">',
        ),
        "/found-after-bad-links/": review("Linked review"),
    }
    server = PagesServer({path: (200, {}, body) for path, body in pages.items()})
    server.pages["/bad-redirect/"] = (302, {"Location": "http://[redirect/"}, "")
    linked = [p for p in [*pages, "/bad-redirect/"] if "found" not in p]
    result = crawl_linked_pages(tmp_path, server, linked)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_sql(tmp_path, "select url, title, text from articles")
    by_path = {r["url"][len(server.base_url) :]: r for r in rows}
    failures = read_sql(tmp_path, "select url, kind, reason from failures")
    assert set(by_path) == set(pages), failures
    bad = [f for f in failures if f["url"].endswith("/bad-redirect/")]
    assert [(f["kind"], f["reason"]) for f in bad] == [
        ("redirect", "IgnoreRequest: Bad redirect: Location 'http://[redirect/' is not a URL")
    ]
    for path, row in by_path.items():
        assert SENTENCE in row["text"], path
        assert "au lait, then more" in row["text"], path
        assert not any(ord(c) < 32 and c not in "\t\n\r" for c in row["text"]), path
    text = " ".join(by_path["/control-reference/"]["text"].split())
    assert "Odd bytes in the control reference review: caf \u2013 e au lait" in text
