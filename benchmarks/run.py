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

For each: pages, wall seconds, pages/s, CPU seconds and peak memory of the whole process tree
(worker processes included); then the ratios the throughput goals are about. Page requisites
are off for the crawls, as wget fetches none without -p.

    python benchmarks/run.py [--pages 2000] [--work DIR] [--repeat 3]

With ``--repeat N`` the runs are taken N times in turn (1, 2, ..., 6, 1, 2, ...) and each is
reported by its median wall time: a VM's speed drifts by several per cent from one minute to
the next, and taking the runs in turn spreads that drift over all of them.
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
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))

import psutil  # noqa: E402
from bench_site import generate  # noqa: E402


@dataclass
class Run:
    name: str
    pages: int
    wall: float
    cpu: float
    pss_mb: float  # peak of the whole tree's summed PSS
    rss_mb: float  # peak RSS of its largest process

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
    """nginx serving ``site`` on a free port. nginx cannot report a port it was given as 0,
    so a port is picked and, if another process took it before nginx bound it, another."""
    for _ in range(5):
        started = _start_nginx(site, work, free_port())
        if started is not None:
            return started
    raise SystemExit("nginx did not start")


def _start_nginx(site: Path, work: Path, port: int) -> tuple[subprocess.Popen, str] | None:
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
    deadline = time.monotonic() + 10
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.05)  # a poll interval, not a wait for something to happen
    proc.kill()
    proc.wait()
    return None


