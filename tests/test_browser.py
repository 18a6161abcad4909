"""What a person sees, in a real headless Chromium: search the web view for a review,
follow it into replay, and see the archived page with its archived stylesheet and images,
with no request leaving for the original site; and follow a reviewed item to its reviews
from several sites, and one of those into replay."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from tests import reviewsites
from tests.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SERVE_ADDRESS,
    Crawl,
    read_sql,
    run_reviewarc,
    running,
    serve_command,
)
from tests.mockserver import FixtureServer, PagesServer


@pytest.fixture(scope="module")
def served(site: FixtureServer, tmp_path_factory: pytest.TempPathFactory):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed")
    data = tmp_path_factory.mktemp("browser") / "data"
    result = run_reviewarc(
        "crawl", site.base_url + "/reviews/one/", "--depth", "0", "--data", str(data)
    )
    assert result.returncode == 0, result.stderr[-2000:]
    with running(serve_command(data), SERVE_ADDRESS) as server:
        port, replay_port = server.ports
        yield Crawl(result, data, site), port, replay_port


def test_search_then_replay_shows_the_archived_page(served) -> None:
    from playwright.sync_api import sync_playwright

    crawl, port, replay_port = served
    site_origins = {
        urlsplit(crawl.server.base_url).netloc,
        urlsplit(crawl.server.base_url).netloc.replace("127.0.0.1", "localhost"),
    }
    requests: list[str] = []
    log_before = len(crawl.server.log)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        try:
            page = browser.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.goto(f"http://127.0.0.1:{port}/archive/articles?_search=ferry")
            assert "Night Ferry to Nowhere" in page.content()
            link = page.locator("a[href*='/web/']").first
            href = link.get_attribute("href") or ""
            assert href.startswith(f"http://127.0.0.1:{replay_port}/web/")
            link.click()
            page.wait_for_load_state("networkidle")
            assert page.url.startswith(f"http://127.0.0.1:{replay_port}/web/")
            frame = page.main_frame
            assert "Night Ferry to Nowhere" in frame.content()
            styles = frame.evaluate(
                """() => ({
                    background: getComputedStyle(document.body).backgroundColor,
                    heading: getComputedStyle(document.querySelector('h1')).color,
                    cover: document.getElementById('cover').naturalWidth,
                    offsite: document.getElementById('offsite').naturalWidth,
                })"""
            )
            page.screenshot(path=str(crawl.data / "replay.png"))
        finally:
            browser.close()
    assert styles["background"] == "rgb(250, 240, 220)", styles  # from the archived CSS
    assert styles["heading"] == "rgb(153, 0, 51)", styles
    assert styles["cover"] == 40 and styles["offsite"] == 10, styles  # archived images shown
    for url in requests:
        assert urlsplit(url).netloc not in site_origins, f"request left for the site: {url}"
    assert len(crawl.server.log) == log_before


@pytest.fixture(scope="module")
def served_reviews(tmp_path_factory: pytest.TempPathFactory):
    """The review fixture sites crawled and served; the sites keep running, so that a
    request the browser made to one would be seen in its log."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed")
    servers = [PagesServer(pages) for pages in reviewsites.sites().values()]
    try:
        data = tmp_path_factory.mktemp("browser-reviews") / "data"
        result = run_reviewarc("crawl", *[s.base_url + "/" for s in servers], "--data", str(data))
        assert result.returncode == 0, result.stderr[-2000:]
        with running(serve_command(data), SERVE_ADDRESS) as server:
            port, replay_port = server.ports
            yield data, servers, port, replay_port
    finally:
        for server in servers:
            server.stop()


def test_most_reviewed_item_then_its_review_in_replay(served_reviews) -> None:
    """A critic opens the most reviewed items, follows The Quiet Orchard to its reviews from
    two sites, and opens one of them: the archived page, from replay, not from the site."""
    from playwright.sync_api import sync_playwright

    data, servers, port, replay_port = served_reviews
    site_origins = {
        netloc
        for server in servers
        for netloc in (
            urlsplit(server.base_url).netloc,
            urlsplit(server.base_url).netloc.replace("127.0.0.1", "localhost"),
        )
    }
    reviews = read_sql(
        data,
        "select r.url, r.headline, r.site_name from reviews r join items i on i.id = r.item_id"
        " where i.name = 'The Quiet Orchard'",
    )
    assert len(reviews) == 2
    headlines = {r["url"]: r["headline"] for r in reviews}
    requests: list[str] = []
    logged_before = [len(server.log) for server in servers]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.goto(f"http://127.0.0.1:{port}/archive/most_reviewed")
            assert "Aurora ANC Headphones" in page.content()
            page.locator("a.item", has_text="The Quiet Orchard").first.click()
            page.wait_for_load_state("networkidle")
            assert "/archive/item_reviews?item=" in page.url
            listing = page.content()
            for review in reviews:
                assert review["site_name"] in listing
            link = page.locator("a.replay-url").first
            href = link.get_attribute("href") or ""
            assert href.startswith(f"http://127.0.0.1:{replay_port}/web/"), href
            url = link.inner_text()
            assert url in headlines and href.endswith("/" + url)
            link.click()
            page.wait_for_load_state("networkidle")
            assert page.url.startswith(f"http://127.0.0.1:{replay_port}/web/"), page.url
            text = page.main_frame.inner_text("body")
            page.screenshot(path=str(data / "item-review-replay.png"))
        finally:
            browser.close()
    assert headlines[url] in text, text[:2000]
    assert "Quiet Orchard" in text
    for request in requests:
        assert urlsplit(request).netloc not in site_origins, f"request left for a site: {request}"
    assert [len(server.log) for server in servers] == logged_before
