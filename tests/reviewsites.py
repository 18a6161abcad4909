"""Hand-written review sites for the tests of "reviews as data".

Five small sites, each served by its own ``tests.mockserver.PagesServer`` (so each has its own
host:port), whose pages state reviews in the ways real sites do: one JSON-LD Review, a Yoast-
style ``@graph`` reached only through ``@id`` references, a Product with twenty user reviews in
JSON-LD, a Product with its reviews in microdata, a review in RDFa only, and a microdata review
on a site that names itself only in its titles. Every film, album, book, product, critic and
shopper here is invented, and so is every sentence.

``sites()`` gives site key -> {path: (status, headers, body)}; every site has a home page "/"
that links each of its pages, and links only within itself (relative hrefs: the ports are
chosen at run time). ``EXPECTED`` is what the reviews, items, aggregates, tags and site names
drawn from these pages must be (see the comments on it).

``python -m tests.reviewsites`` serves all five sites and prints their URLs.
"""

from __future__ import annotations

import json
import random
from html import escape

Page = tuple[int, dict[str, str], str]

SITE_NAMES = {
    "shop": "Brightline Goods",
    "film-a": "The Reel Ledger",
    "film-b": "Cinema Notes",
    "film-c": "Midnight Matinee",
    "blog": "Small Room Reviews",
}

MUSICBRAINZ_TIDEWATER = "https://musicbrainz.org/release-group/5b11f4ce-a62d-471e-81fc-a69a8278c7da"
IMDB_QUIET_ORCHARD = "https://www.imdb.com/title/tt9912345/"

# -- prose -----------------------------------------------------------------------------------
# Body text is composed from a subject and a predicate drawn, without reuse, by a generator
# seeded with the page's path, after a few sentences written for that page: every page reads
# differently, so no page looks like a near-duplicate of another.

_SUBJECTS = {
    "film": [
        "The opening reel",
        "The sound design",
        "The long middle stretch",
        "The final shot",
        "The editing",
        "The supporting cast",
        "The camera",
        "The score",
        "The script",
        "The production design",
        "The central performance",
        "The pacing",
        "Every dinner-table scene",
        "The colour grading",
    ],
    "album": [
        "The title track",
        "The rhythm section",
        "The second side",
        "The production",
        "The closing song",
        "The vocal harmony",
        "The string arrangement",
        "The sequencing",
        "The lead guitar",
        "The opening song",
        "The drum sound",
        "The quietest song",
    ],
    "book": [
        "The prose",
        "The second half",
        "The narrator",
        "The harbour town",
        "The dialogue",
        "The structure",
        "The final chapter",
        "The lighthouse itself",
        "The family at its centre",
        "The pacing",
        "The translation of grief into weather",
        "The epilogue",
    ],
    "product": [
        "The finish",
        "The build",
        "The weight in the hand",
        "The colour range",
        "The warranty",
        "The price",
        "The overall design",
        "The attention to detail",
        "The first impression",
        "The day-to-day experience",
        "The value for money",
        "The packaging",
    ],
}

_PREDICATES = {
    "film": [
        "lingers a beat longer than most editors would allow, and the film is better for it.",
        "earns its quiet by refusing to explain what the characters already understand.",
        "carries more of the story than the dialogue ever admits.",
        "turns a modest budget into something that feels deliberate rather than thrifty.",
        "stumbles once, in a flashback that tells us what a glance had already shown.",
        "rewards a second viewing more generously than the first.",
        "keeps the audience at arm's length until the last twenty minutes.",
        "makes a handful of locations feel like one lived-in place.",
        "relies on silence in a way that will test some viewers and reward others.",
        "never reaches for the easy sentiment that the premise seems to invite.",
        "is where the film briefly loses its nerve and hurries toward the ending.",
        "deserves more attention than the festival buzz has given it.",
        "sets a tone that the rest of the picture only occasionally matches.",
        "feels rehearsed in the best sense, with nothing left to chance.",
    ],
    "album": [
        "sounds as if it were recorded in a cold room with the windows open.",
        "holds the whole record together when the songwriting drifts.",
        "is where the band finally lets a melody breathe instead of crowding it.",
        "leans on reverb a little too heavily, though the effect is rarely unpleasant.",
        "rewards headphones far more than a kitchen radio.",
        "recalls the band's earliest singles without simply repeating them.",
        "is patient to a fault and occasionally mistakes stillness for depth.",
        "gives the singer room to sound tired, which suits these songs.",
        "lands harder on the third listen than on the first.",
        "turns a simple coastal image into something genuinely unsettling.",
        "is the one misstep, a detour into brightness the record does not need.",
        "proves the group can be restrained without becoming dull.",
    ],
    "book": [
        "moves with the slow certainty of a tide coming in over flat sand.",
        "is where the novel tightens its grip and stops apologising for its pace.",
        "gives every minor character at least one line worth underlining.",
        "occasionally tips into ornament, though never for long.",
        "makes the weather feel like a member of the household.",
        "leaves just enough unresolved to keep the reader thinking for days.",
        "earns its emotional ending honestly, without a single speech.",
        "is built from short chapters that read like entries in a ship's log.",
        "handles memory with more care than most literary thrillers manage.",
        "runs a little long, though it never drags.",
        "stays with you in the way a half-remembered song does.",
        "turns a small coastal community into a convincing moral universe.",
    ],
    "product": [
        "feels considered rather than merely expensive.",
        "is better than the asking price would suggest.",
        "puts most of the competition in this category to shame.",
        "is the one area where corners seem to have been cut.",
        "held up well over a month of daily use.",
        "will please anyone who cares about small things done properly.",
        "is hard to fault at this level.",
        "could be better, though nothing here is a deal-breaker.",
        "surprised us more than once during testing.",
        "is about what you would expect from a mid-range brand.",
        "left a better impression after a fortnight than on the first day.",
        "matches the careful reputation the brand has built.",
    ],
}


