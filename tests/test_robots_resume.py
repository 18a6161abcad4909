"""robots.txt survives a resume: a page that robots.txt disallows, queued by a crawl that was
killed (kill -9) or stopped (SIGTERM) before it got to it, is not fetched by the run that
resumes the crawl. That run starts many requests to the host at once, and they all wait for
its robots.txt, which this server is slow to send (Scrapy 2.19 handed every waiter but the
first "no robots.txt")."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import BIN, read_sql, run_reviewarc, wait_until
from tests.mockserver import Page, PagesServer

HELD = 4  # the first run downloads this many pages at once: the disallowed link waits behind them


def _site(release: threading.Event) -> PagesServer:
    links = "".join(f'<a href="/hold/{n}/">held {n}</a> ' for n in range(1, HELD + 1))
    # Queued with /drafts/ when the first run stops: the resumed run starts them together.
    links += "".join(f'<a href="/more/{n}/">more {n}</a> ' for n in range(1, 9))
    pages: dict[str, Page] = {
        "/": (200, {}, f"<html><body>{links}<a href='/drafts/'>drafts</a></body></html>"),
        "/drafts/": (200, {}, "<html><body><p>Not for crawlers.</p></body></html>"),
    }

    def held(path: str) -> Page | None:
        if path == "/robots.txt":
            time.sleep(0.5)  # a slow server: the crawl's requests pile up waiting for it
            return (200, {"Content-Type": "text/plain"}, "User-agent: *\nDisallow: /drafts/\n")
        if path.startswith("/more/"):
            return (200, {}, f"<html><body><p>{path}</p></body></html>")
        if not path.startswith("/hold/"):
            return None
        release.wait(60)  # the first run is stopped while these hang
        return (200, {}, f"<html><body><p>{path}</p></body></html>")

    return PagesServer(pages, held)


def _drafts_state(data: Path) -> str | None:
    try:
        con = sqlite3.connect(f"file:{data}/state/frontier.db?mode=ro", uri=True)
        try:
            row = con.execute("select state from frontier where url like '%/drafts/'").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


@pytest.mark.parametrize("stop", ["kill -9", "SIGTERM"])
def test_disallowed_page_queued_by_a_stopped_crawl_is_not_fetched_on_resume(
    tmp_path: Path, stop: str
) -> None:
    release = threading.Event()
    server = _site(release)
    try:
        command = ["crawl", server.base_url + "/", "--data", str(tmp_path)]
        first = [*command, "--set", f"CONCURRENT_REQUESTS={HELD}"]
        log = tmp_path / "first.log"
        with log.open("w") as out:
            proc = subprocess.Popen([str(BIN / "reviewarc"), *first], stdout=out, stderr=out)
            wait_until(
                lambda: sum(p.startswith("/hold/") for p in server.paths()) >= HELD
                and _drafts_state(tmp_path) == "queued",
                60, "the crawl queueing /drafts/ behind the held pages", process=proc,
                output=log.read_text,
            )  # fmt: skip
            if stop == "kill -9":
                os.kill(proc.pid, signal.SIGKILL)
            else:
                proc.send_signal(signal.SIGTERM)
                wait_until(
                    lambda: "shutting down gracefully" in log.read_text(), 30,
                    "Scrapy taking the SIGTERM", process=proc, output=log.read_text,
                )  # fmt: skip
            release.set()
            proc.wait(60)
        assert _drafts_state(tmp_path) == "queued", "stopped too late to test anything"
        assert "/drafts/" not in server.paths()

        again = run_reviewarc(*command, timeout=120)  # all its requests start at once
        assert again.returncode == 0, again.stderr[-3000:]
        assert "/drafts/" not in server.paths(), "the resumed crawl fetched a disallowed page"
        assert read_sql(tmp_path, "select url from captures where url like '%/drafts/'") == []
        failures = read_sql(tmp_path, "select kind from failures where url like '%/drafts/'")
        assert [f["kind"] for f in failures] == ["robots"]
        held = read_sql(tmp_path, "select url from captures where url like '%/hold/%'")
        assert len({h["url"] for h in held}) == HELD, "the resumed crawl finished the held pages"
    finally:
        release.set()
        server.stop()
