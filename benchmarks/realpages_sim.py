"""The site and the simulated web of ``benchmarks/realpages.py``.

:func:`build_site` copies the extraction benchmark's real pages into a static site (their
``<a>`` links made inert, every other byte kept) and lists what a browser would load for each
page. :func:`assign_hosts` gives each third-party host name of those requisites a fate, by a
hash of the name so that every run and every machine agrees: most answer on 127.0.0.2-8, some
accept connections and never answer (127.0.0.9), some do not resolve. :class:`SimWeb` runs the
answering and the silent servers in one asyncio loop on a thread of the benchmark's process.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import gzip
import hashlib
import ipaddress
import logging
import math
import random
import re
import shutil
import socket
import ssl
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
from w3lib.url import safe_url_string

logger = logging.getLogger(__name__)

#: Stands for the copied site's own origin while the pages are parsed.
OWN_ORIGIN = "http://own-site.invalid"
ANSWERING = [f"127.0.0.{n}" for n in range(2, 9)]
SILENT = "127.0.0.9"

# --- the site -------------------------------------------------------------------------------

# Comments, scripts and styles are skipped whole (an "<a href" inside them is no link the
# crawler reads); <a> and <area> start tags are matched with their quoted attribute values.
_TOKENS = re.compile(
    rb"<!--.*?-->|<(script|style)\b.*?</\1\s*>"
    rb"|<(?:a|area)(?=[\s/>])(?:[^>\"']|\"[^\"]*\"|'[^']*')*>",
    re.I | re.S,
)
_HREF = re.compile(rb"\"[^\"]*\"|'[^']*'|(?<=[\s\"'/])href(?=\s*=)", re.I)
INERT_HREF = b"data-realpages-href"


def neutralise_links(html: bytes) -> tuple[bytes, int]:
    """``html`` with the ``href`` attribute of each ``<a>`` and ``<area>`` renamed, so that
    the crawler follows none of the page's own links; every other byte is unchanged (so are
    the URLs of stylesheets, images, scripts and fonts). Returns the page and the count."""
    count = 0

    def attr(match: re.Match[bytes]) -> bytes:
        nonlocal count
        if match.group(0)[:1] in (b'"', b"'"):
            return match.group(0)
        count += 1
        return INERT_HREF

    def token(match: re.Match[bytes]) -> bytes:
        text = match.group(0)
        if match.group(1) is not None or text.startswith(b"<!--"):
            return text
        return _HREF.sub(attr, text)

    return _TOKENS.sub(token, html), count


_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+?)\1\s*\)|@import\s+(['"])([^'"]+)\3""", re.I)
_LINK_KINDS = {"stylesheet": "style", "icon": "image", "apple-touch-icon": "image",
               "mask-icon": "image", "manifest": "other", "preload": None,
               "modulepreload": "script"}  # fmt: skip
_PRELOAD_AS = {"style": "style", "script": "script", "font": "font", "image": "image",
               "fetch": "other", "document": "document"}  # fmt: skip
_ELEMENT_KINDS = (
    ("//script[@src]", "src", "script"),
    ("//img[@src]", "src", "image"),
    ("//input[@type='image'][@src]", "src", "image"),
    ("//source[@src]", "src", "media"),
    ("//video[@src]", "src", "media"),
    ("//video[@poster]", "poster", "image"),
    ("//audio[@src]", "src", "media"),
    ("//track[@src]", "src", "other"),
    ("//iframe[@src]", "src", "document"),
    ("//embed[@src]", "src", "other"),
    ("//object[@data]", "data", "other"),
)