def _prose(seed: str, kind: str, lead: list[str], paragraphs: int = 3, per: int = 3) -> str:
    """HTML paragraphs: the page's own ``lead`` sentences, then composed ones (each subject and
    each predicate used at most once on a page)."""
    rng = random.Random(seed)
    subjects = rng.sample(_SUBJECTS[kind], paragraphs * per)
    predicates = rng.sample(_PREDICATES[kind], paragraphs * per)
    composed = [f"{s} {p}" for s, p in zip(subjects, predicates, strict=True)]
    out = []
    for n in range(paragraphs):
        sentences = (lead if n == 0 else []) + composed[n * per : (n + 1) * per]
        out.append(f"<p>{_text(' '.join(sentences))}</p>")
    return "\n".join(out)


# -- page helpers ----------------------------------------------------------------------------


def _text(text: str) -> str:
    return escape(text, quote=False)


def _jsonld(data: object) -> str:
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{text}\n</script>'


def _page(
    title: str, body: str, head: str = "", site_name: str | None = None, lang: str = "en"
) -> Page:
    og = f'<meta property="og:site_name" content="{escape(site_name)}">\n' if site_name else ""
    html = (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_text(title)}</title>\n{og}{head}</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
    return (200, {"Content-Type": "text/html; charset=utf-8"}, html)


def _header(site_name: str) -> str:
    return f'<header><a href="/">{_text(site_name)}</a></header>'


def _home(site: str, pages: dict[str, Page], og: bool = True) -> Page:
    name = SITE_NAMES[site]
    links = "\n".join(
        f'<li><a href="{path}">{_text(_title_of(pages[path]))}</a></li>' for path in pages
    )
    body = f"{_header(name)}\n<main>\n<h1>{_text(name)}</h1>\n<ul>\n{links}\n</ul>\n</main>"
    return _page(f"Home | {name}", body, site_name=name if og else None)


def _title_of(page: Page) -> str:
    html = page[2]
    return html.split("<title>", 1)[1].split("</title>", 1)[0].split(" | ")[0].split(" – ")[0]


def _with_home(site: str, pages: dict[str, Page], og: bool = True) -> dict[str, Page]:
    return {"/": _home(site, pages, og), **pages}


# -- shop: Brightline Goods ------------------------------------------------------------------

