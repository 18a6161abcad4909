"""Sitemaps cannot keep a crawl going: a chain of nested sitemap indexes ends at
``REVIEWARC_SITEMAP_MAX_DEPTH``, a flood of sitemaps at ``REVIEWARC_SITEMAP_MAX_FILES``."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import run_reviewarc
from tests.mockserver import Page, PagesServer

XML = {"Content-Type": "application/xml"}


def index(*locs: str) -> str:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}'
        "</sitemapindex>"
    )


def urlset(*locs: str) -> str:
    entries = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    )


def test_a_chain_of_2000_nested_sitemap_indexes_ends(tmp_path: Path) -> None:
    def chain(path: str) -> Page | None:
        m = re.fullmatch(r"/sitemaps/(\d+)\.xml", path)
        if not m or int(m.group(1)) > 2000:
            return None
        n = int(m.group(1))
        # Each index names the next one, and one page.
        return 200, XML, index(f"/sitemaps/{n + 1}.xml", f"/pages/{n}.xml")

    server = PagesServer(
        {"/": (200, {}, "<title>Home</title><p>Nothing here.</p>"),
         "/sitemap.xml": (200, XML, index("/sitemaps/1.xml"))},
        routes=lambda path: chain(path) or (
            (200, XML, urlset(f"/page-{path.rsplit('/', 1)[1]}.html"))
            if path.startswith("/pages/") else None
        ),
    )  # fmt: skip
    try:
        result = run_reviewarc("crawl", server.base_url + "/", "--data", str(tmp_path / "d"))
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    chained = [p for p in server.paths() if p.startswith("/sitemaps/")]
    # /sitemap.xml is depth 0; three more levels of indexes are followed (the default).
    assert sorted(chained) == ["/sitemaps/1.xml", "/sitemaps/2.xml", "/sitemaps/3.xml"]
    assert "nested deeper than 3" in result.stderr


def test_a_flood_of_sitemaps_is_cut_at_the_budget(tmp_path: Path) -> None:
    many = [f"/sitemaps/{n}.xml" for n in range(500)]
    server = PagesServer(
        {"/": (200, {}, "<title>Home</title><p>Nothing here.</p>"),
         "/robots.txt": (200, {"Content-Type": "text/plain"},
                         "".join(f"Sitemap: /robots-named/{n}.xml\n" for n in range(100))),
         "/sitemap.xml": (200, XML, index(*many))},
        routes=lambda path: (200, XML, urlset()) if path.endswith(".xml") else None,
    )  # fmt: skip
    try:
        result = run_reviewarc(
            "crawl", server.base_url + "/", "--data", str(tmp_path / "d"),
            "--set", "REVIEWARC_SITEMAP_MAX_FILES=40",
        )  # fmt: skip
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    fetched = [p for p in server.paths() if p.endswith(".xml")]
    assert len(fetched) == 40, len(fetched)
    assert "40 sitemaps requested: no more are followed" in result.stderr