def page_requisites(html: bytes, page_url: str) -> list[tuple[str, str]]:
    """Roughly what a browser loads for the page, each URL with its kind (style, script,
    image, font, media, document, other): stylesheets, icons and preloads, scripts, images
    (every ``srcset`` candidate), media, frames, and the ``url()`` of inline styles. Written
    apart from the crawler's own list on purpose: the simulated hosts must cover whatever a
    crawler might ask for, not what this one asks for today."""
    try:
        tree = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    href = tree.xpath("string(//base/@href)").strip()
    base = urljoin(page_url, href) if href else page_url
    found: dict[str, str] = {}
    for ref, kind in _references(tree):
        ref = (ref or "").strip()
        if not ref or ref.lower().startswith(("data:", "javascript:", "#", "about:", "blob:")):
            continue
        url = safe_url_string(urljoin(base, ref)).split("#", 1)[0]
        if url.startswith(("http://", "https://")) and urlsplit(url).hostname:
            found.setdefault(url, kind)
    return list(found.items())


def _references(tree: lxml.html.HtmlElement) -> list[tuple[str, str]]:
    """The page's requisite references as written, each with its kind."""
    refs: list[tuple[str, str]] = []
    for link in tree.xpath("//link[@href]"):
        for rel in (link.get("rel") or "").lower().split():
            if rel in _LINK_KINDS:
                kind = _LINK_KINDS[rel] or _PRELOAD_AS.get((link.get("as") or "").lower())
                refs.append((link.get("href"), kind or "other"))
                break
    for xpath, name, kind in _ELEMENT_KINDS:
        refs += [(element.get(name), kind) for element in tree.xpath(xpath)]
    for srcset in tree.xpath("//img/@srcset | //source/@srcset"):
        refs += [(c.split()[0], "image") for c in srcset.split(",") if c.strip()]
    inline = "\n".join(tree.xpath("//style/text() | //*/@style"))
    for match in _CSS_URL.finditer(inline):
        refs.append((match.group(2) or match.group(4) or "", "image"))
    return refs


@dataclass
class Site:
    """The copied site: page ids, and the requisites of its pages."""

    root: Path
    ids: list[str]
    page_bytes: int
    links_neutralised: int
    #: Third-party requisite URL -> kind (first kind seen).
    requisites: dict[str, str]
    #: Requisite URLs, counted once per page, that resolve to the site's own origin.
    own_refs: int
    third_party_refs: int


def build_site(source: Path, root: Path, limit: int | None = None) -> Site:
    """Copy each page of ``source`` (``<id>.html.gz`` or ``<id>.html``; the first ``limit``
    only, if given) to ``root/p/<id>/index.html`` with its links made inert, and write
    ``root/index.html`` linking once to each page."""
    shutil.rmtree(root, ignore_errors=True)
    files = (sorted(source.glob("*.html.gz")) or sorted(source.glob("*.html")))[:limit]
    if not files:
        raise SystemExit(f"no pages in {source}")
    ids, total, inert, own, third = [], 0, 0, 0, 0
    requisites: dict[str, str] = {}
    for path in files:
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        page_id = path.name.split(".", 1)[0]
        html, count = neutralise_links(raw)
        target = root / "p" / page_id / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(html)
        ids.append(page_id)
        total += len(html)
        inert += count
        for url, kind in page_requisites(raw, f"{OWN_ORIGIN}/p/{page_id}/"):
            if url.startswith(OWN_ORIGIN + "/"):
                own += 1
            else:
                third += 1
                requisites.setdefault(url, kind)
    items = "\n".join(f'<li><a href="/p/{i}/">{i}</a></li>' for i in ids)
    (root / "index.html").write_text(
        '<!doctype html>\n<html><head><meta charset="utf-8"><title>Real pages</title></head>'
        f"\n<body><h1>Real pages</h1><ul>\n{items}\n</ul></body></html>\n",
        encoding="utf-8",
    )
    return Site(root, ids, total, inert, requisites, own, third)


