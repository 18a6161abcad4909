#!/usr/bin/env python3
"""Throughput of the whole pipeline against plain tools, on one generated site.

Generates a review site of N real-weight pages (benchmarks/bench_site.py), serves it with nginx
(installed with apt-get when missing), and times, one after the other:

1. ``reviewarc crawl`` (WARC + extraction + SQLite),
2. ``reviewarc crawl --archive-only`` (WARC + captures; extraction left to reprocess),
3. ``wget --recursive --warc-file``,
4. a plain Scrapy spider calling trafilatura in its callback (benchmarks/plain_spider.py),
5. ``reviewarc reprocess`` over the archive-only crawl's WARCs, and
6. a one-process trafilatura loop over the same WARCs (benchmarks/trafilatura_loop.py).

For each: pages, wall seconds, pages/s, CPU seconds (user+sys, children included) and peak
RSS of the largest process; then the ratios the throughput goals are about. Page requisites
are off for the crawls, as wget fetches none without -p.

    python benchmarks/run.py [--pages 2000] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))

from bench_site import generate  # noqa: E402


@dataclass
class Run:
    name: str
    pages: int
    wall: float
    cpu: float
    rss_mb: float

    @property
    def rate(self) -> float:
        return self.pages / self.wall if self.wall else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_nginx() -> str:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True)
    return nginx


def start_nginx(site: Path, work: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    prefix = work / "nginx"
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    keepalive_requests 100000;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    types {{ text/html html; text/plain txt; }}
    default_type application/octet-stream;
    server {{ listen 127.0.0.1:{port}; root {site}; index index.html; }}
}}
""")
    proc = subprocess.Popen([ensure_nginx(), "-c", str(conf), "-p", str(prefix)])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.05)
    raise SystemExit("nginx did not start")


def timed(name: str, command: list[str], count: callable, cwd: Path | None = None) -> Run:
    stats = Path(tempfile.mkstemp(suffix=".time")[1])
    start = time.perf_counter()
    subprocess.run(
        ["/usr/bin/time", "-f", "%U %S %M", "-o", str(stats), *command],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    wall = time.perf_counter() - start
    user, system, rss_kb = stats.read_text().split()[-3:]
    stats.unlink()
    return Run(name, count(), wall, float(user) + float(system), int(rss_kb) / 1024)


def captured(data: Path) -> int:
    con = sqlite3.connect(data / "archive.db")
    try:
        return con.execute(
            "select count(*) from captures where status = 200 and url like '%/reviews/%'"
        ).fetchone()[0]
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="reviewarc-bench-"))
    site = work / "site"
    if not (site / "index.html").exists():
        generate(site, args.pages)
    nginx, url = start_nginx(site, work)
    reviewarc = str(BIN / "reviewarc")
    common = ["--no-requisites", "--log-level", "WARNING", "--set", "REVIEWARC_INCREMENTAL=false"]
    runs = []
    try:
        full, light = work / "full", work / "archive-only"
        for d in (full, light, work / "wget", work / "plain", work / "reprocess"):
            shutil.rmtree(d, ignore_errors=True)
        crawl = [reviewarc, "crawl", url, *common, "--data"]
        runs.append(timed("reviewarc crawl", [*crawl, str(full)], lambda: captured(full)))
        runs.append(timed("reviewarc --archive-only", [*crawl, str(light), "--archive-only"],
                          lambda: captured(light)))  # fmt: skip
        (work / "wget").mkdir()
        runs.append(
            timed(
                "wget --warc-file",
                [
                    "wget",
                    "--recursive",
                    "--level=inf",
                    "--no-parent",
                    "--quiet",
                    "--no-verbose",
                    "--warc-file=site",
                    "--no-warc-keep-log",
                    "-P",
                    "files",
                    url,
                ],
                lambda: sum(1 for _ in (work / "wget" / "files").rglob("index.html")) - 1,
                cwd=work / "wget",
            )
        )
        (work / "plain").mkdir()
        out = work / "plain" / "items.jsonl"
        runs.append(
            timed(
                "scrapy + trafilatura",
                [
                    str(BIN / "scrapy"),
                    "runspider",
                    str(HERE / "plain_spider.py"),
                    "-a",
                    f"url={url}",
                    "-o",
                    str(out),
                    "-s",
                    "TELNETCONSOLE_ENABLED=0",
                ],
                lambda: sum(1 for line in out.open() if "/reviews/" in line) if out.exists() else 0,
            )
        )
        shutil.copytree(light / "warcs", work / "reprocess" / "warcs")
        runs.append(
            timed(
                "reviewarc reprocess",
                [reviewarc, "reprocess", "--data", str(work / "reprocess")],
                lambda: captured(work / "reprocess"),
            )
        )
        runs.append(
            timed(
                "trafilatura loop (1 proc)",
                [sys.executable, str(HERE / "trafilatura_loop.py"), str(light / "warcs")],
                lambda: captured(light),
            )
        )
    finally:
        nginx.terminate()
        nginx.wait()
    print(f"{args.pages} pages of {site} served by nginx; {os.cpu_count()} cores")
    print(f"{'run':<27} {'pages':>6} {'wall s':>7} {'pages/s':>8} {'CPU s':>7} {'RSS MB':>7}")
    for r in runs:
        figures = f"{r.pages:>6} {r.wall:>7.1f} {r.rate:>8.1f} {r.cpu:>7.1f} {r.rss_mb:>7.0f}"
        print(f"{r.name:<27} {figures}")
    by = {r.name: r for r in runs}

    def ratio(a: str, b: str) -> float:
        return by[a].rate / by[b].rate if by[b].rate else float("nan")

    for label, a, b, goal in (
        ("full pipeline / plain Scrapy+trafilatura", "reviewarc crawl", "scrapy + trafilatura", 2),
        ("archive-only / wget", "reviewarc --archive-only", "wget --warc-file", 1),
        ("reprocess / one-process trafilatura", "reviewarc reprocess",
         "trafilatura loop (1 proc)", 1.8),
    ):  # fmt: skip
        print(f"{label:<42} {ratio(a, b):5.2f}x (goal >= {goal})")


if __name__ == "__main__":
    main()
