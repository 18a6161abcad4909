#!/usr/bin/env python3
"""Crawls of real review pages with their page requisites: do requisites hold the pages up?

Real pages load dozens of stylesheets, images, scripts and fonts from third-party hosts
(issue 14). This copies the 181 real pages of ``../shared/extraction-benchmark/html`` into a
static site (``/p/<id>/index.html``, each page's own ``<a>`` links made inert, every other byte
kept; an index page ``/`` links once to each page), serves it with nginx on loopback, and
crawls it twice per scenario: ``reviewarc crawl --no-requisites`` and ``reviewarc crawl``
(requisites archived, the default).

``offline``: the requisites' host names do not resolve from this machine (as the issue
measured).

``live``: the same pages, but their requisite hosts resolve, through a DNS resolver injected
into the crawl (``benchmarks/sim_dns.py``), to simulated servers (``benchmarks/realpages_sim.py``),
each host by a hash of its name: about 85% answer from 127.0.0.2-8 on ports 80 and 443
(https with a self-signed certificate, which Scrapy accepts), each response 50-500 ms late,
with a body of a plausible size and type; about 5% go to 127.0.0.9, which accepts connections
and never answers; about 10% do not resolve. Both crawls throttle loopback hosts like live
ones (``REVIEWARC_THROTTLE_LOOPBACK=True``). Afterwards, the default crawl's WARCs are served
with ``reviewarc replay`` and every archived requisite of an answering host is fetched back and
compared with the bytes the simulated server sent.

For each crawl: wall seconds, "pages done" (crawl start to the last capture of a page of the
site, ``captures.fetched_at``), captures, articles, failures by kind, requisites archived. A
crawl still running after ``--timeout`` seconds is stopped with SIGTERM (SIGKILL 30 s later)
and reported as timed out, with what it had archived by then.

    python benchmarks/realpages.py [--only offline,offline-nxdomain,live] [--timeout 600]
                                   [--work DIR] [--keep]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))

from realpages_sim import (  # noqa: E402
    SILENT,
    Served,
    SimWeb,
    Site,
    assign_hosts,
    bind_sockets,
    build_site,
    kind_key,
    rewrite_ports,
    tls_context,
)
from run import start_nginx  # noqa: E402

PAGES = ROOT.parent / "shared" / "extraction-benchmark" / "html"
SCENARIOS = ("offline", "offline-nxdomain", "live")
KILL_AFTER = 30.0  # seconds between SIGTERM and SIGKILL
LIVE_SETTINGS = [
    "--set",
    "REVIEWARC_THROTTLE_LOOPBACK=True",
    "--set",
    "TWISTED_DNS_RESOLVER=benchmarks.sim_dns.SimResolver",
]


@dataclass
class Crawl:
    """One crawl and what its archive holds afterwards."""

    label: str
    command: list[str]
    wall: float = 0.0
    timed_out: bool = False
    stopped_by: str = ""  # SIGTERM or SIGKILL, when it timed out
    outcome: str = ""  # crawls.outcome
    pages_done: float | None = None
    pages: int = 0  # distinct page URLs of the site archived with status 200
    captures: int = 0
    articles: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    third_party: int = 0  # captures off the site's origin (robots.txt files apart)
    third_party_ok: int = 0  # of which status 200
    own_other: int = 0  # the site's own captures that are not pages, robots.txt or sitemaps
    robots: int = 0  # robots.txt files, any host
    sitemaps: int = 0  # the site's own /sitemap* probes
    archived_ok: dict[str, str] = field(default_factory=dict)  # 200 captures: url -> fetched_at
    sim: SimFigures | None = None


@dataclass
class SimFigures:
    """What the simulated web saw during one crawl, against what the crawl archived."""

    asked: int  # distinct requisite URLs asked of answering hosts
    requests: int  # requests for them, retries included
    robots: int
    silent_connections: int
    archived: int  # of the asked URLs, archived with status 200
    not_archived: list[str]
    dns_missed: int  # names looked up that the map leaves unresolved on purpose
    dns_unknown: list[str]  # names looked up that the benchmark's page parser never saw
    replay_checked: int = 0
    replay_same: int = 0
    replay_bad: list[str] = field(default_factory=list)


#: A page of the benchmark site (its requisites may be under the same prefix).
PAGE_PATH = re.compile(r"/p/[^/]+/")


def parse_time(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def run_crawl(crawl: Crawl, env: dict[str, str], log: Path, timeout: float) -> None:
    """Run the crawl in a session of its own (its extraction workers with it), stopping it
    with SIGTERM after ``timeout`` seconds and with SIGKILL if it is still there 30 s later."""
    start = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            crawl.command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            crawl.timed_out = True
            proc.send_signal(signal.SIGTERM)  # Scrapy's graceful shutdown
            try:
                proc.wait(KILL_AFTER)
                crawl.stopped_by = "SIGTERM"
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                crawl.stopped_by = "SIGKILL"
    crawl.wall = time.perf_counter() - start
    end_group(proc.pid)


def end_group(pgid: int) -> None:
    """Processes left in the crawl's session (workers of a killed crawl): given 5 s to go."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)  # a poll interval
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def read_archive(crawl: Crawl, data: Path, origin: str, started: float) -> None:
    """Fill in the crawl's figures from ``data/archive.db``."""
    db_path = data / "archive.db"
    if not db_path.exists():
        return
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = con.execute("select url, fetched_at, status from captures").fetchall()
        crawl.articles = con.execute("select count(*) from articles").fetchone()[0]
        crawl.failures = Counter(
            dict(con.execute("select kind, count(*) from failures group by kind").fetchall())
        )
        outcome = con.execute("select outcome from crawls order by id desc limit 1").fetchone()
        crawl.outcome = (outcome[0] if outcome else None) or "(none)"
    finally:
        con.close()
    crawl.captures = len(rows)
    last_page, pages = None, set()
    for url, fetched_at, status in rows:
        own = url == origin + "/" or url.startswith(origin + "/")
        path = urlsplit(url).path
        if path == "/robots.txt":
            crawl.robots += 1
        elif own and (url == origin + "/" or (PAGE_PATH.fullmatch(path) and "?" not in url)):
            # the index and /p/<id>/ only: relative requisites live under /p/<id>/ too
            moment = parse_time(fetched_at)
            last_page = moment if last_page is None else max(last_page, moment)
            if status == 200:
                pages.add(url)
        elif own and path.startswith("/sitemap"):
            crawl.sitemaps += 1
        elif own:
            crawl.own_other += 1
        else:
            crawl.third_party += 1
            crawl.third_party_ok += status == 200
        if status == 200:
            crawl.archived_ok.setdefault(url, fetched_at)
    crawl.pages = len(pages)
    if last_page is not None:
        crawl.pages_done = last_page - started