# --- the hosts' fates -----------------------------------------------------------------------


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def assign_hosts(names: set[str]) -> tuple[dict[str, str], set[str], set[str]]:
    """Each host name's fate, by a hash of the name: about 10% do not resolve, about 5% go to
    the silent server (``SILENT``), the rest to one of the answering addresses. Returns the
    DNS map (name -> address) and the silent and unresolvable names. Names written as IP
    addresses keep their address (the resolver returns literals as they are)."""
    table: dict[str, str] = {}
    silent, unresolved = set(), set()
    for name in sorted(names):
        try:
            ipaddress.ip_address(name.strip("[]"))
            continue
        except ValueError:
            pass
        h = _hash(name) % 1000
        if h < 100:
            unresolved.add(name)
        elif h < 150:
            silent.add(name)
            table[name] = SILENT
        else:
            table[name] = ANSWERING[h % len(ANSWERING)]
    return table, silent, unresolved


def rewrite_ports(html: bytes, names: set[str], http_port: int, https_port: int) -> bytes:
    """Only when port 80 or 443 cannot be bound: each requisite host's URLs rewritten to the
    simulated servers' ports (``//host`` of a page served over http goes to the http one)."""
    if not names:
        return html
    alternation = b"|".join(re.escape(n.encode("ascii", "ignore")) for n in sorted(names))
    pattern = re.compile(
        rb"(?<![\w.-])(https?:)?//(" + alternation + rb")(?=[/\"'\s?#),\\]|$)", re.I
    )

    def repl(match: re.Match[bytes]) -> bytes:
        scheme = match.group(1) or b""
        port = https_port if scheme.lower() == b"https:" else http_port
        return scheme + b"//" + match.group(2) + b":" + str(port).encode()

    return pattern.sub(repl, html)


# --- the servers ----------------------------------------------------------------------------

_TYPES = {
    ".css": "text/css", ".js": "application/javascript", ".mjs": "application/javascript",
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
    ".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml",
    ".ico": "image/x-icon", ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf",
    ".otf": "font/otf", ".eot": "application/vnd.ms-fontobject", ".json": "application/json",
    ".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".html": "text/html",
    ".htm": "text/html", ".xml": "application/xml", ".txt": "text/plain",
}  # fmt: skip
_KIND_TYPES = {"style": "text/css", "script": "application/javascript", "image": "image/jpeg",
               "font": "font/woff2", "media": "video/mp4", "document": "text/html",
               "other": "application/octet-stream"}  # fmt: skip
#: Body sizes in KB, drawn log-uniformly between the two bounds (roughly the web's spread).
_SIZES = {"text/css": (2, 80), "application/javascript": (1, 150), "image/jpeg": (5, 150),
          "image/webp": (3, 100), "image/avif": (3, 80), "image/png": (1, 80),
          "image/gif": (0.05, 30), "image/svg+xml": (0.5, 15), "image/x-icon": (1, 15),
          "font/woff2": (10, 80), "font/woff": (15, 100), "font/ttf": (20, 150),
          "font/otf": (20, 150), "application/vnd.ms-fontobject": (20, 120),
          "application/json": (0.2, 10), "video/mp4": (50, 300), "video/webm": (50, 300),
          "audio/mpeg": (50, 300), "text/html": (1, 30)}  # fmt: skip
_MAGIC = {"image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
          "image/png": b"\x89PNG\r\n\x1a\n", "image/gif": b"GIF89a",
          "image/webp": b"RIFF\x00\x00\x00\x00WEBPVP8 ", "font/woff2": b"wOF2",
          "font/woff": b"wOFF", "image/x-icon": b"\x00\x00\x01\x00"}  # fmt: skip
_WORDS = ("margin", "padding", "display", "flex", "none", "block", "color", "width", "height",
          "var", "const", "function", "return", "this", "window", "document", "if", "else",
          "true", "false", "null", "length", "push", "value", "item", "data", "node")  # fmt: skip
_TEXT_TYPES = ("application/javascript", "application/json", "image/svg+xml", "application/xml")
ROBOTS = b"User-agent: *\nAllow: /\n"