# (author, date, rating as the page writes it, headline, body): ratings average 4.3.
HEADPHONE_REVIEWS: list[tuple[str, str, int | str, str, str]] = [
    (
        "Greta Holmqvist",
        "2026-01-04",
        5,
        "Silence on the tram",
        "The noise cancelling shuts out the morning tram completely. I forgot they were on.",
    ),
    (
        "Tobias Renner",
        "2026-01-09",
        "4",
        "Great, slightly tight",
        "Excellent sound for the money, but the headband pinched for the first week.",
    ),
    (
        "Amara Nwosu",
        "2026-01-15",
        5,
        "Battery lasts forever",
        "I charged them on a Sunday and they were still going the following Friday.",
    ),
    (
        "Felix Ostrander",
        "2026-01-21",
        "5",
        "Best purchase this winter",
        "Warm, detailed sound and the ear cushions stay comfortable through a long flight.",
    ),
    (
        "Ilse Vandermeer",
        "2026-01-28",
        3,
        "Good, app is clumsy",
        "The headphones themselves are fine. The companion app keeps forgetting my EQ settings.",
    ),
    (
        "Rafael Quintero",
        "2026-02-02",
        5,
        "Bass without mud",
        "Deep bass that never smears the vocals. Jazz records sound lovely on these.",
    ),
    (
        "Noor Haddad",
        "2026-02-07",
        "4",
        "Solid commuter pair",
        "Folds flat into my bag and the case feels sturdy. Calls are a little thin.",
    ),
    (
        "Callum Birkett",
        "2026-02-13",
        1,
        "Left cup died",
        "The left side went silent after nine days. The replacement has been fine so far.",
    ),
    (
        "Mireille Fontaine",
        "2026-02-18",
        5,
        "Finally, quiet flights",
        "Used them on a twelve-hour flight and stepped off without the usual engine headache.",
    ),
    (
        "Hamish Laidlaw",
        "2026-02-24",
        "5",
        "Comfortable with glasses",
        "Most headphones press my glasses into my temples. These do not, even after hours.",
    ),
    (
        "Yuki Tanabe",
        "2026-03-01",
        2,
        "Hiss in quiet rooms",
        "With cancelling on there is a faint hiss when nothing is playing. It bothers me at night.",
    ),
    (
        "Beatriz Salgado",
        "2026-03-06",
        5,
        "Clear and balanced",
        "Balanced, clear and not fatiguing. I can listen all afternoon while I work.",
    ),
    (
        "Oskar Lindgren",
        "2026-03-12",
        "3",
        "Fine, not special",
        "They do the job, but my old pair from another brand sounded about the same.",
    ),
    (
        "Priyanka Desai",
        "2026-03-17",
        5,
        "Pairs in seconds",
        "Switching between my laptop and phone takes a couple of seconds and never drops.",
    ),
    (
        "Dorian Kessler",
        "2026-03-23",
        "5",
        "Worth the price",
        "Pricey, but the build and the cancelling justify it. The hinges feel made to last.",
    ),
    (
        "Lucia Ferraro",
        "2026-03-29",
        4,
        "Lovely, warm sound",
        "A warm, slightly relaxed tuning. Not for analysts, perfect for long evenings.",
    ),
    (
        "Emeka Obi",
        "2026-04-03",
        5,
        "Gym proof so far",
        "Sweaty sessions three times a week and the pads still look new after two months.",
    ),
    (
        "Sanna Virtanen",
        "2026-04-08",
        "5",
        "Transparency mode is great",
        "The transparency mode sounds natural enough to hold a conversation at the counter.",
    ),
    (
        "Bartholomew Crane",
        "2026-04-14",
        5,
        "Gift that landed",
        "Bought these for my daughter and she has not taken them off since her birthday.",
    ),
    (
        "Hana Novotna",
        "2026-04-19",
        5,
        "Quiet office at last",
        "Our open-plan office is loud. With these on it feels like a library.",
    ),
]

KETTLE_REVIEWS: list[tuple[str, str, str, str, str]] = [
    (
        "Lotte Verhaeghe",
        "2026-02-11",
        "5",
        "A proper pour",
        "The gooseneck gives a thin, steady stream, exactly what a slow pour-over needs.",
    ),
    (
        "Cass Mbeki",
        "2026-03-04",
        "4.5",
        "Handsome and precise",
        "Looks beautiful on the stove and pours precisely. The lid rattles a little.",
    ),
    (
        "Jonah Pelletier",
        "2026-03-27",
        "4",
        "Heats slowly",
        "Takes a while on induction, but the control over the pour makes up for it.",
    ),
]


def _shop() -> dict[str, Page]:
    site = SITE_NAMES["shop"]
    return _with_home(
        "shop",
        {
            "/p/aurora-headphones/": _headphones(site),
            "/p/kettle/": _kettle(site),
        },
    )


def _headphones(site: str) -> Page:
    name = "Aurora ANC Headphones"
    reviews = [
        {
            "@type": "Review",
            "name": headline,
            "author": {"@type": "Person", "name": author},
            "datePublished": date,
            "reviewRating": {
                "@type": "Rating",
                "ratingValue": rating,
                "bestRating": 5,
                "worstRating": 1,
            },
            "reviewBody": text,
        }
        for author, date, rating, headline, text in HEADPHONE_REVIEWS
    ]
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "@id": "#product",
        "name": name,
        "url": "/p/aurora-headphones/",
        "brand": {"@type": "Brand", "name": "Halvard"},
        "gtin13": "4006381333931",
        "mpn": "HV-A200",
        "description": "Over-ear wireless headphones with adaptive noise cancelling.",
        "offers": {
            "@type": "Offer",
            "price": "189.00",
            "priceCurrency": "EUR",
            "availability": "https://schema.org/InStock",
        },
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingValue": "4.3",
            "bestRating": "5",
            "ratingCount": 20,
            "reviewCount": 20,
        },
        "review": reviews,
    }
    lead = [
        "The Aurora is Halvard's first over-ear model with adaptive noise cancelling, tuned in "
        "the company's studio for listeners who spend their days on trains and in open offices.",
        "Forty hours of battery, a fold-flat hinge and memory-foam cushions wrapped in soft "
        "protein leather make it an easy companion for long journeys.",
    ]
    items = "\n".join(
        f'<li class="user-review"><h3>{_text(headline)}</h3>'
        f'<p class="by">{_text(author)}, <time datetime="{date}">{date}</time>, '
        f"{rating} out of 5</p><p>{_text(text)}</p></li>"
        for author, date, rating, headline, text in HEADPHONE_REVIEWS
    )
    body = (
        f"{_header(site)}\n<main>\n<article>\n<h1>{name}</h1>\n"
        f'<p class="price">EUR 189.00 · Halvard · model HV-A200</p>\n'
        f"{_prose('/p/aurora-headphones/', 'product', lead, paragraphs=3, per=4)}\n"
        f'</article>\n<section id="reviews">\n<h2>Customer reviews (20)</h2>\n'
        f"<p>Average rating 4.3 out of 5</p>\n<ol>\n{items}\n</ol>\n</section>\n</main>"
    )
    return _page(f"{name} | {site}", body, head=_jsonld(data), site_name=site)