def crawl_command(url: str, data: Path, *extra: str) -> list[str]:
    return [
        str(BIN / "reviewarc"),
        "crawl",
        url,
        "--data",
        str(data),
        "--log-level",
        "WARNING",
        *extra,
    ]


def take(
    label: str, url: str, data: Path, extra: list[str], env: dict[str, str], timeout: float
) -> Crawl:
    shutil.rmtree(data, ignore_errors=True)
    crawl = Crawl(label, crawl_command(url, data, *extra))
    print(f"  {label}: {shlex.join(crawl.command)}", flush=True)
    started = time.time()
    run_crawl(crawl, env, data.with_suffix(".log"), timeout)
    read_archive(crawl, data, url.rstrip("/"), started)
    return crawl


# --- scenarios ------------------------------------------------------------------------------


def offline(site: Site, work: Path, timeout: float, nxdomain: bool = False) -> list[Crawl]:
    """The pages served by nginx, their requisites' names unresolvable. ``nxdomain``: through
    a resolver that answers "no such name" at once (an empty map of sim_dns.SimResolver), to
    tell the crawler's own cost from this machine's resolver, which under load takes 5 s or
    more to say so for some of the names."""
    nginx, url = start_nginx(site.root, work)
    env = dict(os.environ)
    extra: list[str] = []
    if nxdomain:
        empty = work / "empty-dns.json"
        empty.write_text("{}")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env["REVIEWARC_SIM_DNS"] = str(empty)
        extra = ["--set", "TWISTED_DNS_RESOLVER=benchmarks.sim_dns.SimResolver"]
    try:
        return [
            take(
                "no-requisites",
                url,
                work / "no-requisites",
                ["--no-requisites", *extra],
                env,
                timeout,
            ),
            take("default", url, work / "default", extra, env, timeout),
        ]
    finally:
        nginx.terminate()
        nginx.wait()