def content_type(path: str, kind: str | None) -> str:
    suffix = Path(path).suffix.lower()
    return _TYPES.get(suffix) or _KIND_TYPES.get(kind or "", "image/png")


def body_for(url: str, ctype: str) -> bytes:
    """The same plausible body for the same URL, every time: compressible text for text
    types (CSS, scripts, SVG, HTML, JSON; a stylesheet refers to a font and an image on its own
    host, as real ones do), incompressible bytes behind the format's magic number for images,
    fonts and media."""
    rng = random.Random(_hash("body " + url))
    low, high = _SIZES.get(ctype, (0.1, 5))
    size = max(16, int(1024 * low * math.exp(rng.random() * math.log(high / low))))
    text = ctype.startswith("text/") or ctype in _TEXT_TYPES
    if not text:
        magic = _MAGIC.get(ctype, b"")
        return magic + rng.randbytes(max(0, size - len(magic)))
    parts: list[str] = []
    if ctype == "text/css":
        tag = f"{_hash(url) % 10**8:08d}"
        parts.append(f"@font-face{{font-family:f{tag};src:url(/sim/f{tag}.woff2)}}\n")
        parts.append(f".hero-{tag}{{background:url(/sim/i{tag}.png)}}\n")
    elif ctype == "image/svg+xml":
        parts.append('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">')
    elif ctype == "text/html":
        parts.append("<!doctype html><html><body>")
    used = sum(map(len, parts))
    while used < size:
        chunk = " ".join(rng.choices(_WORDS, k=12)) + f" {rng.randrange(10**6)};\n"
        parts.append(chunk)
        used += len(chunk)
    return "".join(parts).encode("ascii")[:size]  # a stylesheet's url()s come first


def delay_for(url: str) -> float:
    """50-500 ms, the same for the same URL."""
    return (50 + _hash("delay " + url) % 451) / 1000


