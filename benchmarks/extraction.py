#!/usr/bin/env python3
"""Article-body extraction quality on ../shared/extraction-benchmark (181 real pages).

Prints F1, precision, recall and ms/page with the benchmark's own metric for reviewarc's
extraction (pipelines.extraction.extract_body) next to trafilatura's defaults
(``trafilatura.extract(html, include_comments=False)``).

    python benchmarks/extraction.py [--data PATH/TO/extraction-benchmark]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load_scorer(data: Path):
    spec = importlib.util.spec_from_file_location("score", data / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def trafilatura_default(html: bytes, url: str) -> str | None:
    import trafilatura

    return trafilatura.extract(html, url=url, include_comments=False)


def reviewarc(html: bytes, url: str) -> str | None:
    from pipelines.extraction import extract_body

    return extract_body(html, url)


def run(name: str, func, pages: dict, truth: dict, score) -> dict:
    start = time.perf_counter()
    pred = {k: func(v, truth[k].get("url", "")) for k, v in pages.items()}
    seconds = time.perf_counter() - start
    metrics = score.evaluate(truth, pred, n_boot=200)
    metrics["ms_per_page"] = 1000 * seconds / len(pages)
    metrics["name"] = name
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=ROOT.parent / "shared" / "extraction-benchmark"
    )
    args = parser.parse_args()
    score = load_scorer(args.data)
    truth = json.loads((args.data / "ground-truth.json").read_text(encoding="utf8"))
    pages = score.pages()
    reviewarc(b"<html><body><p>warm up</p></body></html>", "")  # imports outside the timing
    rows = [
        run("trafilatura defaults", trafilatura_default, pages, truth, score),
        run("reviewarc", reviewarc, pages, truth, score),
    ]
    print(f"{len(pages)} pages from {args.data}")
    print(f"{'extractor':<22} {'F1':>6} {'prec':>6} {'recall':>6} {'ms/page':>8}")
    for m in rows:
        scores = f"{m['f1']:6.3f} {m['precision']:6.3f} {m['recall']:6.3f}"
        print(f"{m['name']:<22} {scores} {m['ms_per_page']:8.1f}")


if __name__ == "__main__":
    main()