@dataclass
class LivePlan:
    table: dict[str, str]
    silent: set[str]
    unresolved: set[str]
    rewritten: bool
    http_port: int
    https_port: int


def live(
    site: Site, work: Path, timeout: float, force_rewrite: bool
) -> tuple[list[Crawl], LivePlan]:
    hosts = {urlsplit(u).hostname or "" for u in site.requisites}
    table, silent, unresolved = assign_hosts(hosts)
    work.mkdir(parents=True, exist_ok=True)
    dns_map = work / "sim-dns.json"
    dns_map.write_text(json.dumps(table, indent=0, sort_keys=True), encoding="utf-8")
    try:
        sockets, http_port, https_port = bind_sockets(rewrite=force_rewrite)
        rewritten = force_rewrite
    except OSError as e:
        print(
            f"  cannot listen on ports 80/443 of the simulated addresses ({e}):"
            " the copied pages' requisite URLs are rewritten to other ports"
        )
        sockets, http_port, https_port = bind_sockets(rewrite=True)
        rewritten = True
    root = site.root
    if rewritten:
        root = work / "site"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(site.root, root)
        names = set(table)
        for page in (root / "p").glob("*/index.html"):
            page.write_bytes(rewrite_ports(page.read_bytes(), names, http_port, https_port))
    kinds = {kind_key(u): kind for u, kind in site.requisites.items()}
    tls = tls_context(work / "tls", {name for name, address in table.items() if address != SILENT})
    web = SimWeb(sockets, http_port, https_port, kinds, tls)
    plan = LivePlan(table, silent, unresolved, rewritten, http_port, https_port)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["REVIEWARC_SIM_DNS"] = str(dns_map)
    crawls = []
    web.start()
    nginx = None
    try:
        nginx, url = start_nginx(root, work)
        for label, extra in (("no-requisites", ["--no-requisites"]), ("default", [])):
            data = work / label
            missed = work / f"{label}.dns-missed"
            missed.unlink(missing_ok=True)
            env["REVIEWARC_SIM_DNS_LOG"] = str(missed)
            web.reset()
            crawl = take(label, url, data, [*extra, *LIVE_SETTINGS], env, timeout)
            crawl.sim = sim_figures(crawl, web, plan, missed)
            crawls.append(crawl)
        default = crawls[-1]
        if default.sim is not None and default.sim.archived:
            replay_check(default, work / "default", web.snapshot()[1], work)
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait()
        web.stop()
    return crawls, plan


def _bare(url: str) -> str:
    return url[:-1] if urlsplit(url).path == "/" and not urlsplit(url).query else url


def sim_figures(crawl: Crawl, web: SimWeb, plan: LivePlan, missed: Path) -> SimFigures:
    asked, _, robots, silent = web.snapshot()
    # A page's "http://host" is asked for as "http://host/": the same URL.
    archived = [u for u in asked if u in crawl.archived_ok or _bare(u) in crawl.archived_ok]
    names = missed.read_text().split() if missed.exists() else []
    return SimFigures(
        asked=len(asked),
        requests=sum(asked.values()),
        robots=robots,
        silent_connections=silent,
        archived=len(archived),
        not_archived=sorted(set(asked) - set(archived)),
        dns_missed=sum(name in plan.unresolved for name in names),
        dns_unknown=sorted(name for name in names if name not in plan.unresolved),
    )