def timed(name: str, command: list[str], count: callable, cwd: Path | None = None) -> Run:
    """Run ``command``, sampling its whole process tree (extraction workers included, which a
    forkserver starts outside ``wait()``'s reach): CPU seconds summed over every process seen
    and the largest RSS every 0.2 s, and every 0.5 s the tree's summed proportional set size
    (PSS: shared pages divided among the processes sharing them, so the sum is what the tree
    occupies). Not more often: the sampler's own CPU time is taken from the runs that use
    both cores (reading PSS costs 1.3 ms a process; at 50 ms the sampler took 13% of a core)."""
    start = time.perf_counter()
    proc = psutil.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The end is taken when the process exits, not when the sampler next looks (up to 0.2 s
    # later, which would lengthen every run by 0.1 s on average).
    ended = threading.Event()
    end = [0.0]

    def wait() -> None:
        proc.wait()
        end[0] = time.perf_counter()
        ended.set()

    threading.Thread(target=wait, daemon=True).start()
    cpu: dict[int, float] = {}
    peak = largest = 0
    next_pss = start
    while not ended.is_set():
        total, read_pss = 0, time.perf_counter() >= next_pss
        try:
            tree = [proc, *proc.children(recursive=True)]
        except psutil.Error:
            tree = [proc]
        for p in tree:
            try:
                with p.oneshot():
                    times = p.cpu_times()
                    cpu[p.pid] = times.user + times.system
                    largest = max(largest, p.memory_info().rss)
                    if read_pss:
                        total += p.memory_full_info().pss
            except psutil.Error:
                continue
        if read_pss:
            peak = max(peak, total)
            next_pss += 0.5
        ended.wait(0.2)
    wall = end[0] - start
    return Run(name, count(), wall, sum(cpu.values()), peak / 2**20, largest / 2**20)


def captured(data: Path) -> int:
    con = sqlite3.connect(data / "archive.db")
    try:
        return con.execute(
            "select count(*) from captures where status = 200 and url like '%/reviews/%'"
        ).fetchone()[0]
    finally:
        con.close()


RUNS = ("crawl", "archive-only", "wget", "plain", "reprocess", "loop")
GOALS = (
    ("full pipeline / plain Scrapy+trafilatura", "crawl", "plain", 2),
    ("archive-only / wget", "archive-only", "wget", 1),
    ("reprocess / one-process trafilatura", "reprocess", "loop", 1.8),
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--work", type=Path, default=None, help="kept between runs (site, WARCs)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="take the runs N times in turn; report medians"
    )
    parser.add_argument(
        "--only",
        default=",".join(RUNS),
        help=f"comma-separated subset of {','.join(RUNS)}; reprocess and loop read the"
        " archive-only crawl's WARCs (from this run or an earlier one with the same --work)",
    )
    args = parser.parse_args()
    only = [name for name in args.only.split(",") if name]
    if unknown := set(only) - set(RUNS):
        parser.error(f"unknown runs: {', '.join(sorted(unknown))}")
    work = args.work or Path(tempfile.mkdtemp(prefix="reviewarc-bench-"))
    site = work / "site"
    if not (site / "index.html").exists():
        generate(site, args.pages)
    full, light = work / "full", work / "archive-only"
    reviewarc = str(BIN / "reviewarc")
    # Every page of the site matches one URL pattern: lift the trap guard's cap on it (5,000).
    common = ["--no-requisites", "--log-level", "WARNING", "--set", "REVIEWARC_INCREMENTAL=false",
              "--set", "REVIEWARC_TRAP_MAX_PER_PATTERN=1000000"]  # fmt: skip
    crawl = [reviewarc, "crawl", "URL", *common, "--data"]
    wget = ["wget", "--recursive", "--level=inf", "--no-parent", "--quiet", "--no-verbose",
            "--warc-file=site", "--no-warc-keep-log", "-P", "files", "URL"]  # fmt: skip
    plain_out = work / "plain" / "items.jsonl"
    plain = [str(BIN / "scrapy"), "runspider", str(HERE / "plain_spider.py"), "-a", "url=URL",
             "-o", str(plain_out), "-s", "TELNETCONSOLE_ENABLED=0"]  # fmt: skip
    specs = {
        "crawl": ("reviewarc crawl", [*crawl, str(full)], lambda: captured(full), None),
        "archive-only": ("reviewarc --archive-only", [*crawl, str(light), "--archive-only"],
                         lambda: captured(light), None),
        "wget": ("wget --warc-file", wget,
                 lambda: sum(1 for _ in (work / "wget" / "files").rglob("index.html")) - 1,
                 work / "wget"),
        # Run from outside the project: inside it, scrapy.cfg would give the plain spider
        # reviewarc's own settings (WARC capture, conditional requests, its throttle).
        "plain": ("scrapy + trafilatura", plain,
                  lambda: sum(1 for line in plain_out.open() if "/reviews/" in line)
                  if plain_out.exists() else 0, work / "plain"),
        "reprocess": ("reviewarc reprocess",
                      [reviewarc, "reprocess", "--data", str(work / "reprocess")],
                      lambda: captured(work / "reprocess"), None),
        "loop": ("trafilatura loop (1 proc)",
                 [sys.executable, str(HERE / "trafilatura_loop.py"), str(light / "warcs")],
                 lambda: captured(light), None),
    }  # fmt: skip
    targets = {"crawl": full, "archive-only": light}
    taken = take_runs(site, work, specs, targets, only, args.repeat)
    report(taken, args.pages, site, args.repeat)


def take_runs(
    site: Path, work: Path, specs: dict, targets: dict[str, Path], only: list[str], repeat: int
) -> dict[str, list[Run]]:
    """Each run of ``only``, ``repeat`` times in turn, against the site served by nginx."""
    taken: dict[str, list[Run]] = {}
    nginx, url = start_nginx(site, work)
    try:
        for _ in range(repeat):
            for name in (name for name in RUNS if name in only):
                label, command, count, cwd = specs[name]
                target = targets.get(name, work / name)
                if name != "loop":
                    shutil.rmtree(target, ignore_errors=True)
                if name in ("wget", "plain"):
                    target.mkdir(parents=True)
                if name == "reprocess":
                    shutil.copytree(targets["archive-only"] / "warcs", target / "warcs")
                command = [part.replace("URL", url) for part in command]
                os.sync()  # the copy above, or the last run's files, written out before the clock
                taken.setdefault(name, []).append(timed(label, command, count, cwd=cwd))
    finally:
        nginx.terminate()
        nginx.wait()
    return taken


def report(taken: dict[str, list[Run]], pages: int, site: Path, repeat: int) -> None:
    runs = {name: sorted(results, key=lambda r: r.wall)[len(results) // 2]
            for name, results in taken.items()}  # fmt: skip
    print(f"{pages} pages of {site} served by nginx; {os.cpu_count()} cores")
    header = f"{'run':<27} {'pages':>6} {'wall s':>7} {'pages/s':>8} {'CPU s':>7}"
    print(f"{header} {'PSS MB':>7} {'max RSS':>7}")
    for r in runs.values():
        figures = f"{r.pages:>6} {r.wall:>7.1f} {r.rate:>8.1f} {r.cpu:>7.1f}"
        print(f"{r.name:<27} {figures} {r.pss_mb:>7.0f} {r.rss_mb:>7.0f}")
    for label, a, b, goal in GOALS:
        if a in runs and b in runs and runs[b].rate:
            print(f"{label:<42} {runs[a].rate / runs[b].rate:5.2f}x (goal >= {goal})")
    if repeat > 1:
        print(f"medians of {repeat} runs each; every wall time, in the order taken:")
        for name, results in taken.items():
            print(f"  {name:<13} " + " ".join(f"{r.wall:.1f}" for r in results))


if __name__ == "__main__":
    main()
