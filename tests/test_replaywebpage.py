"""The exported WACZ in ReplayWeb.page itself: the npm package's own ui.js and sw.js, served
on loopback beside the WACZ, in Debian's headless Chromium. A review shows its text, also
when its latest capture is a 304 revisit (a second crawl of a server that answers
conditional requests with 304), opened without a timestamp."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from archive.replay import timestamp14
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, Crawl, run_reviewarc
from tests.mockserver import FixtureServer

#: Where .ci/run unpacks the npm package ``replaywebpage`` (2.5.x); REVIEWARC_REPLAYWEBPAGE
#: names another directory holding its index.html, ui.js and sw.js.
REPLAYWEBPAGE = Path(
    os.environ.get("REVIEWARC_REPLAYWEBPAGE")
    or Path(__file__).parent.parent / ".ci" / "node" / "package"
)
REPLAY_PREFIX = "/replay/"  # ReplayWeb.page's files; its service worker's scope
WACZ_PATH = "/archive.wacz"
ONCE = "/reviews/one/"  # crawled once
REVISITED = "/cond/a/"  # crawled twice: the second answer is a 304
TEXTS = {
    ONCE: "the cast learns to act inside its short arc of light",
    REVISITED: "Review a, edition 1. A steady paragraph of text.",
}


@dataclass
class Served:
    base_url: str  # ReplayWeb.page and the WACZ, same origin
    crawl: Crawl


class _Handler(SimpleHTTPRequestHandler):
    """ReplayWeb.page's files under /replay/, the WACZ at /archive.wacz, nothing else."""

    server: _ReplayWebPageServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def translate_path(self, path: str) -> str:
        path = urlsplit(path).path
        if path == WACZ_PATH:
            return str(self.server.wacz)
        if path.startswith(REPLAY_PREFIX):
            name = path.removeprefix(REPLAY_PREFIX) or "index.html"
            target = (REPLAYWEBPAGE / name).resolve()
            if target.is_relative_to(REPLAYWEBPAGE.resolve()):
                return str(target)
        return str(REPLAYWEBPAGE / "no such file")


class _ReplayWebPageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, wacz: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.wacz = wacz


def require_replaywebpage() -> None:
    missing = [n for n in ("index.html", "ui.js", "sw.js") if not (REPLAYWEBPAGE / n).is_file()]
    if missing:
        pytest.fail(
            f"ReplayWeb.page is not installed in {REPLAYWEBPAGE} (no {', '.join(missing)}): "
            "run .ci/run, or unpack the npm package replaywebpage@2.5 there "
            "(npm pack replaywebpage@2.5) or set REVIEWARC_REPLAYWEBPAGE"
        )
    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require_replaywebpage()
    site = FixtureServer().start()
    try:
        data = tmp_path_factory.mktemp("replaywebpage") / "data"
        for seeds in ((ONCE, REVISITED), (REVISITED,)):
            result = run_reviewarc(
                "crawl", *(site.base_url + s for s in seeds), "--depth", "0", "--data", str(data)
            )
            assert result.returncode == 0, result.stderr[-2000:]
        wacz = data.parent / "archive.wacz"
        result = run_reviewarc("export", "--wacz", str(wacz), "--data", str(data))
        assert result.returncode == 0, result.stderr[-2000:]
    finally:
        site.stop()  # replay must not need the site
    server = _ReplayWebPageServer(wacz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_address[1]}", Crawl(result, data, site))
    finally:
        server.shutdown()
        server.server_close()


def latest_capture(crawl: Crawl, url: str) -> dict:
    return crawl.sql(
        "select record_type, status, fetched_at from captures"
        f" where url = '{url}' order by fetched_at desc limit 1"
    )[0]


def replayed_text(served: Served, url: str, tmp_path: Path) -> tuple[str, str]:
    """Open ``url`` in ReplayWeb.page with no timestamp; the replay frame's URL and, once
    the review's text is there, its text."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    page_url = (
        f"{served.base_url}{REPLAY_PREFIX}index.html?source={WACZ_PATH}"
        f"#view=pages&url={quote(url, safe='')}"
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        try:
            page = browser.new_page()
            # ReplayWeb.page nests the archived page in frames of its own: wait for the one
            # that replays (…/<timestamp>mp_/<url>), then for the review's text inside it.
            try:
                with page.expect_event(
                    "framenavigated", lambda f: f"mp_/{url}" in f.url, timeout=30_000
                ) as navigated:
                    page.goto(page_url)
                frame = navigated.value
                frame.wait_for_function(
                    "text => document.body && document.body.innerText.includes(text)",
                    arg=TEXTS[urlsplit(url).path],
                    timeout=15_000,
                )
            except PlaywrightTimeout:
                page.screenshot(path=str(tmp_path / "replaywebpage.png"))
                shown = [(f.url, f.evaluate("document.body?.innerText ?? ''")[:200])
                         for f in page.frames]  # fmt: skip
                pytest.fail(f"ReplayWeb.page showed no review text for {url}; frames: {shown}")
            return frame.url, frame.evaluate("document.body.innerText")
        finally:
            browser.close()


def test_review_captured_once_renders(served: Served, tmp_path: Path) -> None:
    url = served.crawl.server.base_url + ONCE
    assert latest_capture(served.crawl, url)["record_type"] == "response"
    _, text = replayed_text(served, url, tmp_path)
    assert TEXTS[ONCE] in text
    assert "Night Ferry to Nowhere" in text


def test_review_whose_latest_capture_is_a_304_revisit_renders(
    served: Served, tmp_path: Path
) -> None:
    url = served.crawl.server.base_url + REVISITED
    latest = latest_capture(served.crawl, url)
    assert (latest["record_type"], latest["status"]) == ("revisit", 304)
    frame_url, text = replayed_text(served, url, tmp_path)
    assert TEXTS[REVISITED] in text
    # The revisit's capture is the one shown (its time in the replay URL), with the page of
    # the response it confirmed.
    assert f"/{timestamp14(latest['fetched_at'])}mp_/{url}" in frame_url, frame_url
