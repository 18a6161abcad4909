from __future__ import annotations

from crawler.scope import Scope, TrapGuard, clean_link, url_pattern


def test_scope_is_the_seed_hosts_and_ports() -> None:
    scope = Scope.from_seeds(["http://reviews.test/", "http://127.0.0.1:8001/start"])
    assert scope.allows("http://reviews.test/a")
    assert scope.allows("https://reviews.test/a")  # same site upgraded to https
    assert scope.allows("http://127.0.0.1:8001/b?x=1")
    assert not scope.allows("http://127.0.0.1:8002/b")
    assert not scope.allows("http://localhost:8001/b")
    assert not scope.allows("http://sub.reviews.test/")
    assert not scope.allows("ftp://reviews.test/pub")
    assert not scope.allows("file:///etc/passwd")
    assert not scope.allows("mailto:x@reviews.test")
    assert not scope.allows("http://reviews.test:notaport/")


def test_calendar_bounded_per_pattern() -> None:
    guard = TrapGuard(max_per_pattern=12)
    allowed = [
        guard.refusal(f"http://s.test/calendar/{2000 + i // 12}/{i % 12 + 1:02d}/") is None
        for i in range(100)
    ]
    assert sum(allowed) == 12
    # The same URL again is not counted twice.
    assert guard.refusal("http://s.test/calendar/2000/01/") is None


def test_faceted_listing_bounded_per_path() -> None:
    guard = TrapGuard(max_query_variants=5)
    facets = [f"http://s.test/list?genre={g}&sort={s}" for g in "abcd" for s in "xyz"]
    assert sum(guard.refusal(u) is None for u in facets) == 5
    assert guard.refusal("http://s.test/other?genre=a") is None


def test_pathological_paths_refused() -> None:
    guard = TrapGuard()
    assert guard.refusal("http://s.test/a/a/a/") == "repeated path segment"
    assert guard.refusal("http://s.test/x/y/x/y/x/y/") == "repeated path segment"
    assert guard.refusal("http://s.test/" + "/".join(f"s{i}" for i in range(25))) is not None
    assert guard.refusal("http://s.test/?" + "q" * 3000) == "url too long"
    assert guard.refusal("http://s.test/reviews/a-film/") is None


def test_url_pattern() -> None:
    assert url_pattern("http://s.test/cal/2031/07/?day=3&view=m") == "s.test/cal/N/N/?day&view"


def test_clean_link_drops_tracking_and_sessions_only() -> None:
    assert clean_link("http://s.test/r/?replytocom=3#respond") == "http://s.test/r/"
    assert clean_link("http://s.test/r/?share=email") == "http://s.test/r/"
    assert clean_link("http://s.test/r/?utm_source=x&id=7&fbclid=y") == "http://s.test/r/?id=7"
    assert clean_link("http://s.test/r;jsessionid=ABC?page=2") == "http://s.test/r?page=2"
    assert clean_link("http://s.test/search?q=film+noir&page=2") == (
        "http://s.test/search?q=film+noir&page=2"
    )


def test_requisites_from_a_public_site_never_reach_private_addresses() -> None:
    import asyncio

    import pytest
    from scrapy import Request, Spider
    from scrapy.exceptions import IgnoreRequest
    from scrapy.utils.test import get_crawler

    from crawler.middlewares.scope import ANY_HOST_META, ScopeMiddleware
    from crawler.scope import private_host

    assert private_host("http://127.0.0.1:8080/x") and private_host("http://10.1.2.3/")
    assert private_host("http://localhost/") and private_host("http://[::1]/")
    assert not private_host("http://93.184.216.34/") and not private_host("http://cdn.test/")
    # Every spelling of an address is that address.
    for spelling in ("127.1", "2130706433", "0x7f000001", "0177.0.0.1", "[::ffff:127.0.0.1]",
                     "0.0.0.0", "169.254.169.254", "[fe80::1]", "[fd00::1]", "224.0.0.1",
                     "100.64.0.1", "[::ffff:10.0.0.1]", "[64:ff9b::7f00:1]"):  # fmt: skip
        assert private_host(f"http://{spelling}/"), spelling

    class Public(Spider):
        name = "public"
        scope = Scope.from_seeds(["https://reviews.test/"])

    crawler = get_crawler(Public)
    crawler.spider = Public()
    middleware = ScopeMiddleware.from_crawler(crawler)

    def decide(request: Request) -> None:
        return asyncio.run(middleware.process_request(request))

    requisite = {ANY_HOST_META: True}
    assert decide(Request("https://93.184.216.34/a.css", meta=requisite)) is None
    for url in ("http://127.0.0.1/admin.png", "http://192.168.1.1/x.css", "http://127.1:80/",
                "http://2130706433/", "http://[::ffff:127.0.0.1]/x"):  # fmt: skip
        with pytest.raises(IgnoreRequest, match="private address refused"):
            decide(Request(url, meta=requisite))
    with pytest.raises(IgnoreRequest):
        decide(Request("https://cdn.test/page.html"))
