"""A review that names another URL as its canonical one is stored from there, once; when
that URL gives no article (a 404, a listing, a loop of pages naming each other, a host that
fails), the review is stored from the page itself. A review is never lost to rel=canonical."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import reading, run_reviewarc
from tests.mockserver import PagesServer


def review(title: str, canonical: str | None) -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    words = f"{title} is reviewed here at length, scene by scene, with care. " * 12
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>"
        f'<meta property="og:type" content="article">{link}</head>'
        f"<body><article><h1>{title}</h1><p>{words}</p></article></body></html>"
    )


def test_rel_canonical_never_loses_a_review(tmp_path: Path) -> None:
    listing = "<title>All reviews</title>" + "".join(
        f'<h2><a href="/list-{n}/">Headline {n}</a></h2>' for n in range(8)
    )
    server = PagesServer({})
    base = server.base_url
    server.pages.update({
        "/": (200, {}, "<title>Home</title>" + "".join(
            f'<a href="/{p}/">{p}</a> ' for p in ("a", "b", "c", "d", "f", "g", "h")
        )),
        # Canonical at a 404.
        "/a/": (200, {}, review("Canonical gone", f"{base}/gone/")),
        # Two pages naming each other.
        "/b/": (200, {}, review("Mirror one", f"{base}/c/")),
        "/c/": (200, {}, review("Mirror one", f"{base}/b/")),
        # The ordinary case: a print view names the real page, which is stored.
        "/d/": (200, {}, review("Real page", f"{base}/e/")),
        "/e/": (200, {}, review("Real page", None)),
        # Canonical at a listing (not an article).
        "/f/": (200, {}, review("Canonical listing", f"{base}/listing/")),
        "/listing/": (200, {}, listing),
        # Canonical that redirects to the real page.
        "/g/": (200, {}, review("Through a redirect", f"{base}/old-g/")),
        "/old-g/": (301, {"Location": "/new-g/"}, ""),
        "/new-g/": (200, {}, review("Through a redirect", None)),
        # Canonical on a host that refuses connections (in scope only by its name).
        "/h/": (200, {}, review("Canonical refused", f"{base}/refused/")),
        "/refused/": (500, {}, "<p>server error</p>"),
    })  # fmt: skip
    try:
        result = run_reviewarc("crawl", base + "/", "--data", str(tmp_path))
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    with reading(tmp_path) as con:
        rows = con.execute("select url, title from articles").fetchall()
        (canonical_of_a,) = con.execute(
            "select canonical_url from articles where url = ?", [base + "/a/"]
        ).fetchone()
    stored = {url[len(base) :]: title for url, title in rows}
    assert stored.get("/a/") == "Canonical gone"
    assert [p for p in ("/b/", "/c/") if p in stored] in (["/b/"], ["/c/"]), stored
    assert "/e/" in stored and "/d/" not in stored
    assert stored.get("/f/") == "Canonical listing"
    assert "/new-g/" in stored and "/g/" not in stored
    assert stored.get("/h/") == "Canonical refused"
    assert len(stored) == 6, stored
    assert canonical_of_a == base + "/gone/"
    # Every page ended handled: a crawl that finished clears its frontier.
    frontier = sqlite3.connect(tmp_path / "state" / "frontier.db")
    assert frontier.execute("select count(*) from frontier").fetchone()[0] == 0
