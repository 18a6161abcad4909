"""What a person sees, in a real headless Chromium: search the web view for a review,
follow it into replay, and see the archived page with its archived stylesheet and images,
with no request leaving for the original site."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from tests.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SERVE_ADDRESS,
    Crawl,
    run_reviewarc,
    running,
    serve_command,
)
from tests.mockserver import FixtureServer


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
