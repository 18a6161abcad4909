"""The pieces of reading reviews from markup: scores on one scale, identifiers, names as
matching compares them, and ``@id`` graphs (cycles and hostile sizes included)."""

from __future__ import annotations

import json

import pytest

from archive.names import name_key
from pipelines.extraction import analyze_page
from pipelines.items import gtin14, isbn13, item_facts
from pipelines.page import PageInput
from pipelines.ratings import read_rating
from pipelines.structured import MAX_RESOLVED, resolved


@pytest.mark.parametrize(
    ("rating", "scale", "score"),
    [
        ({"ratingValue": 4, "bestRating": 5}, "0-5", 80.0),
        ({"ratingValue": "4", "bestRating": "5", "worstRating": "1"}, "1-5", 75.0),
        ({"ratingValue": 3, "bestRating": 4}, "0-4", 75.0),  # a four-star scale
        ({"ratingValue": "7,5", "bestRating": "10"}, "0-10", 75.0),
        ({"ratingValue": "8/10"}, "0-10", 80.0),
        ({"ratingValue": 3.5}, "0-5", 70.0),  # schema.org's default best: 5
        ({"ratingValue": 86, "bestRating": 100}, "0-100", 86.0),
        ({"ratingValue": "B+", "bestRating": "A+", "worstRating": "F"}, "F-A+", 75.0),
        ({"ratingValue": "A-", "bestRating": "A"}, "F-A", 90.9),
        ({"ratingValue": "c", "bestRating": "A+"}, "F-A+", 41.7),
        ({"ratingValue": "86%"}, "0-100", 86.0),
        ({"ratingValue": "★★★★☆"}, "0-5", 80.0),
        ({"ratingValue": "4.5 stars"}, "0-5", 90.0),
        ({"ratingValue": "4/5"}, "0-5", 80.0),
    ],
)
def test_scores_on_one_scale(rating: dict, scale: str, score: float) -> None:
    facts = read_rating(rating)
    assert facts is not None and (facts.scale, facts.score) == (scale, score)


@pytest.mark.parametrize(
    "rating",
    [
        {"ratingValue": 8},  # more than 5 and no stated best: the scale is unknown
        {"ratingValue": "B+"},  # a grade without its scale
        {"ratingValue": 7, "bestRating": 5},  # outside its scale
        {"ratingValue": "two thumbs up"},
    ],
)
def test_no_score_when_the_scale_is_unknown(rating: dict) -> None:
    facts = read_rating(rating)
    assert facts is not None and facts.score is None and facts.text


def test_identifiers_and_names() -> None:
    assert isbn13("0-306-40615-2") == "9780306406157"  # ISBN-10 becomes its ISBN-13
    assert isbn13("978-0-306-40615-7") == "9780306406157"
    assert isbn13("978-0-306-40615-8") is None  # a wrong check digit matches nothing
    assert gtin14("4006381333931") == "04006381333931"
    assert gtin14("4006381333932") is None
    for spelling in ("The Quiet Orchard", "Quiet Orchard, The", "QUIET  ORCHARD (2025)",
                     "the quiet-orchard"):  # fmt: skip
        assert name_key(spelling) == "quiet orchard"
    assert name_key("Amélie & Co.") == name_key("amelie and co")
    facts = item_facts({
        "@type": "Movie", "name": "The Quiet Orchard (2025)",
        "sameAs": ["https://www.imdb.com/title/tt9912345/", "https://example.org/film"],
        "director": {"@type": "Person", "name": "Inès Calloway"},
    })  # fmt: skip
    assert facts is not None and facts.year == 2025 and facts.creator_keys == ("ines calloway",)
    assert facts.identifiers == (("imdb", "tt9912345"),)  # an unknown sameAs matches nothing
    assert len(facts.same_as) == 2
    wiki = {
        item_facts({"@type": "Movie", "name": "Dune", "sameAs": url}).identifiers  # type: ignore[union-attr]
        for url in ("https://en.wikipedia.org/wiki/Dune_(2021_film)",
                    "https://en.m.wikipedia.org/wiki/Dune_%282021_film%29")
    }  # fmt: skip
    assert wiki == {(("wikipedia", "en:Dune (2021 film)"),)}  # one page, two URLs
    product = item_facts({"@type": "Product", "name": "X", "mpn": "HV-A200", "gtin13": "bad"})
    assert product is not None and product.identifiers == ()  # an MPN needs its brand


def _page(data: object) -> PageInput:
    body = (
        '<!DOCTYPE html><html lang="en"><head><title>A film | Site</title>'
        f'<script type="application/ld+json">{json.dumps(data)}</script></head><body>'
        "<article><h1>A film</h1>"
        + "<p>A long paragraph about a film that was reviewed at length here. </p>" * 12
        + "</article></body></html>"
    )
    return PageInput(url="http://site.test/r/", body=body.encode())