def tls_context(directory: Path, names: set[str]) -> ssl.SSLContext:
    """A TLS server context that answers each simulated host name (by SNI) with a throwaway
    self-signed certificate naming it. Scrapy does not verify the chain by default; with the
    name in the certificate it does not warn about every connection either."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    directory.mkdir(parents=True, exist_ok=True)
    key_path = directory / "sim-key.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    def context_for(host: str | None) -> ssl.SSLContext:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host or "realpages-sim")])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
        )
        if host:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False
            )
        cert_path = directory / f"sim-cert-{host or 'default'}.pem"
        cert_path.write_bytes(
            builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        return context

    default = context_for(None)
    contexts = {}
    for host in sorted(names):
        try:
            contexts[host] = context_for(host)
        except ValueError:  # a name cryptography will not put in a certificate
            contexts[host] = default

    def pick(sock: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        chosen = contexts.get((server_name or "").lower())
        if chosen is not None:
            sock.context = chosen

    default.sni_callback = pick
    return default


def bind_sockets(rewrite: bool) -> tuple[dict[tuple[str, int], socket.socket], int, int]:
    """Listening sockets on every simulated address: on ports 80 and 443 (the pages' URLs
    keep their own ports; raises OSError if they cannot be bound), or with ``rewrite`` on one
    free pair of ports shared by all addresses. Returns the sockets and the two ports."""
    for _ in range(20):
        http_port, https_port = _free_pair() if rewrite else (80, 443)
        bound: dict[tuple[str, int], socket.socket] = {}
        try:
            for address in [*ANSWERING, SILENT]:
                for port in (http_port, https_port):
                    sock = socket.socket()
                    bound[(address, port)] = sock
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.bind((address, port))
                    sock.listen(128)
                    sock.setblocking(False)
            return bound, http_port, https_port
        except OSError:
            for sock in bound.values():
                sock.close()
            if not rewrite:
                raise
    raise OSError("no pair of ports free on every simulated address")


def _free_pair() -> tuple[int, int]:
    """Two ports free on the first answering address (the others are tried by the caller)."""
    with socket.socket() as first, socket.socket() as second:
        first.bind((ANSWERING[0], 0))
        second.bind((ANSWERING[0], 0))
        return first.getsockname()[1], second.getsockname()[1]


@dataclass
class Served:
    digest: str  # sha256 hex of the body sent
    length: int
    content_type: str


@dataclass
class SimWeb:
    """The simulated third-party hosts: answering servers on ``ANSWERING`` (http and https),
    a silent one on ``SILENT`` that accepts connections and reads, never writing a byte."""

    sockets: dict[tuple[str, int], socket.socket]
    http_port: int
    https_port: int
    kinds: dict[str, str]  # "host/path?query" -> kind, for URLs without a telling suffix
    tls: ssl.SSLContext
    served: dict[str, Served] = field(default_factory=dict)
    asked: Counter[str] = field(default_factory=Counter)  # requisite URL -> requests
    robots: int = 0
    silent_connections: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _servers: list[asyncio.base_events.Server] = field(default_factory=list)

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sim-web", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result()

    async def _start(self) -> None:
        for (address, port), sock in self.sockets.items():
            if address == SILENT:
                server = await asyncio.start_server(self._silent, sock=sock)
            else:
                scheme = "https" if port == self.https_port else "http"
                tls = self.tls if scheme == "https" else None
                answer = functools.partial(self._answer, scheme=scheme)
                server = await asyncio.start_server(answer, sock=sock, ssl=tls)
            self._servers.append(server)

    def stop(self) -> None:
        if self._loop is None:
            return

        async def close() -> None:
            for server in self._servers:
                server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join()
        self._loop.close()
        self._loop = None

    def reset(self) -> None:
        """Forget what was asked (between crawls); digests stay (bodies are deterministic)."""
        with self._lock:
            self.asked.clear()
            self.robots = 0
            self.silent_connections = 0

    def snapshot(self) -> tuple[Counter[str], dict[str, Served], int, int]:
        with self._lock:
            return Counter(self.asked), dict(self.served), self.robots, self.silent_connections

    async def _silent(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.silent_connections += 1
        try:
            while await reader.read(65536):
                pass
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _answer(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, scheme: str
    ) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = [*lines[0].split(" ", 2), "", ""][:3]
                headers = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length:
                    await reader.readexactly(length)
                host = headers.get("host") or writer.get_extra_info("sockname")[0]
                url = f"{scheme}://{host.lower()}{target}"
                status, ctype, body = self._respond(url, host, target)
                await asyncio.sleep(delay_for(url))
                close = (headers.get("connection", "").lower() == "close"
                         or version.strip() != "HTTP/1.1")  # fmt: skip
                reply = (
                    f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(body)}\r\nCache-Control: max-age=86400\r\n"
                    f"{'Connection: close' + chr(13) + chr(10) if close else ''}\r\n"
                ).encode("latin-1")
                writer.write(reply if method == "HEAD" else reply + body)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
                ssl.SSLError, asyncio.CancelledError):  # fmt: skip
            pass
        finally:
            writer.close()

    def _respond(self, url: str, host: str, target: str) -> tuple[str, str, bytes]:
        path = urlsplit(target).path or "/"
        if path == "/robots.txt":
            with self._lock:
                self.robots += 1
            return "200 OK", "text/plain", ROBOTS
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        ctype = content_type(path, self.kinds.get(hostname.lower() + target))
        body = body_for(url, ctype)
        with self._lock:
            self.asked[url] += 1
            if url not in self.served:
                digest = hashlib.sha256(body).hexdigest()
                self.served[url] = Served(digest, len(body), ctype)
        return "200 OK", ctype, body


def kind_key(url: str) -> str:
    """``host/path?query`` of a requisite URL, the key of :attr:`SimWeb.kinds`."""
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{(parts.hostname or '').lower()}{parts.path or '/'}{query}"
