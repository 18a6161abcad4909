"""An ``article:author`` that is a profile URL (as the Open Graph standard has it) or a
``<meta name=author>`` that is a user name does not hide the byline on the page."""

from __future__ import annotations

from pipelines.extraction import analyze_page
from pipelines.page import PageInput

BODY = "".join(
    f"<p>Part {i}: the {part} of the old lighthouse lamp is taken apart, cleaned and set back "
    f"on its brass seat, and the keeper writes down how long the {part} took to turn.</p>"
    for i, part in enumerate(["lens", "clockwork", "chimney", "burner"], 1)
)


def author_of(meta: str) -> str | None:
    html = (
        "<html><head><title>Relighting the lamp</title>"
        f"<meta property='og:type' content='article'>{meta}</head><body><article>"
        "<h1>Relighting the lamp</h1><p class='byline'>By <span class='author'>Ines Rocha"
        f"</span></p>{BODY}</article></body></html>"
    )
    page = PageInput("http://lamp.test/relighting/", html.encode(), content_type="text/html")
    return analyze_page(page).article.author


def test_profile_url_and_handle_give_way_to_the_byline() -> None:
    profile = "<meta property='article:author' content='https://www.facebook.com/lamps/'>"
    assert author_of(profile) == "Ines Rocha"
    assert author_of("<meta name='author' content='irocha_77'>") == "Ines Rocha"


def test_a_stated_name_still_wins() -> None:
    assert author_of("<meta name='author' content='Lillie'>") == "Lillie"
    # A handle, when nothing on the page names anyone better, is kept.
    html = (
        "<html><head><title>Lamp notes</title><meta property='og:type' content='article'>"
        f"<meta name='author' content='irocha_77'></head><body><h1>Lamp notes</h1>{BODY}"
        "</body></html>"
    )
    page = PageInput("http://lamp.test/notes/", html.encode(), content_type="text/html")
    assert analyze_page(page).article.author == "irocha_77"
