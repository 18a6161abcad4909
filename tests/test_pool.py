"""The extraction pool: pages analyzed in other processes, with a time limit per page."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from pipelines.page import PageAnalysis, PageInput
from pipelines.pool import ExtractionFailed, ExtractionPool, ExtractionTimeout


def slow_or_crashing(page: PageInput) -> PageAnalysis:
    if page.url.endswith("/slow"):
        time.sleep(30)
    if page.url.endswith("/crash"):
        os._exit(3)
    return PageAnalysis(links=[page.url], encoding=str(os.getpid()))


def page(url: str) -> PageInput:
    return PageInput(url=url, body=b"<p>x</p>")


def test_pages_are_analyzed_in_other_processes_and_bounded_in_time() -> None:
    pool = ExtractionPool(workers=2, timeout=2, function=slow_or_crashing)

    async def scenario() -> None:
        ok = await pool.analyze(page("http://s.test/a"))
        assert ok.links == ["http://s.test/a"] and ok.encoding != str(os.getpid())
        started = time.monotonic()
        with pytest.raises(ExtractionTimeout):
            await pool.analyze(page("http://s.test/slow"))
        assert time.monotonic() - started < 10
        with pytest.raises(ExtractionFailed):
            await pool.analyze(page("http://s.test/crash"))
        # The pool replaced its workers and goes on.
        results = await asyncio.gather(
            *(pool.analyze(page(f"http://s.test/{i}")) for i in range(6))
        )
        assert [r.links[0] for r in results] == [f"http://s.test/{i}" for i in range(6)]

    try:
        asyncio.run(scenario())
    finally:
        pool.close()


def test_real_pages_in_workers() -> None:
    pool = ExtractionPool(workers=1)
    html = (
        b"<html><head><meta property='og:type' content='article'><title>T</title></head>"
        b"<body><article><h1>T</h1><p>" + b"Words of a review. " * 40 + b"</p></article>"
        b"<a href='/next/'>next</a></body></html>"
    )
    try:
        result = asyncio.run(pool.analyze(PageInput("http://s.test/r/", html)))
    finally:
        pool.close()
    assert result.links == ["http://s.test/next/"]
    assert result.article is not None and "Words of a review." in result.article.text


def test_mislabelled_charset_is_decoded_by_its_bytes() -> None:
    from pipelines.extraction import decode

    body = (
        b'<html><head><meta charset="utf-8"></head><body><p>'
        + (b"na\xefve caf\xe9 \x93quoted\x94, a review written in Windows-1252. " * 20)
        + b"</p></body></html>"
    )
    _encoding, text = decode(body, "text/html")
    assert "naïve café “quoted”" in text and "\ufffd" not in text
    # A correctly labelled page is left alone.
    assert decode("<p>café</p>".encode(), "text/html; charset=utf-8")[1] == "<p>café</p>"


def test_requisites_of_articles_only_and_only_when_wanted() -> None:
    from pipelines.extraction import analyze_page

    text = "<p>" + "A slow film about a lighthouse keeper and the sea around him. " * 20 + "</p>"
    head = (
        '<link rel="stylesheet" href="/site.css"><script src="/app.js"></script>'
        "<title>Lighthouse review</title>"
    )
    body = f'{text}<img src="/still.jpg"><noscript><img src="/pixel.gif"></noscript>'

    def html(og_type: str) -> bytes:
        meta = f'<meta property="og:type" content="{og_type}">'
        return f"<html><head>{meta}{head}</head><body>{body}</body></html>".encode()

    url = "http://s.test/reviews/lighthouse/"
    article = analyze_page(PageInput(url, html("article")))
    assert article.article is not None
    assert set(article.requisites) == {
        f"http://s.test/{name}" for name in ("site.css", "app.js", "still.jpg", "pixel.gif")
    }
    assert analyze_page(PageInput(url, html("website"))).requisites == []
    assert analyze_page(PageInput(url, html("article"), requisites=False)).requisites == []


def test_body_extraction_leaves_the_page_tree_to_the_metadata_reads() -> None:
    """The byline, date and tag reads run on the tree after trafilatura: it must not have
    pruned the reader comments or appended articles out of it."""
    from lxml import etree

    from pipelines.body import body_text
    from pipelines.extraction import parse

    text = "<p>" + "A patient review of a patient film about tides and fishermen. " * 15 + "</p>"
    page = (
        f"<html><body><article><h1>Tides</h1>{text}</article>"
        '<div id="comments"><p>First! Loved the tides.</p></div>'
        '<div class="infinite-scroll"><article><p>The next review.</p></article></div>'
        "</body></html>"
    )
    tree = parse(page, "http://s.test/reviews/tides/")
    before = etree.tostring(tree)
    text = body_text(tree, "http://s.test/reviews/tides/")
    assert "fishermen" in text and "Loved the tides" not in text
    assert etree.tostring(tree) == before


def test_language_model_loaded_in_one_step_is_py3langids_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The forkserver unpacks py3langid's model itself (outside the GIL); the identifier must
    be the one py3langid would have built, and tell the same languages."""
    import numpy as np
    from py3langid import langid

    from pipelines.langmodel import load_language_model

    monkeypatch.setattr(langid, "IDENTIFIER", None)
    assert load_language_model() is True
    ours = langid.IDENTIFIER
    theirs = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)
    assert np.array_equal(ours.nb_ptc, theirs.nb_ptc) and np.array_equal(ours.nb_pc, theirs.nb_pc)
    assert ours.nb_classes == theirs.nb_classes and ours.tk_output == theirs.tk_output
    assert ours.tk_nextmove == theirs.tk_nextmove and ours.tk_row == theirs.tk_row
    for text in (
        "Ein langsamer Film über einen Leuchtturmwärter und das Meer um ihn herum.",
        "Une critique d'un film lent sur un gardien de phare et la mer.",
        "灯台守と周りの海についての静かな映画の批評です。",
    ):
        assert ours.classify(text) == theirs.classify(text)
    assert load_language_model() is False  # loaded once


