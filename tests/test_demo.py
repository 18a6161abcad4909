from __future__ import annotations

from tests.conftest import Crawl, run_reviewarc, warcio_check


def test_demo_crawls_the_bundled_site(tmp_path) -> None:
    data = tmp_path / "demo"
    result = run_reviewarc("demo", "--data", str(data))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Try next" in result.stdout
    crawl = Crawl(result, data, None)  # type: ignore[arg-type]
    urls = {
        r["url"].split("/", 3)[3] for r in crawl.sql("select url from captures where status = 200")
    }
    # The sitemap-only review is found; the robots-disallowed draft is not fetched.
    assert "reviews/quiet-engines/" in urls
    assert "reviews/the-lantern-keepers/" in urls
    assert "drafts/" not in urls
    assert warcio_check(crawl.warcs).returncode == 0
