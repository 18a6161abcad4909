"""Page requisites on other people's hosts never hold up the site's own pages: a host that
never answers, a name that does not resolve and a port that refuses connections cost the
crawl one try each, and robots.txt is asked for requisites only when the user says so."""

from __future__ import annotations

import socket
import subprocess
import threading
from pathlib import Path

from tests.conftest import BIN, read_sql, run_reviewarc, wait_until
from tests.mockserver import Page, PagesServer

PAGES = 40


def review(title: str, requisites: list[str]) -> str:
    words = f"{title} is reviewed here at length, scene by scene, with care. " * 12
    tags = "".join(f'<img src="{url}" alt="">' for url in requisites)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>"
        f'<meta property="og:type" content="article"></head>'
        f"<body><article><h1>{title}</h1><p>{words}</p>{tags}</article></body></html>"
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hanging_host(release: threading.Event) -> PagesServer:
    """A third-party host (reached as ``localhost``) that answers nothing until released."""

    def held(path: str) -> Page:
        release.wait(60)
        return (200, {"Content-Type": "image/png"}, b"\x89PNG" + path.encode())

    return PagesServer({}, held)


def test_pages_are_not_held_up_by_requisite_hosts(tmp_path: Path) -> None:
    release = threading.Event()
    cdn = hanging_host(release)
    refused = closed_port()
    site = PagesServer({})
    for n in range(PAGES):
        requisites = [f"http://localhost:{cdn.port}/img/{n}-{i}.png" for i in range(3)]
        requisites += [f"http://nowhere.invalid/{n}.png", f"http://localhost:{refused}/{n}.png"]
        site.pages[f"/r/{n}/"] = (200, {}, review(f"Review {n}", requisites))
    site.pages["/"] = (200, {}, "".join(f'<a href="/r/{n}/">{n}</a> ' for n in range(PAGES)))
    log = tmp_path / "crawl.log"
    try:
        with log.open("w") as out:
            proc = subprocess.Popen(
                [str(BIN / "reviewarc"), "crawl", site.base_url + "/", "--data", str(tmp_path)],
                stdout=out, stderr=out,
            )  # fmt: skip
            # Every page is fetched while the requisite host still answers nothing.
            wait_until(
                lambda: all(f"/r/{n}/" in site.paths() for n in range(PAGES)), 60,
                "every page fetched while the requisites' host hangs", process=proc,
                output=log.read_text,
            )  # fmt: skip
            assert not release.is_set()
            release.set()
            assert proc.wait(120) == 0, log.read_text()[-3000:]
    finally:
        release.set()
        cdn.stop()
        site.stop()

    assert len(read_sql(tmp_path, "select id from articles")) == PAGES
    # The host that answered late: every requisite archived.
    held = read_sql(tmp_path, "select url from captures where url like '%/img/%' and status = 200")
    assert len({row["url"] for row in held}) == PAGES * 3
    # The dead hosts: one row per requisite, and one try per host.
    failures = read_sql(tmp_path, "select url, kind, reason from failures")
    dns = [f for f in failures if "nowhere.invalid" in f["url"]]
    refusals = [f for f in failures if f":{refused}/" in f["url"]]
    assert len(dns) == PAGES and {f["kind"] for f in dns} == {"dns"}
    assert len(refusals) == PAGES and {f["kind"] for f in refusals} == {"connection"}
    again = [f for f in dns + refusals if "earlier in this crawl" in f["reason"]]
    assert len(again) >= 2 * PAGES - 2, [f for f in dns + refusals if f not in again]
    text = log.read_text()
    assert "'reviewarc/hosts/dead': 2" in text
    assert "retry/count" not in text, "nothing to retry: the dead hosts were not asked again"


def test_robots_txt_for_requisites_is_a_setting(tmp_path: Path) -> None:
    """By default requisites are fetched as a browser showing an allowed page would (their
    hosts' robots.txt is not asked); REVIEWARC_REQUISITES_ROBOTS=obey obeys it."""
    cdn = PagesServer({
        "/robots.txt": (200, {"Content-Type": "text/plain"}, "User-agent: *\nDisallow: /\n"),
        "/pic.png": (200, {"Content-Type": "image/png"}, b"\x89PNG pic"),
    })  # fmt: skip
    site = PagesServer({})
    site.pages.update({
        "/robots.txt": (200, {"Content-Type": "text/plain"}, "User-agent: *\nDisallow: /static/\n"),
        "/static/site.png": (200, {"Content-Type": "image/png"}, b"\x89PNG site"),
    })  # fmt: skip
    requisites = [f"{site.base_url}/static/site.png", f"http://localhost:{cdn.port}/pic.png"]
    site.pages["/"] = (200, {}, review("A film", requisites))
    try:
        default = tmp_path / "default"
        assert run_reviewarc("crawl", site.base_url + "/", "--data", str(default)).returncode == 0
        assert "/robots.txt" not in cdn.paths()
        obey = tmp_path / "obey"
        result = run_reviewarc("crawl", site.base_url + "/", "--data", str(obey),
                               "--set", "REVIEWARC_REQUISITES_ROBOTS=obey")  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
    finally:
        cdn.stop()
        site.stop()
    png = "select url from captures where url like '%.png' and status = 200"
    assert len(read_sql(default, png)) == 2
    assert read_sql(obey, png) == []
    kinds = read_sql(obey, "select kind from failures where url like '%.png'")
    assert [k["kind"] for k in kinds] == ["robots", "robots"]


def test_the_crawls_own_hosts_are_never_declared_dead(tmp_path: Path) -> None:
    """A seed that refuses connections keeps Scrapy's retries and is not declared dead: one
    failed connection must not cost a site the rest of its pages."""
    refused = closed_port()
    site = PagesServer({"/": (200, {}, review("A film", []))})
    try:
        result = run_reviewarc("crawl", site.base_url + "/", f"http://127.0.0.1:{refused}/",
                               "--data", str(tmp_path))  # fmt: skip
    finally:
        site.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    failures = read_sql(
        tmp_path, f"select kind, reason from failures where url like '%:{refused}/%'"
    )
    assert failures and {f["kind"] for f in failures} == {"connection"}
    assert not [f for f in failures if "earlier in this crawl" in f["reason"]]
    assert "'retry/count'" in result.stderr and "reviewarc/hosts/dead" not in result.stderr
