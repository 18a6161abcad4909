"""Several review sites on loopback addresses of their own, each request logged with its times.

:class:`LoggedSites` serves N sites, one ``ThreadingHTTPServer`` per address ``127.0.0.2``,
``127.0.0.3``, ... (all of 127/8 is loopback on Linux), each on a port of its own choosing.
Each site is the same shape:

- ``/`` links to the listing ``/reviews/``, which links reviews 1 to 4; review ``n``
  (``/reviews/<n>.html``, n = 1..P) links three other reviews of its host: its children
  3n-1, 3n and 3n+1 of a ternary tree rooted at 1 where those exist, other pages (taken
  modulo P) where not. So every review is reachable from ``/``, breadth-first, within
  depth 6 for P <= 364 (``/`` 0, the listing 1, reviews 1-4 2, 5-13 3, 14-40 4, 41-121 5,
  122-364 6). Review 1 of each host also links ``/`` of the next host (the last host's, the
  first's): a crawl seeded with every host's ``/`` reaches all of them and nothing else.
- each review is an ``<article>`` with an ``<h1>``, a "By <author>" line, a ``<time>`` and
  about 250 words made up here from small word lists, plus a JSON-LD Review with a rating;
  it links the stylesheet ``/style.css`` (a requisite; each host serves its own).
- ``/robots.txt`` allows everything and names no sitemap; ``/sitemap.xml`` is a 404.
- the first host has a calendar trap: its ``/`` links ``/calendar/2031/01/``, and each
  month's page links the next month's, forever (no article on those pages).
- the second host's ``/`` links ``/gone.html`` (404) and ``/old.html`` (301 to
  ``/reviews/1.html``).
- every 200 response has an ``ETag`` (a hash of its body) and a fixed ``Last-Modified``, and
  a request whose ``If-None-Match`` names that ETag, or (without If-None-Match) whose
  ``If-Modified-Since`` is not before that date, gets a 304 instead.
- each response waits ``delay`` seconds in the handler first (the server's latency), so that
  requests that are in progress together overlap measurably.

Every request is logged (:class:`Request`: host, path, method, User-Agent, status, and
``time.monotonic()`` when it was read and just after its response was written). Tests tell
crawl workers apart by User-Agent: :meth:`LoggedSites.max_concurrency` and
:meth:`LoggedSites.overlaps_between_agents` read those intervals. Reading the log waits for
the responses being written to be logged, so a request whose client has its answer is in it.

``python -m tests.multihost`` serves the default sites and prints their seeds.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

#: Last-Modified of every page: 2025-03-01 12:00:00 GMT.
LAST_MODIFIED_EPOCH = 1740830400
LAST_MODIFIED = formatdate(LAST_MODIFIED_EPOCH, usegmt=True)
CALENDAR_START = (2031, 1)
LINKS_PER_REVIEW = 3
LISTED_REVIEWS = 4  # reviews the listing /reviews/ links (levels 0 and 1 of the tree)

_REVIEW = re.compile(r"^/reviews/(\d+)\.html$")
_CALENDAR = re.compile(r"^/calendar/(\d{4})/(\d{2})/$")
ROBOTS = b"User-agent: *\nDisallow:\n"
STYLE = (
    b"body { font-family: serif; max-width: 40em; margin: auto; }\narticle h1 { font-size: 2em }\n"
)

# -- prose -------------------------------------------------------------------------------------
# Every sentence is assembled here from these lists by a generator seeded with the host and
# the review's number: no two reviews read alike. The works, people and sites are invented.

_KINDS = ["Book", "Movie", "MusicAlbum", "Game"]
_WORK_FIRST = (
    "Copper Silent Northern Paper Hollow Amber Salt Winter Glass Lantern Orchard Distant Velvet"
    " Iron Quiet Harbour"
).split()
_WORK_SECOND = (
    "Rivers Engines Gardens Signals Tides Houses Letters Machines Fields Bridges Voices Islands"
    " Clocks Roads"
).split()
_FIRST_NAMES = (
    "Ada Bram Celia Dario Esme Fintan Greta Hal Ines Joss Kaia Lorcan Mira Niall Odile Pavel"
    " Rosa Tomas"
).split()
_LAST_NAMES = (
    "Ashdown Brennick Calloway Dunmore Everly Fairweather Gillespie Hartwell Ingram Kestrel"
    " Lindqvist Marchetti Norwood Oakes Pellham Quill Rowntree Stroud"
).split()
_SUBJECTS = [
    "The opening",
    "The middle section",
    "The ending",
    "The pacing",
    "The lead",
    "The supporting cast",
    "The structure",
    "The tone",
    "The dialogue",
    "The craft",
    "Every quiet moment",
    "The central idea",
    "The second half",
    "The detail work",
    "The humour",
    "The atmosphere",
    "The final stretch",
    "The design",
]
_VERBS = (
    "carries undercuts rewards tests sharpens softens complicates lifts steadies frames echoes"
    " outlasts unsettles earns"
).split()
_OBJECTS = [
    "the whole thing",
    "its best ideas",
    "the patient reader",
    "a familiar story",
    "the weaker scenes",
    "every promise it makes",
    "the slower chapters",
    "a strange kind of warmth",
    "its own ambitions",
    "the tension it builds",
    "the memory of earlier work",
    "what could have been a gimmick",
]
_ADVERBS = [
    "quietly",
    "almost effortlessly",
    "with real confidence",
    "more than it should",
    "in unexpected ways",
    "without much fuss",
    "now and then",
    "to great effect",
    "only in places",
    "with a light touch",
]
_CLAUSES = [
    "even if the rest never quite catches up",
    "and that is no small thing",
    "though some will find it too restrained",
    "which is rarer than it sounds",
    "while the seams sometimes show",
    "and the effect lingers for days",
    "although the start is slow",
    "which makes a second look worthwhile",
    "and nobody involved seems to be coasting",
]
_OPENERS = [
    "In the end,",
    "Surprisingly,",
    "For long stretches,",
    "At its best,",
    "More than once,",
    "Taken as a whole,",
    "On a second pass,",
    "Oddly enough,",
]
_VERDICTS = [
    "A flawed but generous piece of work.",
    "Easy to admire and hard to forget.",
    "Worth the time it asks for.",
    "Not for everyone, and better for it.",
    "A modest success that deserves an audience.",
    "Uneven, ambitious and alive.",
]


def _sentence(rng: random.Random) -> str:
    subject, verb = rng.choice(_SUBJECTS), rng.choice(_VERBS)
    obj, adverb = rng.choice(_OBJECTS), rng.choice(_ADVERBS)
    shape = rng.randrange(4)
    if shape == 0:
        return f"{subject} {verb} {obj} {adverb}."
    if shape == 1:
        return f"{subject} {verb} {obj}, {rng.choice(_CLAUSES)}."
    if shape == 2:
        return f"{rng.choice(_OPENERS)} {subject.lower()} {verb} {obj} {adverb}."
    adverb = rng.choice([a for a in _ADVERBS if " " not in a])  # "quietly lifts", one word
    return f"{subject} {adverb} {verb} {obj}, {rng.choice(_CLAUSES)}."


@dataclass(frozen=True)
class Review:
    """What review ``number`` of a host states (title, author, date, rating and text)."""

    number: int
    title: str
    work: str
    kind: str
    author: str
    date: str  # ISO date
    rating: int  # of 5
    paragraphs: tuple[str, ...]

    @property
    def words(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)


def make_review(host_index: int, number: int, words: int = 250) -> Review:
    rng = random.Random(f"multihost-{host_index}-{number}")
    work = f"{rng.choice(_WORK_FIRST)} {rng.choice(_WORK_SECOND)}"
    kind = rng.choice(_KINDS)
    author = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    month, day = 1 + (number * 7 + host_index) % 12, 1 + (number * 11) % 28
    paragraphs: list[str] = []
    count = 0
    while count < words - 25:  # paragraphs of about 50 words: 225 to 275 in all
        sentences = [_sentence(rng) for _ in range(rng.randint(3, 5))]
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        count += len(paragraph.split())
    paragraphs.append(rng.choice(_VERDICTS))
    return Review(
        number=number,
        title=f"{work}: review number {number}",
        work=work,
        kind=kind,
        author=author,
        date=f"2025-{month:02d}-{day:02d}",
        rating=1 + rng.randrange(5),
        paragraphs=tuple(paragraphs),
    )


def review_links(number: int, pages: int) -> list[int]:
    """The reviews review ``number`` links: its ternary-tree children 3n-1, 3n, 3n+1 where
    they exist, then (modulo ``pages``) further pages, never itself, three in all (fewer on
    a site of fewer than four pages)."""
    links: list[int] = []
    candidate = 3 * number - 1
    while len(links) < min(LINKS_PER_REVIEW, pages - 1):
        target = (candidate - 1) % pages + 1
        if target != number and target not in links:
            links.append(target)
        candidate += 1
    return links


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year, month + 1) if month < 12 else (year + 1, 1)


def calendar_paths(count: int) -> list[str]:
    """The first ``count`` calendar pages, from /calendar/2031/01/ on."""
    paths, (year, month) = [], CALENDAR_START
    for _ in range(count):
        paths.append(f"/calendar/{year:04d}/{month:02d}/")
        year, month = next_month(year, month)
    return paths


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


@dataclass(frozen=True)
class Request:
    """One request as a host saw it. ``start``: time.monotonic() once its request line and
    headers were read; ``end``: just after its response was written."""

    host: str  # the server's address, e.g. "127.0.0.2"
    port: int
    path: str  # with the query string
    method: str
    user_agent: str
    status: int
    start: float
    end: float
    headers: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    def overlaps(self, other: Request) -> bool:
        return self.start < other.end and other.start < self.end


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _SiteServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # The headers and the body go out in two writes: without this, Nagle's algorithm
        # holds the body until the client's delayed ACK, 40 ms on each response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        start = time.monotonic()
        time.sleep(self.server.sites.delay)
        status, headers, body = self.server.route(urlsplit(self.path).path)
        if status == 200:
            headers = [*headers, ("ETag", _etag(body)), ("Last-Modified", LAST_MODIFIED)]
            if self._not_modified(_etag(body)):
                status, body = 304, b""
                headers = [(k, v) for k, v in headers if k in ("ETag", "Last-Modified")]
        sites = self.server.sites
        sites._writing_starts()  # from here until it is logged, the log waits for it
        # The request's end: when its answer starts to go out. The client cannot have it
        # before, and may send its next request the moment it has it, before this thread
        # is done writing: an end taken after the write made one connection at a time
        # look like two.
        answered = time.monotonic()
        try:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            if status != 304:  # a 304 has no body, and no Content-Length of one
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        finally:  # a client that hung up mid-response is logged all the same
            sites._record(
                Request(
                    host=self.server.address,
                    port=self.server.port,
                    path=self.path,
                    method=self.command,
                    user_agent=self.headers.get("User-Agent", ""),
                    status=status,
                    start=start,
                    end=answered,
                    headers=dict(self.headers.items()),
                )
            )

    do_HEAD = do_GET

    def _not_modified(self, etag: str) -> bool:
        none_match = self.headers.get("If-None-Match")
        if none_match is not None:
            tags = [t.strip().removeprefix("W/") for t in none_match.split(",")]
            return "*" in tags or etag in tags
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            return parsedate_to_datetime(since).timestamp() >= LAST_MODIFIED_EPOCH
        except (TypeError, ValueError):
            return False


Response = tuple[int, list[tuple[str, str]], bytes]
_HTML = "text/html; charset=utf-8"


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sites: LoggedSites, index: int, address: str) -> None:
        super().__init__((address, 0), _Handler)
        self.sites = sites
        self.index = index
        self.address = address
        self.port = self.server_address[1]
        self.base_url = f"http://{address}:{self.port}"
        self.name = f"Loopback Reviews {index + 1}"
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up mid-response is no harness error

    def _page(self, title: str, body: str, head: str = "") -> bytes:
        return (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title>{head}</head><body>{body}</body></html>"
        ).encode()

    def route(self, path: str) -> Response:
        sites = self.sites
        if path == "/":
            return 200, [("Content-Type", _HTML)], self._home()
        if path == "/robots.txt":
            return 200, [("Content-Type", "text/plain; charset=utf-8")], ROBOTS
        if path == "/style.css":
            return 200, [("Content-Type", "text/css")], STYLE
        if path == "/reviews/":
            links = "".join(
                f'<li><a href="/reviews/{n}.html">Review {n}</a></li>'
                for n in range(1, min(LISTED_REVIEWS, sites.pages) + 1)
            )
            return (
                200,
                [("Content-Type", _HTML)],
                self._page(
                    f"Latest reviews – {self.name}", f"<h1>Latest reviews</h1><ul>{links}</ul>"
                ),
            )
        if (m := _REVIEW.match(path)) and 1 <= int(m.group(1)) <= sites.pages:
            return 200, [("Content-Type", _HTML)], self._review(int(m.group(1)))
        if self.index == 0 and (m := _CALENDAR.match(path)) and 1 <= int(m.group(2)) <= 12:
            year, month = next_month(int(m.group(1)), int(m.group(2)))
            body = (
                f"<h1>Events of {m.group(1)}-{m.group(2)}</h1><p>Nothing is planned yet.</p>"
                f'<a href="/calendar/{year:04d}/{month:02d}/">Next month</a>'
            )
            return 200, [("Content-Type", _HTML)], self._page(f"Calendar – {self.name}", body)
        if self.index == 1 and path == "/old.html":
            return 301, [("Location", "/reviews/1.html"), ("Content-Type", _HTML)], b""
        return 404, [("Content-Type", _HTML)], self._page("Not found", "<p>No such page.</p>")

    def _home(self) -> bytes:
        links = ['<a href="/reviews/">All reviews</a>']
        if self.index == 0:
            links.append(f'<a href="{calendar_paths(1)[0]}">Events calendar</a>')
        if self.index == 1:
            links += ['<a href="/gone.html">A removed page</a>', '<a href="/old.html">Archive</a>']
        nav = " | ".join(links)
        return self._page(self.name, f"<h1>{self.name}</h1><nav>{nav}</nav>")

    def _review(self, number: int) -> bytes:
        review = self.sites.review(self.index, number)
        related = "".join(
            f'<li><a href="/reviews/{n}.html">Review {n}</a></li>'
            for n in review_links(number, self.sites.pages)
        )
        if number == 1 and len(self.sites.servers) > 1:
            other = self.sites.servers[(self.index + 1) % len(self.sites.servers)]
            related += f'<li><a href="{other.base_url}/">{escape(other.name)}</a></li>'
        markup = {
            "@context": "https://schema.org",
            "@type": "Review",
            "name": review.title,
            "author": {"@type": "Person", "name": review.author},
            "datePublished": review.date,
            "itemReviewed": {"@type": review.kind, "name": review.work},
            "reviewRating": {
                "@type": "Rating",
                "ratingValue": review.rating,
                "bestRating": 5,
                "worstRating": 1,
            },
            "publisher": {"@type": "Organization", "name": self.name},
        }
        head = (
            '<link rel="stylesheet" href="/style.css">'
            '<meta property="og:type" content="article">'
            f'<script type="application/ld+json">{json.dumps(markup)}</script>'
        )
        text = "".join(f"<p>{escape(p)}</p>" for p in review.paragraphs)
        body = (
            f'<header><a href="/">{escape(self.name)}</a></header>'
            f"<article><h1>{escape(review.title)}</h1>"
            f'<p class="byline">By {escape(review.author)}, '
            f'<time datetime="{review.date}">{review.date}</time></p>'
            f"<p>Rating: {review.rating} out of 5</p>{text}</article>"
            f"<aside><h2>More reviews</h2><ul>{related}</ul></aside>"
        )
        return self._page(f"{review.title} – {self.name}", body, head)


class LoggedSites:
    """``hosts`` review sites of ``pages`` reviews each on 127.0.0.2, 127.0.0.3, ..., started
    at once, each request logged; see the module's docstring for what they serve."""

    def __init__(self, hosts: int = 3, pages: int = 150, delay: float = 0.01) -> None:
        if not 1 <= hosts <= 250:
            raise ValueError("hosts: 1 to 250")
        if pages < 1:
            raise ValueError("pages: at least 1")
        self.pages = pages
        self.delay = delay
        self._lock = threading.Lock()  # the reviews' cache
        self._changed = threading.Condition()  # the log, and how many are being written
        self._log: list[Request] = []
        self._writing = 0
        self._reviews: dict[tuple[int, int], Review] = {}
        self.servers: list[_SiteServer] = []
        try:
            for i in range(hosts):
                self.servers.append(_SiteServer(self, i, f"127.0.0.{i + 2}"))
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> LoggedSites:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
        self.servers = []

    # -- what they serve -------------------------------------------------------------------

    @property
    def seeds(self) -> list[str]:
        """Each host's home page, ``http://127.0.0.N:PORT/``."""
        return [server.base_url + "/" for server in self.servers]

    @property
    def base_urls(self) -> list[str]:
        """Each host's ``http://127.0.0.N:PORT``."""
        return [server.base_url for server in self.servers]

    def review(self, host_index: int, number: int) -> Review:
        key = (host_index, number)
        with self._lock:
            if key not in self._reviews:
                self._reviews[key] = make_review(host_index, number)
            return self._reviews[key]

    def reviews(self) -> dict[str, Review]:
        """Every review page's URL and what it states."""
        return {
            f"{server.base_url}/reviews/{n}.html": self.review(server.index, n)
            for server in self.servers
            for n in range(1, self.pages + 1)
        }

    def review_urls(self) -> set[str]:
        return set(self.reviews())

    def reachable_urls(self, max_calendar: int) -> set[str]:
        """The absolute URLs a crawl from :attr:`seeds` that follows every link (and
        redirect) and asks each host for ``/robots.txt`` and ``/sitemap.xml`` fetches, each
        once: per host ``/``, ``/reviews/``, every review, ``/style.css``, ``/robots.txt``
        and ``/sitemap.xml`` (a 404); the second host's ``/gone.html`` (404) and
        ``/old.html`` (301 to its review 1, counted once as a review); and the first
        ``max_calendar`` pages of the first host's calendar, ``/calendar/2031/01/`` being
        the first (0: none of them)."""
        urls: set[str] = set()
        for server in self.servers:
            base = server.base_url
            paths = ["/", "/reviews/", "/style.css", "/robots.txt", "/sitemap.xml"]
            paths += [f"/reviews/{n}.html" for n in range(1, self.pages + 1)]
            if server.index == 0:
                paths += calendar_paths(max_calendar)
            if server.index == 1:
                paths += ["/gone.html", "/old.html"]
            urls.update(base + path for path in paths)
        return urls

    # -- the log ---------------------------------------------------------------------------

    def _writing_starts(self) -> None:
        with self._changed:
            self._writing += 1

    def _record(self, request: Request) -> None:
        with self._changed:
            self._log.append(request)
            self._writing -= 1
            self._changed.notify_all()

    @property
    def log(self) -> list[Request]:
        """A copy of the log, in the order the responses ended. It waits (5 s at most) for
        the responses being written to be logged: a client can have read the whole of a
        response before its handler has logged it, and a test that reads the log once its
        client has its answer finds that request there."""
        with self._changed:
            self._changed.wait_for(lambda: self._writing == 0, timeout=5)
            return list(self._log)

    def reset_log(self) -> None:
        """Forget every request logged so far (those being written are logged first)."""
        with self._changed:
            self._changed.wait_for(lambda: self._writing == 0, timeout=5)
            self._log.clear()

    def _host(self, host: str) -> str:
        """The address in ``host``: an address, ``address:port`` or a URL of one."""
        if "://" in host:
            return urlsplit(host).hostname or host
        return host.rsplit(":", 1)[0] if host.count(":") == 1 else host

    def requests_on(self, host: str) -> list[Request]:
        """The requests one host served (by address, ``address:port`` or URL), by start."""
        address = self._host(host)
        return sorted((r for r in self.log if r.host == address), key=lambda r: r.start)

    def requests_by(self, url: str) -> int:
        """How many requests asked for ``url`` (absolute, with its query if any)."""
        return sum(1 for r in self.log if r.url == url)

    def by_agent(self) -> dict[str, list[Request]]:
        """The log split by User-Agent."""
        agents: dict[str, list[Request]] = {}
        for r in self.log:
            agents.setdefault(r.user_agent, []).append(r)
        return agents

    def max_concurrency(self, host: str) -> int:
        """The most requests one host had in progress at once, from the logged intervals (a
        request that ended at the very moment another started does not overlap it)."""
        events = []
        for r in self.requests_on(host):
            events += [(r.start, 1), (r.end, -1)]
        events.sort()  # at equal times the end (-1) sorts before the start (+1)
        most = current = 0
        for _, step in events:
            current += step
            most = max(most, current)
        return most

    def overlaps_between_agents(self, host: str) -> list[tuple[Request, Request]]:
        """Pairs of requests on one host, from different User-Agents, in progress at the same
        time (earlier start first in each pair)."""
        requests = self.requests_on(host)
        pairs = []
        for i, first in enumerate(requests):
            for second in requests[i + 1 :]:
                if second.start >= first.end:
                    break
                if second.user_agent != first.user_agent:
                    pairs.append((first, second))
        return pairs


if __name__ == "__main__":
    with LoggedSites() as sites:
        print("\n".join(sites.seeds), flush=True)
        threading.Event().wait()
