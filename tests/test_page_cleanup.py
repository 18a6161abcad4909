"""Pages with control characters or an XML declaration are read like any other: their review
is stored, its body whole (these came back empty, or raised, before)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import read_sql, run_reviewarc
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
    }
    server = PagesServer({path: (200, {}, body) for path, body in pages.items()})
    links = "".join(f'<a href="{path}">{path}</a> ' for path in pages)
    server.pages["/"] = (200, {}, f"<html><body>{links}</body></html>")
    try:
        result = run_reviewarc("crawl", server.base_url + "/", "--data", str(tmp_path))
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_sql(tmp_path, "select url, title, text from articles")
    by_path = {r["url"][len(server.base_url) :]: r for r in rows}
    assert set(by_path) == set(pages), read_sql(tmp_path, "select url, kind from failures")
    for path, row in by_path.items():
        assert SENTENCE in row["text"], path
        assert "au lait, then more" in row["text"], path
        assert not any(ord(c) < 32 and c not in "\t\n\r" for c in row["text"]), path
