#!/usr/bin/env python3
"""Generate a local review site of N pages with real page weight, for benchmarks/run.py.

The material is the 181 real article pages of ../shared/extraction-benchmark (50-200 KB,
with their scripts, styles and navigation). Page i links to pages 2i+1 and 2i+2, so every
page is within about log2(N) hops of the home page; the pages' own links are neutralized so
that the crawl stays on the generated site.

    python benchmarks/bench_site.py OUT_DIR [--pages 2000]
"""

from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MATERIAL = ROOT.parent / "shared" / "extraction-benchmark" / "html"
_HREF = re.compile(rb"""(<a\b[^>]*?\bhref\s*=\s*)(["'])[^"']*\2""", re.IGNORECASE)
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
_HEAD_END = re.compile(rb"</head\s*>", re.IGNORECASE)


def page_path(i: int) -> str:
    return f"/reviews/{i:06d}/"


def generate(out: Path, pages: int, material: Path = MATERIAL) -> int:
    sources = [gzip.decompress(p.read_bytes()) for p in sorted(material.glob("*.html.gz"))]
    if not sources:
        raise SystemExit(f"no benchmark pages in {material}")
    total = 0
    for i in range(pages):
        html = _HREF.sub(rb'\1"#"', sources[i % len(sources)])
        children = [c for c in (2 * i + 1, 2 * i + 2) if c < pages]
        nav = b"".join(f'<a href="{page_path(c)}">review {c}</a> '.encode() for c in children)
        html = _HEAD_END.sub(b'<meta property="og:type" content="article"></head>', html, count=1)
        if _BODY_END.search(html):
            html = _BODY_END.sub(b"<nav>" + nav + b"</nav></body>", html, count=1)
        else:
            html += b"<nav>" + nav + b"</nav>"
        target = out / page_path(i).strip("/") / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(html)
        total += len(html)
    home = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Bench reviews</title>'
    home += f'</head><body><a href="{page_path(0)}">start</a></body></html>'
    (out / "index.html").write_text(home)
    (out / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=2000)
    args = parser.parse_args()
    size = generate(args.out, args.pages)
    print(f"{args.pages} pages, {size / args.pages / 1024:.0f} KB on average, in {args.out}")


if __name__ == "__main__":
    main()