def test_id_references_with_cycles_resolve_once() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "Review", "@id": "#r", "itemReviewed": {"@id": "#m"},
             "reviewRating": {"ratingValue": 4}, "author": {"@id": "#p"}},
            {"@type": "Movie", "@id": "#m", "name": "Loop", "review": {"@id": "#r"}},
            {"@type": "Person", "@id": "#p", "name": "Ana Critic", "knows": {"@id": "#p"}},
        ],
    }  # fmt: skip
    article = analyze_page(_page(graph)).article
    assert article is not None
    assert [(r.author, r.item and r.item.name, r.rating.score) for r in article.reviews] == [
        ("Ana Critic", "Loop", 80.0)
    ]


def test_a_hostile_graph_stays_bounded() -> None:
    nodes = [{"@id": f"#n{i}", "@type": "Thing", "next": [{"@id": f"#n{j}"} for j in range(30)]}
             for i in range(30)]  # fmt: skip
    out = resolved(nodes)
    copies = json.dumps(out).count('"@type"')
    assert copies <= len(nodes) + MAX_RESOLVED


def test_every_review_of_a_long_list_and_no_page_rating_from_it() -> None:
    product = {
        "@context": "https://schema.org", "@type": "Product", "name": "Lamp",
        "aggregateRating": {"ratingValue": "3.0", "reviewCount": 40},
        "review": [{"@type": "Review", "author": f"Reader {n}", "datePublished": "2026-01-02",
                    "reviewRating": {"ratingValue": 1 + n % 5}} for n in range(40)],
    }  # fmt: skip
    article = analyze_page(_page(product)).article
    assert article is not None and len(article.reviews) == 40
    assert {r.kind for r in article.reviews} == {"listed"}
    assert article.rating_value is None  # no one reader's rating is the page's
    assert article.item_reviewed == "Lamp"
    (aggregate,) = article.aggregates
    assert aggregate.review_count == 40 and aggregate.rating.score == 60.0


def test_rdfa_with_a_schema_prefix() -> None:
    body = (
        '<!DOCTYPE html><html lang="en" prefix="schema: https://schema.org/"><head>'
        "<title>Tin Roof | Porch Records</title></head><body>"
        '<article typeof="schema:Review"><h1 property="schema:name">Tin Roof, reviewed</h1>'
        '<div property="schema:itemReviewed" typeof="schema:MusicAlbum">'
        '<span property="schema:name">Tin Roof</span>'
        '<link property="schema:sameAs" href="https://www.wikidata.org/wiki/Q99999999"></div>'
        '<div property="schema:reviewRating" typeof="schema:Rating">'
        '<span property="schema:ratingValue">3</span> of '
        '<span property="schema:bestRating">4</span></div>'
        + "<p>The record moves slowly and rewards patience at every turn of it. </p>" * 12
        + "</article></body></html>"
    )
    article = analyze_page(
        PageInput(url="http://porch.test/r/tin-roof/", body=body.encode())
    ).article
    assert article is not None
    (review,) = article.reviews
    assert review.syntax == "rdfa" and review.rating.score == 75.0
    assert review.item is not None and review.item.identifiers == (("wikidata", "Q99999999"),)
    assert article.site_name == "Porch Records"  # the title's suffix, not the host


def test_one_review_nested_in_its_item_is_the_pages_own_and_the_header_names_the_site() -> None:
    film = {
        "@context": "https://schema.org", "@type": "Movie", "name": "Paper Moons",
        "review": {"@type": "Review", "author": "Ines Critic",
                   "reviewRating": {"ratingValue": "3", "bestRating": "5"}},
    }  # fmt: skip
    page = _page(film)
    body = page.body.replace(b"<title>A film | Site</title>", b"<title>Paper Moons</title>")
    body = body.replace(b"<body>", b'<body><header><p class="site-title">Night Desk</p></header>')
    article = analyze_page(PageInput(url="http://127.0.0.1:9/r/", body=body)).article
    assert article is not None and article.rating_value == 3.0
    (review,) = article.reviews
    assert review.kind == "page" and review.item is not None and review.item.name == "Paper Moons"
    assert article.site_name == "Night Desk"  # not "127.0.0.1"


def test_the_home_link_names_the_site_when_nothing_else_does() -> None:
    page = _page({"@context": "https://schema.org", "@type": "Review", "author": "Ana",
                  "itemReviewed": {"@type": "Book", "name": "Salt"},
                  "reviewRating": {"ratingValue": 4}})  # fmt: skip
    body = page.body.replace(b"<title>A film | Site</title>", b"<title>Salt, reviewed</title>")
    body = body.replace(b"<body>", b'<body><header><nav><a href="/" rel="home">Home</a></nav>'
                        b'<a href="/" rel="home">Ink &amp; Ash</a></header>')  # fmt: skip
    article = analyze_page(PageInput(url="http://127.0.0.1:9/r/", body=body)).article
    assert article is not None and article.site_name == "Ink & Ash"