def _kettle(site: str) -> Page:
    name = "Tessel Pour-Over Kettle"
    lead = [
        "Tessel's pour-over kettle holds just under a litre and has a long, narrow gooseneck "
        "spout for slow, even pours over a filter cone.",
        "The brushed steel body works on gas, electric and induction hobs, and the walnut "
        "handle stays cool while the water comes to the boil.",
    ]
    reviews = "\n".join(
        f'<div class="user-review" itemprop="review" itemscope '
        f'itemtype="https://schema.org/Review">\n'
        f'<h3 itemprop="name">{_text(headline)}</h3>\n'
        f'<p>By <span itemprop="author" itemscope itemtype="https://schema.org/Person">'
        f'<span itemprop="name">{_text(author)}</span></span>, {date}'
        f'<meta itemprop="datePublished" content="{date}"></p>\n'
        f'<div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">'
        f'<meta itemprop="ratingValue" content="{rating}">'
        f'<meta itemprop="bestRating" content="5">{rating} of 5 stars</div>\n'
        f'<p itemprop="reviewBody">{_text(text)}</p>\n</div>'
        for author, date, rating, headline, text in KETTLE_REVIEWS
    )
    body = (
        f"{_header(site)}\n<main>\n"
        f'<article itemscope itemtype="https://schema.org/Product">\n'
        f'<h1 itemprop="name">{name}</h1>\n'
        f'<p>By <span itemprop="brand" itemscope itemtype="https://schema.org/Brand">'
        f'<span itemprop="name">Tessel</span></span> · model '
        f'<span itemprop="mpn">TK-9</span></p>\n'
        f'<div itemprop="description">\n'
        f"{_prose('/p/kettle/', 'product', lead, paragraphs=3, per=4)}\n</div>\n"
        f'<div itemprop="aggregateRating" itemscope '
        f'itemtype="https://schema.org/AggregateRating">Rated '
        f'<span itemprop="ratingValue">4.5</span> out of '
        f'<span itemprop="bestRating">5</span> from '
        f'<span itemprop="reviewCount">3</span> reviews'
        f'<meta itemprop="ratingCount" content="3"></div>\n'
        f'<section id="reviews">\n<h2>Customer reviews</h2>\n{reviews}\n</section>\n'
        f"</article>\n</main>"
    )
    return _page(f"{name} | {site}", body)


# -- film-a: The Reel Ledger -----------------------------------------------------------------


def _film_a() -> dict[str, Page]:
    site = SITE_NAMES["film-a"]
    orchard = _critic_review(
        site=site,
        path="/reviews/quiet-orchard/",
        headline="The Quiet Orchard review: a family drama that keeps its secrets",
        critic="Maren Ostrowski",
        date="2026-03-02",
        kind="film",
        item={
            "@type": "Movie",
            "name": "The Quiet Orchard",
            "sameAs": IMDB_QUIET_ORCHARD,
            "datePublished": "2025",
            "director": {"@type": "Person", "name": "Ines Calloway"},
        },
        rating={"@type": "Rating", "ratingValue": "B+", "bestRating": "A+", "worstRating": "F"},
        verdict="Grade: B+",
        lead=[
            "Ines Calloway's second feature follows three grown siblings who return to their "
            "late father's apple orchard for one last harvest before the land is sold.",
            "Nobody in The Quiet Orchard says what they mean, and Calloway trusts us to notice.",
        ],
        extra=(
            '<p class="tags">Filed under <a rel="tag" href="/tag/drama/">Drama</a> and '
            '<a rel="tag" href="/tag/festival-circuit/">Festival circuit</a></p>'
        ),
    )
    tidewater = _critic_review(
        site=site,
        path="/reviews/tidewater/",
        headline="Tidewater: The Marram Grass go quiet, and it suits them",
        critic="Dov Achterberg",
        date="2026-02-16",
        kind="album",
        item={
            "@type": "MusicAlbum",
            "name": "Tidewater",
            "byArtist": {"@type": "MusicGroup", "name": "The Marram Grass"},
            "sameAs": MUSICBRAINZ_TIDEWATER,
        },
        rating={"@type": "Rating", "ratingValue": 3, "bestRating": 4},
        verdict="Three stars out of four",
        lead=[
            "Tidewater is the fourth record from The Marram Grass and the first they made "
            "without a producer, in a converted boathouse on a windy stretch of coast.",
        ],
    )
    tag_pages = {
        f"/tag/{slug}/": _page(
            f"{label} | {site}",
            f"{_header(site)}\n<main>\n<h1>Tagged: {label}</h1>\n<ul>\n<li><a "
            f'href="/reviews/quiet-orchard/">The Quiet Orchard review</a></li>\n</ul>\n</main>',
            site_name=site,
        )
        for slug, label in [("drama", "Drama"), ("festival-circuit", "Festival circuit")]
    }
    return _with_home(
        "film-a",
        {
            "/reviews/quiet-orchard/": orchard,
            "/reviews/tidewater/": tidewater,
            **tag_pages,
        },
    )