def replay_check(crawl: Crawl, data: Path, served: dict[str, Served], work: Path) -> None:
    """Serve the crawl's WARCs with ``reviewarc replay`` and fetch each archived requisite
    of an answering host as archived (``id_``): its bytes must be what the server sent."""
    assert crawl.sim is not None
    urls = [u for u in served if u in crawl.archived_ok]
    command = [str(BIN / "reviewarc"), "replay", "--data", str(data), "--port", "0"]
    print(f"  replay: {shlex.join(command)}", flush=True)
    log = (work / "replay.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=log, text=True)
    drain: threading.Thread | None = None
    try:
        base = None
        assert proc.stderr is not None
        for line in proc.stderr:  # "N captures indexed; replay at http://H:P/web/"
            log.write(line)
            if "replay at " in line:
                base = line.split("replay at ", 1)[1].strip()
                break
        if base is None:
            raise SystemExit(f"reviewarc replay did not start; see {work / 'replay.log'}")
        drain = threading.Thread(target=lambda: log.writelines(proc.stderr), daemon=True)
        drain.start()

        def check(url: str) -> tuple[str, bool]:
            stamp = "".join(ch for ch in crawl.archived_ok[url] if ch.isdigit())[:14]
            try:
                with urllib.request.urlopen(f"{base}{stamp}id_/{url}", timeout=60) as response:
                    body = response.read()
            except (urllib.error.URLError, OSError):
                return url, False
            return url, hashlib.sha256(body).hexdigest() == served[url].digest

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            results = list(pool.map(check, urls))
    finally:
        proc.terminate()
        proc.wait()
        if drain is not None:
            drain.join()
        log.close()
    crawl.sim.replay_checked = len(results)
    crawl.sim.replay_same = sum(same for _, same in results)
    crawl.sim.replay_bad = [url for url, same in results if not same]


# --- report ---------------------------------------------------------------------------------


def ended(crawl: Crawl, timeout: float) -> str:
    if crawl.timed_out:
        return f"timed out at {timeout:.0f} s, stopped by {crawl.stopped_by} ({crawl.outcome})"
    return crawl.outcome


def report_scenario(name: str, crawls: list[Crawl], timeout: float) -> None:
    print(f"\nScenario {name}:")
    print(
        f"{'crawl':<14} {'wall s':>7} {'pages done s':>12} {'pages':>5} {'captures':>8}"
        f" {'articles':>8} {'requisites':>10}  ended"
    )
    for c in crawls:
        done = f"{c.pages_done:.1f}" if c.pages_done is not None else "-"
        print(
            f"{c.label:<14} {c.wall:>7.1f} {done:>12} {c.pages:>5} {c.captures:>8}"
            f" {c.articles:>8} {c.third_party + c.own_other:>10}  {ended(c, timeout)}"
        )
    for c in crawls:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(c.failures.items())) or "none"
        print(
            f"  {c.label}: failures {sum(c.failures.values())} ({kinds}); requisites:"
            f" {c.third_party} third-party captures ({c.third_party_ok} with status 200),"
            f" {c.own_other} of the site's own non-page URLs; robots.txt {c.robots},"
            f" sitemap probes {c.sitemaps}"
        )
    if len(crawls) == 2:
        light, full = crawls
        bound = ">= " if full.timed_out else ""
        print(f"  default / no-requisites wall time: {bound}{full.wall / light.wall:.2f}x")
        if light.pages_done and full.pages_done is not None:
            unfinished = full.pages < light.pages
            note = f" (default archived {full.pages} of {light.pages} pages)" if unfinished else ""
            print(
                f"  default / no-requisites pages done: {'>= ' if unfinished else ''}"
                f"{full.pages_done / light.pages_done:.2f}x{note}"
            )


