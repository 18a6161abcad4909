#!/usr/bin/env python3
"""Extraction on pages nobody tuned for: ../shared/extraction-corpus (1,111 real pages, seven sets).

Body text: F1, precision and recall per set and over all pages pooled, with the metric of
``../shared/extraction-benchmark/score.py``, and the median ms per page, for reviewarc's body
extraction (``pipelines.extraction.extract_body``) beside trafilatura's defaults
(``trafilatura.extract(html, include_comments=False)``) in the same run, page by page in turn.
Also counted: pages where reviewarc raised, or came back empty where trafilatura found text.

The crawl path (``--crawl-path``, on by default): ``analyze_page`` as a crawl calls it, on
wcxb-article (articles, reviews, blog posts) and on the 181 pages of the extraction
benchmark: how many are stored as articles, and on wcxb-article how often the title, author
and date are right, beside trafilatura's own metadata (``bare_extraction(with_metadata=True)``);
and on wcxb-other (service, forum, documentation, listing, product pages) how many are
stored although they are not articles.

    python benchmarks/corpus.py [--sets wcxb-article,dragnet] [--worst 20] [--out pages.json]
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
SETS = (
    "wcxb-article", "wcxb-other", "l3s-gn1", "dragnet", "cleaneval", "cleanportaleval",
    "readability",
)  # fmt: skip
_WORDS = re.compile(r"\w+")


def load_scorer(bench: Path):
    spec = importlib.util.spec_from_file_location("score", bench / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_set(directory: Path) -> tuple[dict, dict[str, bytes]]:
    truth = json.loads(gzip.decompress((directory / "truth.json.gz").read_bytes()))
    pages = {
        p.name.removesuffix(".html.gz"): gzip.decompress(p.read_bytes())
        for p in sorted((directory / "html").glob("*.html.gz"))
    }
    return truth, {k: v for k, v in pages.items() if k in truth}


def trafilatura_default(html: bytes, url: str) -> str | None:
    import trafilatura

    return trafilatura.extract(html, url=url, include_comments=False)


def reviewarc(html: bytes, url: str) -> str | None:
    from pipelines.extraction import extract_body

    return extract_body(html, url)


def timed(func, html: bytes, url: str) -> tuple[str, float, str | None]:
    start = time.perf_counter()
    try:
        text, error = func(html, url) or "", None
    except Exception as e:  # counted and named, not fatal: one page must not end the run
        text, error = "", f"{type(e).__name__}: {e}"
    return text, 1000 * (time.perf_counter() - start), error


def body_run(sets: list[str], corpus: Path, score) -> tuple[list[dict], list[dict]]:
    """Every page of ``sets`` through both extractors, in turn; per page rows and per set rows."""
    rows: list[dict] = []
    for name in sets:
        truth, pages = load_set(corpus / name)
        for key, html in pages.items():
            url = truth[key].get("url") or ""
            true = truth[key]["text"]
            row = {"set": name, "id": key, "url": url}
            for label, func in (("traf", trafilatura_default), ("ra", reviewarc)):
                text, ms, error = timed(func, html, url)
                tp, fp, fn = score.page_counts(true, text)
                row[label] = {
                    "ms": ms, "error": error, "chars": len(text),
                    "counts": (tp, fp, fn), "f1": _f1(score, tp, fp, fn),
                }  # fmt: skip
            rows.append(row)
    return rows, [_summary(score, n, [r for r in rows if r["set"] == n]) for n in sets]


def _f1(score, tp: float, fp: float, fn: float) -> float:
    p, r = score.precision(tp, fp, fn), score.recall(tp, fp, fn)
    return 2 * p * r / (p + r) if p + r else 0.0


def _summary(score, name: str, rows: list[dict]) -> dict:
    out = {"set": name, "pages": len(rows)}
    for label in ("traf", "ra"):
        out[label] = score.summarize([r[label]["counts"] for r in rows])
        out[label]["ms"] = statistics.median(r[label]["ms"] for r in rows)
    out["raised"] = [r["id"] for r in rows if r["ra"]["error"]]
    out["empty"] = [r["id"] for r in rows if not r["ra"]["chars"] and r["traf"]["chars"]]
    return out


def print_body(summaries: list[dict], pooled: dict) -> None:
    print(
        f"{'set':<16} {'pages':>5}  {'trafilatura F1   P     R    ms':<32}"
        f"  {'reviewarc F1   P     R    ms':<30}  {'diff':>6}  raised empty"
    )
    for s in [*summaries, pooled]:
        cells = []
        for label in ("traf", "ra"):
            m = s[label]
            cells.append(f"{m['f1']:6.3f} {m['precision']:5.3f} {m['recall']:5.3f} {m['ms']:5.1f}")
        diff = s["ra"]["f1"] - s["traf"]["f1"]
        print(
            f"{s['set']:<16} {s['pages']:>5}  {'':<9}{cells[0]:<23}  {'':<7}{cells[1]:<23}"
            f"  {diff:+6.3f}  {len(s['raised']):>6} {len(s['empty']):>5}"
        )


def print_worst(rows: list[dict], n: int) -> None:
    print(f"\nthe {n} pages where reviewarc loses most against trafilatura:")
    for r in sorted(rows, key=lambda r: r["ra"]["f1"] - r["traf"]["f1"])[:n]:
        print(
            f"  {r['set']}/{r['id']}: reviewarc {r['ra']['f1']:.3f} ({r['ra']['chars']} chars)"
            f" trafilatura {r['traf']['f1']:.3f} ({r['traf']['chars']} chars)"
            + (f" raised {r['ra']['error']}" if r["ra"]["error"] else "")
        )


# -- the crawl path --------------------------------------------------------------------------


def _tokens(value: str | None) -> list[str]:
    return [t.casefold() for t in _WORDS.findall(value or "")]


def same_title(found: str | None, true: str | None) -> bool:
    return bool(found) and _tokens(found) == _tokens(true)


def same_author(found: str | None, true: str | None) -> bool:
    """The same names, in any order and however joined ("A and B", "A, B")."""
    joiners = {"and", "by", "und", "et", "y"}
    words = [sorted(set(_tokens(v)) - joiners) for v in (found, true)]
    return bool(found) and words[0] == words[1]


def same_date(found: str | None, true: str | None) -> bool:
    return bool(found) and bool(true) and str(found)[:10] == str(true)[:10]


def crawl_path(corpus: Path, bench: Path) -> None:
    import trafilatura

    from pipelines.extraction import analyze_page
    from pipelines.page import PageInput

    truth, pages = load_set(corpus / "wcxb-article")
    stored, not_stored = 0, []
    right = {f: [0, 0, 0] for f in ("title", "author", "date")}  # reviewarc, trafilatura, of
    for key, html in pages.items():
        t = truth[key]
        page = PageInput(url=t.get("url") or "", body=html, content_type="text/html")
        article = analyze_page(page).article
        if article is None:
            not_stored.append(key)
        else:
            stored += 1
        doc = trafilatura.bare_extraction(
            html, url=page.url, with_metadata=True, include_comments=False
        )
        for field_name, same in (
            ("title", same_title), ("author", same_author), ("date", same_date)
        ):  # fmt: skip
            if not t.get(field_name):
                continue
            mine = getattr(article, "published" if field_name == "date" else field_name, None)
            theirs = getattr(doc, field_name, None) if doc is not None else None
            right[field_name][0] += same(mine, t[field_name])
            right[field_name][1] += same(theirs, t[field_name])
            right[field_name][2] += 1
    print(f"\nwcxb-article through the crawl path: {stored}/{len(pages)} stored as articles")
    if not_stored:
        print("  not stored: " + " ".join(not_stored))
    print(f"  {'field':<8} {'reviewarc':>10} {'trafilatura':>12}  of pages stating it")
    for field_name, (mine, theirs, of) in right.items():
        print(f"  {field_name:<8} {mine:>10} {theirs:>12}  {of}")
    other_crawl_path(corpus)
    bench_crawl_path(bench)


def other_crawl_path(corpus: Path) -> None:
    """wcxb-other through ``analyze_page``: every page stored is a non-article taken for one."""
    from pipelines.extraction import analyze_page
    from pipelines.page import PageInput

    truth, pages = load_set(corpus / "wcxb-other")
    stored = []
    for key, html in pages.items():
        page = PageInput(url=truth[key].get("url") or "", body=html, content_type="text/html")
        if analyze_page(page).article is not None:
            stored.append(key)
    print(
        f"wcxb-other through the crawl path: {len(stored)}/{len(pages)} stored"
        " (these are not articles)"
    )
    if stored:
        print("  stored: " + " ".join(stored))


def bench_crawl_path(bench: Path) -> None:
    """The 181 pages of the extraction benchmark through ``analyze_page``."""
    from pipelines.extraction import analyze_page
    from pipelines.page import PageInput

    score = load_scorer(bench)
    bench_truth = json.loads((bench / "ground-truth.json").read_text(encoding="utf8"))
    missing = []
    for key, html in score.pages().items():
        page = PageInput(url=bench_truth[key].get("url", ""), body=html, content_type="text/html")
        if analyze_page(page).article is None:
            missing.append(key)
    total = len(bench_truth)
    print(f"extraction-benchmark through the crawl path: {total - len(missing)}/{total} stored")
    if missing:
        print("  not stored: " + " ".join(m[:8] for m in missing))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=SHARED / "extraction-corpus")
    parser.add_argument("--bench", type=Path, default=SHARED / "extraction-benchmark")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated set names")
    parser.add_argument("--worst", type=int, default=0, help="list the N pages lost most")
    parser.add_argument("--out", type=Path, help="write per-page scores as JSON")
    parser.add_argument("--no-crawl-path", dest="crawl_path", action="store_false")
    args = parser.parse_args()
    sets = [s for s in args.sets.split(",") if s]
    unknown = [s for s in sets if not (args.corpus / s / "truth.json.gz").is_file()]
    if unknown:
        parser.error(f"no such set in {args.corpus}: {', '.join(unknown)}")
    score = load_scorer(args.bench)
    for func in (trafilatura_default, reviewarc):  # imports and first-call set-up, untimed
        func(b"<html><body><p>warm up</p></body></html>", "")
    rows, summaries = body_run(sets, args.corpus, score)
    pooled = _summary(score, "pooled", rows)
    print(f"{len(rows)} pages from {args.corpus}")
    print_body(summaries, pooled)
    for s in summaries:
        for kind in ("raised", "empty"):
            if s[kind]:
                print(f"  {s['set']} {kind}: {' '.join(s[kind])}")
    if args.worst:
        print_worst(rows, args.worst)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1), encoding="utf8")
    if args.crawl_path:
        crawl_path(args.corpus, args.bench)


if __name__ == "__main__":
    main()