def _critic_review(
    *,
    site: str,
    path: str,
    headline: str,
    critic: str,
    date: str,
    kind: str,
    item: dict[str, object],
    rating: dict[str, object],
    verdict: str,
    lead: list[str],
    extra: str = "",
    sep: str = " | ",
) -> Page:
    """A critic's review with one JSON-LD Review whose item is written inline."""
    data = {
        "@context": "https://schema.org",
        "@type": "Review",
        "name": headline,
        "url": path,
        "itemReviewed": item,
        "reviewRating": rating,
        "author": {"@type": "Person", "name": critic},
        "datePublished": date,
        "publisher": {"@type": "Organization", "name": site},
    }
    body = (
        f"{_header(site)}\n<main>\n<article>\n<h1>{_text(headline)}</h1>\n"
        f'<p class="byline">By {_text(critic)} · <time datetime="{date}">{date}</time></p>\n'
        f"{_prose(path, kind, lead, paragraphs=3)}\n"
        f'<p class="verdict">{_text(verdict)}</p>\n{extra}\n</article>\n</main>'
    )
    return _page(f"{headline}{sep}{site}", body, head=_jsonld(data), site_name=site)


# -- film-b: Cinema Notes (a Yoast-style @graph) ---------------------------------------------


def _film_b() -> dict[str, Page]:
    site = SITE_NAMES["film-b"]
    path = "/2026/04/quiet-orchard-review/"
    headline = "Quiet Orchard, The (2025): an orchard of unspoken grief"
    critic = "Priya Lindqvist"
    date = "2026-04-09T08:30:00+00:00"
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "@id": "/#website", "name": site, "url": "/"},
            {
                "@type": "WebPage",
                "@id": f"{path}#webpage",
                "url": path,
                "name": f"{headline} – {site}",
                "isPartOf": {"@id": "/#website"},
                "datePublished": date,
            },
            {
                "@type": "Article",
                "@id": "#article",
                "headline": headline,
                "isPartOf": {"@id": f"{path}#webpage"},
                "author": {"@id": "#critic"},
                "datePublished": date,
                "publisher": {"@id": "/#website"},
            },
            {
                "@type": "Review",
                "@id": "#review",
                "name": headline,
                "itemReviewed": {"@id": "#movie"},
                "reviewRating": {"@type": "Rating", "ratingValue": "7.5", "bestRating": "10"},
                "author": {"@id": "#critic"},
                "datePublished": date,
                "isPartOf": {"@id": "#article"},
            },
            {
                "@id": "#movie",
                "@type": "Movie",
                "name": "Quiet Orchard, The",
                "dateCreated": "2025-09-14",
                "director": [{"@type": "Person", "name": "Inès Calloway"}],
            },
            {"@id": "#critic", "@type": "Person", "name": critic},
        ],
    }
    head = (
        _jsonld(graph) + "\n"
        '<meta property="og:type" content="article">\n'
        '<meta property="article:tag" content="Drama">\n'
        '<meta property="article:tag" content="Slow cinema">\n'
    )
    lead = [
        "Inès Calloway has made a film about inheritance in which the inheritance is mostly "
        "silence, and the apple trees are the only ones who seem to know what happened.",
        "Three siblings, one last harvest, and a buyer's letter that nobody wants to open.",
    ]
    body = (
        f"{_header(site)}\n<main>\n<article>\n<h1>{_text(headline)}</h1>\n"
        f'<p class="byline">By {critic} · 9 April 2026</p>\n'
        f"{_prose(path, 'film', lead, paragraphs=3)}\n"
        f'<p class="verdict">Score: 7.5/10</p>\n</article>\n</main>'
    )
    return _with_home(
        "film-b",
        {
            path: _page(f"{headline} – {site}", body, head=head, site_name=site),
        },
    )


