#!/usr/bin/env python3
"""What sharing a crawl through Redis costs: pages/s, Redis operations and memory.

Three review sites on loopback addresses (tests/multihost.py, no server delay) are crawled
once by a one-machine ``reviewarc crawl`` (the peer, in the same run) and then by 1, 2 and
4 workers sharing one real ``redis-server`` (``crawl --redis``), each its own process; then
10,000 generated requests are queued and taken through the frontier alone for Redis's
memory per 10,000 URLs. On a 2-core machine more workers only share the same two cores:
the figures show the overhead of sharing, not a speed-up.

    .venv/bin/python benchmarks/distributed.py [--pages 300] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.multihost import LoggedSites  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

REVIEWARC = str(Path(sys.executable).parent / "reviewarc")
SETTINGS = ["--set", "REVIEWARC_MAX_DEPTH=1000", "--set", "REVIEWARC_EXTRACT_WORKERS=1",
            "--log-level", "ERROR"]  # fmt: skip


def info(server: RedisServer, section: str) -> dict[str, str]:
    text = server.command("INFO", section).decode(errors="replace")
    return dict(re.findall(r"^(\w+):(.*?)\r?$", text, re.MULTILINE))


def captures(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("select count(*) from captures").fetchone()[0]


def crawl(sites: LoggedSites, data: Path, server: RedisServer | None, workers: int) -> dict:
    trap = ["--set", f"REVIEWARC_TRAP_MAX_PER_PATTERN={sites.pages + 10}"]
    start = time.monotonic()
    if server is None:
        subprocess.run([REVIEWARC, "crawl", *sites.seeds, "--data", str(data), *SETTINGS,
                        *trap], check=True, capture_output=True)  # fmt: skip
        elapsed = time.monotonic() - start
        return {"seconds": elapsed, "pages": captures(data / "archive.db")}
    before = int(info(server, "stats")["total_commands_processed"])
    processes = [
        subprocess.Popen(
            [
                REVIEWARC,
                "crawl",
                *sites.seeds,
                "--data",
                str(data),
                "--redis",
                server.url,
                "--worker",
                f"w{n}",
                *SETTINGS,
                *trap,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(workers)
    ]
    codes = [p.wait() for p in processes]
    elapsed = time.monotonic() - start
    assert codes == [0] * workers, codes
    ops = int(info(server, "stats")["total_commands_processed"]) - before
    pages = sum(captures(db) for db in data.glob("workers/*/archive.db"))
    return {"seconds": elapsed, "pages": pages, "ops": ops}


def memory_per_10k(server: RedisServer) -> tuple[float, float]:
    """Redis used_memory growth, in bytes, for 10,000 queued requests (their fingerprints
    in the seen set, the requests in 100 hosts' queues) and once they are taken."""
    from crawler.distributed.state import SharedState, connect

    server.flushall()
    client = connect(server.url)
    state = SharedState(client, "bench:memory", "w1", 60)
    state.register()
    base = int(info(server, "memory")["used_memory"])
    hosts = [f"host{h}.example" for h in range(100)]
    batch = []
    for i in range(10_000):
        host = hosts[i % 100]
        url = f"https://{host}/reviews/{i:06d}/a-review-of-something-{i}.html"
        meta = {"found_by": "link", "depth": 3}
        batch.append((f"{i:040x}", host, 0, {"u": url, "m": meta, "c": "parse", "e": "on_error"}))
        if len(batch) == 500:
            state.push(batch)
            batch = []
    queued = int(info(server, "memory")["used_memory"]) - base
    wants = dict.fromkeys(hosts, 100)
    for host in hosts:
        client.set(state.key(f"lease:{host}"), b"w1")
    state.take(wants, 0, 100)
    taken = int(info(server, "memory")["used_memory"]) - base
    return queued, taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="reviews per site (3 sites)")
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="reviewarc-distributed-"))
    rows = []
    try:
        with RedisServer() as server, LoggedSites(hosts=3, pages=args.pages, delay=0) as sites:
            local = crawl(sites, work / "local", None, 0)
            rows.append(("one machine (no Redis)", local))
            for n in map(int, args.workers.split(",")):
                server.flushall()
                rows.append((f"{n} worker(s), Redis", crawl(sites, work / f"w{n}", server, n)))
            queued, taken = memory_per_10k(server)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    head = ("crawl", "pages", "seconds", "pages/s", "vs one", "Redis ops/page")
    print(f"{head[0]:28} {head[1]:>6} {head[2]:>8} {head[3]:>8} {head[4]:>7} {head[5]:>15}")
    base = local["pages"] / local["seconds"]
    for name, r in rows:
        rate = r["pages"] / r["seconds"]
        ops = f"{r['ops'] / r['pages']:.1f}" if "ops" in r else "-"
        line = f"{name:28} {r['pages']:6d} {r['seconds']:8.1f} {rate:8.1f} {rate / base:7.2f}"
        print(f"{line} {ops:>15}")
    print(f"Redis memory per 10,000 URLs: {queued / 1e6:.2f} MB queued, {taken / 1e6:.2f} MB"
          " in flight (the seen set included)")  # fmt: skip


if __name__ == "__main__":
    main()
