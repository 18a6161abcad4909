"""The baseline for reprocess: one process, trafilatura over every HTML response in WARCs.

python benchmarks/trafilatura_loop.py DIR/warcs
"""

from __future__ import annotations

import sys
from pathlib import Path

import trafilatura
from warcio.archiveiterator import ArchiveIterator


def main() -> None:
    pages = 0
    for path in sorted(Path(sys.argv[1]).glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response":
                    continue
                ctype = record.http_headers.get_header("Content-Type") or ""
                if "html" not in ctype:
                    continue
                trafilatura.extract(record.content_stream().read(), include_comments=False)
                pages += 1
    print(f"{pages} pages")


if __name__ == "__main__":
    main()