# -- film-c: Midnight Matinee ----------------------------------------------------------------


def _film_c() -> dict[str, Page]:
    site = SITE_NAMES["film-c"]
    orchard = _critic_review(
        site=site,
        path="/posts/quiet-orchard/",
        headline="QUIET ORCHARD is the slow burn of the spring",
        critic="Teodor Vance",
        date="2026-04-21",
        kind="film",
        item={"@type": "Movie", "name": "QUIET ORCHARD"},
        rating={"@type": "Rating", "ratingValue": 4, "bestRating": 5},
        verdict="Four out of five",
        lead=[
            "We caught QUIET ORCHARD at a late show with eleven other people, and by the end "
            "not one of them had reached for a phone.",
        ],
    )
    tidewater = _critic_review(
        site=site,
        path="/posts/tidewater/",
        headline="Tidewater (Deluxe Edition): worth the extra disc?",
        critic="Sunniva Okafor",
        date="2026-05-05",
        kind="album",
        item={
            "@type": "MusicAlbum",
            "name": "Tidewater (Deluxe Edition)",
            "byArtist": {"@type": "MusicGroup", "name": "The Marram Grass"},
            "sameAs": MUSICBRAINZ_TIDEWATER,
        },
        rating={"@type": "Rating", "ratingValue": "8", "bestRating": "10"},
        verdict="8/10",
        lead=[
            "The deluxe reissue of Tidewater adds six demos and a live set recorded in a "
            "church hall, and the extras are better than deluxe extras usually are.",
        ],
    )
    return _with_home(
        "film-c",
        {
            "/posts/quiet-orchard/": orchard,
            "/posts/tidewater/": tidewater,
            "/posts/lantern/": _lantern(site),
        },
    )


def _lantern(site: str) -> Page:
    """A book review stated in RDFa only."""
    path = "/posts/lantern/"
    headline = "The Lantern Keeper's Daughter, a novel that smells of salt"
    lead = [
        "Odile Farrant's novel follows a lighthouse keeper's daughter who stays on the rock "
        "after the light is automated, keeping a log that nobody will read.",
    ]
    body = (
        f"{_header(site)}\n<main>\n"
        f'<article vocab="https://schema.org/" typeof="Review">\n'
        f'<h1 property="name">{_text(headline)}</h1>\n'
        f'<p class="byline">By <span property="author" typeof="Person">'
        f'<span property="name">Ruth Abernethy-Cole</span></span> · '
        f'<time property="datePublished" content="2026-04-11" datetime="2026-04-11">'
        f"11 April 2026</time></p>\n"
        f'<p class="book" property="itemReviewed" typeof="Book">'
        f'<cite property="name">The Lantern Keeper\'s Daughter</cite> by '
        f'<span property="author" typeof="Person"><span property="name">Odile Farrant</span>'
        f'</span>, ISBN <span property="isbn">978-0-306-40615-7</span></p>\n'
        f'<div property="reviewBody">\n{_prose(path, "book", lead, paragraphs=3)}\n</div>\n'
        f'<p class="verdict" property="reviewRating" typeof="Rating">Rating: '
        f'<span property="ratingValue">9</span> out of '
        f'<span property="bestRating">10</span></p>\n'
        f"</article>\n</main>"
    )
    return _page(f"{headline} | {site}", body, site_name=site)


# -- blog: Small Room Reviews (no og:site_name, no publisher) --------------------------------


def _blog() -> dict[str, Page]:
    site = SITE_NAMES["blog"]
    path = "/reviews/graph-ref/"
    headline = "Paper Lanterns never quite catches light"
    lead = [
        "Paper Lanterns wants to be a gentle comedy about a failing stationery shop, and for "
        "twenty minutes it very nearly is.",
        "Then the plot arrives, and with it a landlord so villainous he might have wandered "
        "in from a pantomime.",
    ]
    body = (
        f'<header><p class="site-title"><a href="/">{site}</a></p></header>\n<main>\n'
        f'<article itemscope itemtype="https://schema.org/Review">\n'
        f'<h1 itemprop="name">{_text(headline)}</h1>\n'
        f'<p class="byline">Posted by <span itemprop="author" itemscope '
        f'itemtype="https://schema.org/Person"><span itemprop="name">Wendell Ambrose</span>'
        f'</span> on <time itemprop="datePublished" datetime="2026-01-30">30 January 2026'
        f"</time></p>\n"
        f'<p itemprop="itemReviewed" itemscope itemtype="https://schema.org/Movie">Film: '
        f'<span itemprop="name">Paper Lanterns</span> '
        f'(<span itemprop="dateCreated">2024</span>)</p>\n'
        f'<div itemprop="reviewBody">\n{_prose(path, "film", lead, paragraphs=3)}\n</div>\n'
        f'<p itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">My rating: '
        f'<span itemprop="ratingValue">2</span> out of <span itemprop="bestRating">5</span>'
        f"</p>\n</article>\n</main>"
    )
    return _with_home("blog", {path: _page(f"{headline} | {site}", body)}, og=False)