def report_live(crawls: list[Crawl], plan: LivePlan) -> None:
    answering = len(plan.table) - len(plan.silent)
    print(
        f"  simulated hosts: {answering} answering (127.0.0.2-8), {len(plan.silent)} silent"
        f" ({SILENT}), {len(plan.unresolved)} not resolving; ports"
        f" {plan.http_port}/{plan.https_port}"
        + (
            " (requisite URLs in the copied pages rewritten to them)"
            if plan.rewritten
            else ", URLs unchanged; https served with a self-signed certificate"
        )
    )
    for c in crawls:
        s = c.sim
        if s is None:
            continue
        print(
            f"  {c.label}: answering servers asked for {s.asked} distinct requisite URLs"
            f" ({s.requests} requests), {s.archived} of them archived with status 200;"
            f" {s.robots} robots.txt; {s.silent_connections} connections to the silent"
            f" server; {s.dns_missed} unresolvable names looked up"
        )
        if s.not_archived:
            print(
                f"    asked but not archived: {len(s.not_archived)}, e.g. "
                + ", ".join(s.not_archived[:3])
            )
        if s.dns_unknown:
            print(
                f"    names looked up that the page parser never saw: {len(s.dns_unknown)},"
                f" e.g. {', '.join(s.dns_unknown[:5])}"
            )
        if s.replay_checked:
            print(
                f"    replay: {s.replay_checked} archived requisites fetched back,"
                f" {s.replay_same} byte-identical to what the server sent"
            )
            if s.replay_bad:
                print(f"    differing or missing: {', '.join(s.replay_bad[:5])}")


def machine() -> str:
    import scrapy

    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        rev = "?"
    return (
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, Python"
        f" {platform.python_version()}, Scrapy {scrapy.__version__}; reviewarc at {rev}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(SCENARIOS), help="scenarios, comma-separated")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds before a crawl is stopped"
    )
    parser.add_argument("--work", type=Path, help="work directory (default: a new temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the site, WARCs and logs")
    parser.add_argument(
        "--rewrite-ports",
        action="store_true",
        help="serve the simulated hosts on free ports and rewrite the pages' requisite URLs"
        " to them (what happens anyway when ports 80/443 cannot be bound)",
    )
    parser.add_argument(
        "--limit", type=int, help="only the first N pages (a quick look; figures not comparable)"
    )
    args = parser.parse_args()
    only = [name for name in args.only.split(",") if name]
    if unknown := set(only) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    made = args.work is None
    work = args.work or Path(tempfile.mkdtemp(prefix="reviewarc-realpages-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    try:
        site = build_site(PAGES, work / "site", args.limit)
        hosts = {urlsplit(u).hostname for u in site.requisites}
        print(
            f"site: {len(site.ids)} pages and an index ({site.page_bytes / 2**20:.1f} MB),"
            f" {site.links_neutralised} <a>/<area> links made inert; requisites in the pages:"
            f" {len(site.requisites)} distinct third-party URLs on {len(hosts)} hosts"
            f" ({site.third_party_refs} references), {site.own_refs} references to the"
            f" site's own origin; work dir {work}"
        )
        results: dict[str, list[Crawl]] = {}
        plan = None
        if "offline" in only:
            print("offline:", flush=True)
            results["offline"] = offline(site, work / "offline", args.timeout)
        if "offline-nxdomain" in only:
            print("offline, names answered 'no such name' at once:", flush=True)
            results["offline-nxdomain"] = offline(
                site, work / "offline-nxdomain", args.timeout, nxdomain=True
            )
        if "live" in only:
            print("live:", flush=True)
            results["live"], plan = live(site, work / "live", args.timeout, args.rewrite_ports)
        for name, crawls in results.items():
            report_scenario(name, crawls, args.timeout)
            if name == "live" and plan is not None:
                report_live(crawls, plan)
    finally:
        if not args.keep:
            for name in ("site", *SCENARIOS):
                shutil.rmtree(work / name, ignore_errors=True)
            if made:
                shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
