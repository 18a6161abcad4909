"""What reading and storing every review on a page costs, beside the same work without them.

Generated product pages, each with N customer reviews and an aggregate in JSON-LD (and a
film reviewed on many sites), are analyzed (``analyze_page``; trafilatura's ``extract`` on the
same pages is the peer) and stored twice into a fresh archive (the second time as a
recapture), once with their reviews and once with them left out.

    .venv/bin/python benchmarks/reviews.py --pages 400 --reviews 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import trafilatura

from archive.database import ArchiveDB, CaptureRow
from pipelines.extraction import analyze_page
from pipelines.page import PageInput
from pipelines.reviews import page_reviews
from pipelines.structured import read_structured

WORDS = "quiet bright heavy narrow plain crisp warm loud steady brittle".split()


def page(n: int, reviews: int) -> tuple[str, bytes]:
    """Product page ``n`` (a film page every tenth: one film on many sites)."""
    film = n % 10 == 0
    item = (
        {"@type": "Movie", "name": f"Film {n // 100}", "dateCreated": "2025",
         "director": {"@type": "Person", "name": "A. Director"}}
        if film else
        {"@type": "Product", "name": f"Gadget {n}", "brand": {"@type": "Brand", "name": "Make"},
         "gtin13": "4006381333931" if n % 7 == 0 else None}
    )  # fmt: skip
    data = {
        "@context": "https://schema.org", **item,
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": 4.1, "reviewCount": reviews},
        "review": [{"@type": "Review", "author": {"@type": "Person", "name": f"Reader {n}-{k}"},
                    "datePublished": f"2026-03-{1 + k % 28:02d}",
                    "reviewRating": {"@type": "Rating", "ratingValue": 1 + k % 5, "bestRating": 5},
                    "reviewBody": " ".join(WORDS[(k + i) % 10] for i in range(30))}
                   for k in range(reviews)],
    }  # fmt: skip
    text = " ".join(f"<p>{' '.join(WORDS[(n + i + j) % 10] for j in range(25))}.</p>"
                    for i in range(12))  # fmt: skip
    html = (
        f'<!DOCTYPE html><html lang="en"><head><title>Item {n} | Shop {n % 5}</title>'
        f'<script type="application/ld+json">{json.dumps(data)}</script></head><body>'
        f"<article><h1>Item {n}</h1>{text}</article></body></html>"
    )
    return f"http://shop{n % 5}.test/item/{n}/", html.encode()


def timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def store(articles: list, with_reviews: bool) -> float:
    """Seconds to store every article twice (a crawl, then a recapture) into a new archive."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = ArchiveDB.open(Path(tmp) / "archive.db")
        store = archive.articles()
        start = time.perf_counter()
        for rnd in range(2):
            with archive.transaction():
                for i, article in enumerate(articles):
                    fetched = f"2026-12-0{rnd + 1}T00:00:{i % 60:02d}.{i:06d}Z"
                    capture = archive.add_capture(CaptureRow(
                        url=article.url, fetched_at=fetched, status=200, content_type="text/html",
                        record_type="response", payload_digest=f"sha1:{i}", payload_length=1,
                        warc_file=f"f{rnd}.warc.gz", warc_offset=i, warc_length=1,
                        warc_record_id=f"<urn:uuid:{rnd}-{i}>"))  # fmt: skip
                    kept = article if with_reviews else replace(article, reviews=[], aggregates=[])
                    store.save(kept, capture, fetched)
        elapsed = time.perf_counter() - start
        archive.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--reviews", type=int, default=20)
    args = parser.parse_args()
    pages = [page(n, args.reviews) for n in range(args.pages)]
    inputs = [PageInput(url=u, body=b) for u, b in pages]
    analyze_page(inputs[0])  # warm up imports and models
    ours = [timed(analyze_page, p) for p in inputs]
    peer = [timed(trafilatura.extract, b) for _, b in pages]
    from pipelines.extraction import drop_no_text, parse

    trees = []
    for u, b in pages:
        tree = parse(b.decode(), u)
        drop_no_text(tree)
        trees.append((tree, u))
    structured = [read_structured(t, u) for t, u in trees]
    reviews_part = [timed(page_reviews, s, u) for s, (_, u) in zip(structured, trees, strict=True)]
    articles = [analyze_page(p).article for p in inputs]
    assert all(a is not None and len(a.reviews) == args.reviews for a in articles)
    without, with_ = store(articles, False), store(articles, True)
    n = args.pages
    print(f"{n} pages, {args.reviews} reviews each (JSON-LD), {n * args.reviews} reviews")
    print(f"{'':34} {'median ms/page':>15}")
    print(f"{'analyze_page (reviewarc)':34} {statistics.median(ours) * 1000:15.2f}")
    print(f"{'trafilatura.extract (peer)':34} {statistics.median(peer) * 1000:15.2f}")
    print(f"{'  of which page_reviews':34} {statistics.median(reviews_part) * 1000:15.2f}")
    print(f"{'':34} {'pages/s':>15} {'ms/page':>9}")
    for label, seconds in (("store, reviews left out", without), ("store with reviews", with_)):
        print(f"{label:34} {2 * n / seconds:15.1f} {seconds * 1000 / (2 * n):9.2f}")
    print(f"storing with reviews takes {with_ / without:.2f}x the time without")


if __name__ == "__main__":
    main()