def sites() -> dict[str, dict[str, Page]]:
    """Site key -> {path: (status, headers, body)}; serve each with its own PagesServer."""
    return {
        "shop": _shop(),
        "film-a": _film_a(),
        "film-b": _film_b(),
        "film-c": _film_c(),
        "blog": _blog(),
    }


# -- what the tests assert -------------------------------------------------------------------


def _user_score(rating: int | str) -> float:
    return round((float(rating) - 1) / (5 - 1) * 100, 1)


_HEADPHONES = "/p/aurora-headphones/"

EXPECTED: dict = {
    # Every review that must be stored, each exactly once. rating_value is a float, or the
    # letter as written for a letter grade; rating_worst is the stated worstRating (None: not
    # stated, taken as 0). score = (value - worst) / (best - worst) * 100, 1 decimal; letters
    # on F, D-, D, D+, C-, C, C+, B-, B, B+, A-, A, A+ (F=0 ... A+=12). item: the item's name
    # as the page writes it. syntax: where the review is stated.
    "reviews": [
        *(
            {
                "site": "shop",
                "path": _HEADPHONES,
                "author": author,
                "rating_value": float(rating),
                "rating_best": 5.0,
                "rating_worst": 1.0,
                "score": _user_score(rating),
                "item": "Aurora ANC Headphones",
                "date": date,
                "name": headline,
                "syntax": "json-ld",
            }
            for author, date, rating, headline, _ in HEADPHONE_REVIEWS
        ),
        *(
            {
                "site": "shop",
                "path": "/p/kettle/",
                "author": author,
                "rating_value": float(rating),
                "rating_best": 5.0,
                "rating_worst": None,
                "score": round(float(rating) / 5 * 100, 1),
                "item": "Tessel Pour-Over Kettle",
                "date": date,
                "name": headline,
                "syntax": "microdata",
            }
            for author, date, rating, headline, _ in KETTLE_REVIEWS
        ),
        {
            "site": "film-a",
            "path": "/reviews/quiet-orchard/",
            "author": "Maren Ostrowski",
            "rating_value": "B+",
            "rating_best": "A+",
            "rating_worst": "F",
            "score": 75.0,
            "item": "The Quiet Orchard",
            "date": "2026-03-02",
            "syntax": "json-ld",
        },
        {
            "site": "film-a",
            "path": "/reviews/tidewater/",
            "author": "Dov Achterberg",
            "rating_value": 3.0,
            "rating_best": 4.0,
            "rating_worst": None,
            "score": 75.0,
            "item": "Tidewater",
            "date": "2026-02-16",
            "syntax": "json-ld",
        },
        {
            "site": "film-b",
            "path": "/2026/04/quiet-orchard-review/",
            "author": "Priya Lindqvist",
            "rating_value": 7.5,
            "rating_best": 10.0,
            "rating_worst": None,
            "score": 75.0,
            "item": "Quiet Orchard, The",
            "date": "2026-04-09",
            "syntax": "json-ld",
        },
        {
            "site": "film-c",
            "path": "/posts/quiet-orchard/",
            "author": "Teodor Vance",
            "rating_value": 4.0,
            "rating_best": 5.0,
            "rating_worst": None,
            "score": 80.0,
            "item": "QUIET ORCHARD",
            "date": "2026-04-21",
            "syntax": "json-ld",
        },
        {
            "site": "film-c",
            "path": "/posts/tidewater/",
            "author": "Sunniva Okafor",
            "rating_value": 8.0,
            "rating_best": 10.0,
            "rating_worst": None,
            "score": 80.0,
            "item": "Tidewater (Deluxe Edition)",
            "date": "2026-05-05",
            "syntax": "json-ld",
        },
        {
            "site": "film-c",
            "path": "/posts/lantern/",
            "author": "Ruth Abernethy-Cole",
            "rating_value": 9.0,
            "rating_best": 10.0,
            "rating_worst": None,
            "score": 90.0,
            "item": "The Lantern Keeper's Daughter",
            "date": "2026-04-11",
            "syntax": "rdfa",
        },
        {
            "site": "blog",
            "path": "/reviews/graph-ref/",
            "author": "Wendell Ambrose",
            "rating_value": 2.0,
            "rating_best": 5.0,
            "rating_worst": None,
            "score": 40.0,
            "item": "Paper Lanterns",
            "date": "2026-01-30",
            "syntax": "microdata",
        },
    ],
    # The items that must result (and no others), each with the (site, path) of every review
    # it holds, one entry per review. Matched by identifiers first (sameAs, gtin, isbn), then
    # by normalized name + type + year or creator; a name alone never merges. identifiers:
    # as the pages state them (property -> value, not normalized).
    "items": [
        {
            # no shared identifier: same normalized name, type, year 2025 and director
            # (Ines / Inès Calloway)
            "name_any_of": ["The Quiet Orchard", "Quiet Orchard, The"],
            "type": "Movie",
            "year": 2025,
            "creator": "Ines Calloway",
            "identifiers": {"sameAs": IMDB_QUIET_ORCHARD},
            "reviews": [
                ("film-a", "/reviews/quiet-orchard/"),
                ("film-b", "/2026/04/quiet-orchard-review/"),
            ],
        },
        {
            # the name only (no year, creator or identifier): never merged with the one above
            "name_any_of": ["QUIET ORCHARD", "Quiet Orchard"],
            "type": "Movie",
            "year": None,
            "creator": None,
            "identifiers": {},
            "reviews": [("film-c", "/posts/quiet-orchard/")],
        },
        {
            # merged by the MusicBrainz release group, though the names differ
            "name_any_of": ["Tidewater", "Tidewater (Deluxe Edition)"],
            "type": "MusicAlbum",
            "year": None,
            "creator": "The Marram Grass",
            "identifiers": {"sameAs": MUSICBRAINZ_TIDEWATER},
            "reviews": [("film-a", "/reviews/tidewater/"), ("film-c", "/posts/tidewater/")],
        },
        {
            "name_any_of": ["Aurora ANC Headphones"],
            "type": "Product",
            "year": None,
            "creator": "Halvard",
            "identifiers": {"gtin13": "4006381333931", "mpn": "HV-A200"},
            "reviews": [("shop", _HEADPHONES)] * len(HEADPHONE_REVIEWS),
        },
        {
            "name_any_of": ["Tessel Pour-Over Kettle"],
            "type": "Product",
            "year": None,
            "creator": "Tessel",
            "identifiers": {"mpn": "TK-9"},
            "reviews": [("shop", "/p/kettle/")] * len(KETTLE_REVIEWS),
        },
        {
            "name_any_of": ["The Lantern Keeper's Daughter"],
            "type": "Book",
            "year": None,
            "creator": "Odile Farrant",
            "identifiers": {"isbn": "978-0-306-40615-7"},
            "reviews": [("film-c", "/posts/lantern/")],
        },
        {
            "name_any_of": ["Paper Lanterns"],
            "type": "Movie",
            "year": 2024,
            "creator": None,
            "identifiers": {},
            "reviews": [("blog", "/reviews/graph-ref/")],
        },
    ],
    # AggregateRatings as the pages state them (not computed from the reviews).
    "aggregates": [
        {
            "site": "shop",
            "path": _HEADPHONES,
            "item": "Aurora ANC Headphones",
            "rating_value": 4.3,
            "rating_best": 5.0,
            "rating_count": 20,
            "review_count": 20,
        },
        {
            "site": "shop",
            "path": "/p/kettle/",
            "item": "Tessel Pour-Over Kettle",
            "rating_value": 4.5,
            "rating_best": 5.0,
            "rating_count": 3,
            "review_count": 3,
        },
    ],
    # Tags, lower-cased, of the pages that state any: film-a by rel="tag" links only, film-b
    # by two article:tag metas. No other page states tags.
    "tags": {
        ("film-a", "/reviews/quiet-orchard/"): ["drama", "festival circuit"],
        ("film-b", "/2026/04/quiet-orchard-review/"): ["drama", "slow cinema"],
    },
    # The name of each site. Stated by og:site_name and publisher/WebSite markup, except: the
    # kettle page (shop) only in its title's suffix, and the blog on no page but in titles and
    # a visible header.
    "site_names": dict(SITE_NAMES),
    # Pages that state at least one review, by site.
    "review_pages": {
        "shop": [_HEADPHONES, "/p/kettle/"],
        "film-a": ["/reviews/quiet-orchard/", "/reviews/tidewater/"],
        "film-b": ["/2026/04/quiet-orchard-review/"],
        "film-c": ["/posts/quiet-orchard/", "/posts/tidewater/", "/posts/lantern/"],
        "blog": ["/reviews/graph-ref/"],
    },
}


if __name__ == "__main__":
    import time

    from tests.mockserver import PagesServer

    servers = {key: PagesServer(pages) for key, pages in sites().items()}
    for key, server in servers.items():
        print(f"{key:8} {SITE_NAMES[key]:20} {server.base_url}/")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        for server in servers.values():
            server.stop()