def test_unknown_language_model_layout_is_left_to_py3langid(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from py3langid import langid

    from pipelines.langmodel import load_language_model
    from pipelines.normalize import detect_language

    monkeypatch.setattr(langid, "IDENTIFIER", None)
    monkeypatch.setattr(langid, "MODEL_DIR", tmp_path)  # no model file there
    assert load_language_model() is False and langid.IDENTIFIER is None
    monkeypatch.undo()
    assert detect_language("A slow film about a lighthouse keeper and the sea around him.") == "en"


def review_page(url: str, body: str, head: str = "") -> PageAnalysis:
    """analyze_page on a page matching the source's article pattern."""
    from pipelines.extraction import analyze_page

    html = f"<html><head>{head}</head><body>{body}</body></html>".encode()
    return analyze_page(PageInput(url, html, matches_article_pattern=True))


def paragraphs(sentence: str, count: int = 8) -> str:
    return "".join(f"<p>Part {i}: {sentence}</p>" for i in range(count))


def test_meta_tags_links_and_headings_feed_the_article() -> None:
    """Fields a page states only in plain <meta>, <link rel=canonical> and headings."""
    from pipelines.extraction import analyze_page

    text = "<p>" + "A quiet film about a ferry crossing, shot in one long winter. " * 15 + "</p>"
    head = (
        "<title>Ferry | Reel Notes</title>"
        '<meta name="author" content="  Ines Rocha ">'
        '<meta name="author" content="Someone Else">'
        '<meta property="article:published_time" content="2026-03-04T10:00:00Z">'
        '<meta property="article:modified_time" content="">'
        '<meta name="article:modified_time" content="2026-03-09">'
        '<meta property="article:tag" content="Drama"><meta property="article:tag" content="Sea">'
        '<meta name="language" content="pt-BR">'
        '<link rel="canonical"><link rel="canonical" href=" /reviews/ferry/ ">'
    )
    body = f"<h1>Ferry</h1>{text}<h2><a href='/more/'>More</a></h2>"
    article = review_page("http://s.test/reviews/ferry/?ref=home", body, head).article
    assert article is not None
    assert article.author == "Ines Rocha"  # the first one stated
    assert article.published.startswith("2026-03-04")
    assert article.modified is None  # the first one stated is blank
    assert set(article.tags) >= {"drama", "sea"}  # normalized
    assert article.language == "pt"
    assert article.canonical_url == "http://s.test/reviews/ferry/"  # the first with an href
    assert not article.text.startswith("Ferry")  # the <h1> repeated as the first line is cut

    # With no pattern to go by, three linked headlines make the same page a listing.
    def page(headings: int) -> PageInput:
        linked = "".join(f"<h2><a href='/r/{i}/'>Review {i}</a></h2>" for i in range(headings))
        html = f"<html><head>{head}</head><body>{linked}{text}</body></html>"
        return PageInput("http://s.test/films/", html.encode())

    assert analyze_page(page(2)).article is not None
    listing = analyze_page(page(3))
    assert listing.article is None and listing.not_article == "listing layout"


def test_furniture_is_left_out_of_the_body_but_not_out_of_the_byline() -> None:
    """Navigation, asides and footers never reach the body text; an author box in an aside
    still gives the author."""
    text = paragraphs(
        "a long look at a radio play about a night-shift baker and the town that sleeps while"
        " she works, told in voices and kitchen sounds."
    )
    body = (
        "<nav><ul><li><a href='/'>Home</a></li><li><a href='/radio/'>Radio menu</a></li></ul></nav>"
        f"<article><h1>Night Bread</h1>{text}</article>"
        "<aside><div class='author-box'><div class='author-name'>Mara Quist</div>"
        "<p>Mara writes about radio.</p></div></aside>"
        "<footer><p>Footer text of the site, all rights kept.</p></footer>"
    )
    result = review_page("http://s.test/reviews/night-bread/", body, "<title>Night Bread</title>")
    article = result.article
    assert article is not None
    assert "night-shift baker" in article.text and "Part 7" in article.text
    for furniture in ("Radio menu", "Mara writes about radio", "Footer text"):
        assert furniture not in article.text
    assert article.author == "Mara Quist"
    assert "http://s.test/radio/" in result.links  # links are read from the whole page


def test_dates_come_from_the_page_not_its_calendar_and_archive_widgets() -> None:
    """A page that states no date gets none, whatever its navigation and sidebar link to;
    a date in the article's own footer is still found."""
    text = paragraphs(
        "the album opens with a field recording of rain on a tin roof, then lets a single"
        " organ note hang for most of a minute."
    )
    widgets = (
        "<nav><a href='/cal/2020/1/'>January 2020</a> <a href='/cal/2020/2/'>next</a></nav>"
        "<aside><h3>Archives</h3><ul><li><a href='/2019/11/'>November 2019</a></li>"
        "<li><a href='/2019/10/'>October 2019</a></li></ul></aside>"
        "<footer><p>Site footer, last updated 3 March 2018.</p></footer>"
    )

    def published(article_footer: str) -> str | None:
        body = f"<article><h1>Tin Roof</h1>{text}{article_footer}</article>{widgets}"
        article = review_page("http://s.test/reviews/tin-roof/", body, "<title>Tin Roof</title>")
        assert article.article is not None and "organ note" in article.article.text
        return article.article.published

    assert published("") is None
    dated = published("<footer><p>Published on 12 May 2021</p></footer>")
    assert dated is not None and dated.startswith("2021-05-12")


@pytest.mark.parametrize("tag", ["nav", "aside", "footer"])
def test_a_page_wrapped_in_an_unclosed_furniture_tag_keeps_its_body(tag: str) -> None:
    """Broken markup: an unclosed <nav>, <aside> or <footer> before the article holds the
    whole rest of the page. That is the page, not furniture; a big menu still is furniture,
    even one with more text than the review outside its links."""
    text = paragraphs(
        "a film about a canal boat and the family who live on it through one dry summer, told"
        " from the lock keeper's side."
    )
    links = "<a href='/'>Home</a> <a href='/films/'>Films</a>"
    body = f"<{tag}>{links}<article><h1>Canal</h1>{text}</article>"
    article = review_page("http://s.test/reviews/canal/", body, "<title>Canal</title>").article
    assert article is not None and "Part 7" in article.text and "lock keeper" in article.text

    menu = "".join(
        f"<li><a href='/c/{i}/'>Category number {i} of reviews</a></li>" for i in range(90)
    )
    body = f"<{tag}><ul>{menu}</ul></{tag}><article><h1>Bees</h1>{text[:400]}</article>"
    article = review_page("http://s.test/reviews/bees/", body, "<title>Bees</title>").article
    assert article is not None and "Part 0" in article.text and "Category" not in article.text

    # A mega-menu: headings and blurbs, more text than the review and little of it in links.
    def item(i: int, j: int) -> str:
        return (
            f"<div class='mega-item'><h6>Programme {i}.{j}</h6><p>Workshops, mentors and an"
            f" open studio for the members of programme {i}.{j}, with evening sessions through"
            " the winter and a showcase at the end of it for everyone who took part.</p></div>"
        )

    mega = "".join(
        f"<li class='has-mega'><a href='/s/{i}/'>Section {i}</a><div class='mega'><h4>Section"
        f" {i}</h4>{''.join(item(i, j) for j in range(4))}</div></li>"
        for i in range(6)
    )
    body = f"<{tag}><ul>{mega}</ul></{tag}><div><div><h2>Bees</h2>{text[:1200]}</div></div>"
    article = review_page("http://s.test/reviews/bees/", body, "<title>Bees</title>").article
    assert article is not None and "Part 0" in article.text and "Workshops" not in article.text


def test_a_table_layout_page_of_the_2000s_gives_its_review_in_paragraphs() -> None:
    """No <article>, no <main>, the review in one cell of a layout table beside a menu cell
    and a promotions cell: the body is the review's paragraphs, one per line, without the
    menu or the footer table (trafilatura alone gave the menu and footer rows)."""
    text = paragraphs(
        "the quartet plays the slow movement as if the hall were empty, and the last chord"
        " hangs in the air for a long time before anyone claps."
    )
    promos = "".join(
        f"<p>Promotion {i}: subscribe to the weekly letter and win two tickets to the autumn"
        " season, drawn every Friday.</p>"
        for i in range(4)
    )
    body = (
        "<table width=100%><tr><td class=left width=150><a href=/>Home</a><br>"
        "<a href=/music/>Music</a><br>Choose a section of the paper to read today</td>"
        "<td class=story><font size=2><b>Quartet at the town hall</b><br>By a staff critic<br>"
        f"{text}</font></td><td class=right width=200>{promos}</td></tr></table>"
        "<table><tr><td>Copyright 2007 The Town Paper. Contact the newsroom.</td></tr></table>"
    )
    head = "<title>Quartet at the town hall</title>"
    article = review_page("http://s.test/2007/quartet.html", body, head).article
    assert article is not None
    lines = article.text.split("\n")
    for i in range(8):
        assert any(line.startswith(f"Part {i}: the quartet") for line in lines), article.text
    assert "Choose a section" not in article.text and "Copyright 2007" not in article.text


def test_reader_comments_after_a_comments_heading_are_left_out() -> None:
    """A blog engine's comments, after an <h2 id="comments"> or a "3 Responses to ..."
    heading with no container around them, are not the review; an article section headed
    "Response" is."""
    text = paragraphs(
        "the record was cut in two days in a church hall, and the room is on every track, a"
        " long reverb that the quiet songs lean on."
    )
    comments = "".join(
        f"<div id='c{i}'><p>Reader {i} says: I heard them live last spring and the hall sounded"
        f" just like this, number {i} of many visits.</p></div>"
        f"<p class='posted'>Posted by: Reader {i} at 10:0{i} AM</p>"
        for i in range(6)
    )
    head = "<title>Church Hall Sessions</title><meta property='og:type' content='article'>"
    for heading in ("<h2 id='comments'>Comments</h2>", "<h3>6 Responses to “Church Hall”</h3>"):
        body = f"<div class='entry'><h1>Church Hall Sessions</h1>{text}{heading}{comments}</div>"
        article = review_page("http://s.test/2012/09/church-hall.html", body, head).article
        assert article is not None and "Part 7" in article.text
        assert "Reader 3 says" not in article.text and "Posted by" not in article.text

    section = "<h2>Response</h2><p>The label's response to the reissue plans came a week later.</p>"
    body = f"<div class='entry'><h1>Church Hall Sessions</h1>{text}{section}</div>"
    article = review_page("http://s.test/2012/09/church-hall.html", body, head).article
    assert article is not None and "response to the reissue plans" in article.text
