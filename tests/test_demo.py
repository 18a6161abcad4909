from __future__ import annotations

import pytest

from tests.conftest import REPLAY_ADDRESS, Crawl, get, run_reviewarc, running, warcio_check


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Crawl:
    data = tmp_path_factory.mktemp("demo") / "demo"
    result = run_reviewarc("demo", "--data", str(data))
    assert result.returncode == 0, result.stderr[-3000:]
    return Crawl(result, data, None)  # type: ignore[arg-type]


def test_demo_crawls_the_bundled_site(demo: Crawl) -> None:
    assert "Try next" in demo.result.stdout
    urls = {
        r["url"].split("/", 3)[3] for r in demo.sql("select url from captures where status = 200")
    }
    # The sitemap-only review is found; the robots-disallowed draft is not fetched.
    assert "reviews/quiet-engines/" in urls
    assert "reviews/the-lantern-keepers/" in urls
    assert "drafts/" not in urls
    assert warcio_check(demo.warcs).returncode == 0


def test_demo_text_starts_with_the_body(demo: Crawl) -> None:
    # The capsule review's kicker ("TV · Capsule") and <h1> sit in its <article> before the
    # body, outside a <header>: neither is stored as the start of its text.
    (row,) = demo.sql("select text from articles where url like '%/reviews/small-hours/'")
    assert row["text"].startswith("Small Hours follows a night-shift pharmacist"), row["text"][:80]


def test_try_next_lines_work_as_pasted_and_a_second_run_says_what_is_there(tmp_path) -> None:
    """The quick start never activates the virtual environment: every line under "Try next"
    runs as printed, in a shell whose PATH does not have the venv; a second demo run lists
    the reviews already archived instead of "0 reviews extracted"."""
    import os
    import subprocess

    data = tmp_path / "demo data"  # a space: the printed commands must quote it
    first = run_reviewarc("demo", "--data", str(data))
    assert first.returncode == 0, first.stderr[-3000:]
    second = run_reviewarc("demo", "--data", str(data))
    assert second.returncode == 0, second.stderr[-3000:]
    assert "0 reviews extracted" not in second.stdout
    assert "the archive holds 6" in second.stdout
    assert "Small Hours review" in second.stdout
    lines = second.stdout.split("Try next:\n", 1)[1].strip().splitlines()
    assert len(lines) == 6 and any(" show http" in line for line in lines)
    assert any(line.split(" --data")[0].endswith(" items") for line in lines)
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    *commands, replay = lines
    assert " replay --data " in replay
    # replay serves until stopped: it must start and serve the page the line names
    replay = replay.replace(" replay --data ", " replay --port 0 --data ", 1).split("  #")[0]
    with running(["bash", "-c", f"exec {replay}"], REPLAY_ADDRESS, cwd=tmp_path, env=env) as srv:
        page = lines[-1].split("then open http://127.0.0.1:8080/web/", 1)[1]
        status, _, body = get(srv.ports[0], f"/web/id_/{page}")
        assert status == 200 and b"<html" in body.lower(), status
    for line in commands:
        done = subprocess.run(
            ["bash", "-c", line], capture_output=True, text=True, cwd=tmp_path, env=env,
            timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, (line, done.stderr[-2000:])
        assert done.stdout.strip() or "check" in line, line
