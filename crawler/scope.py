"""What the crawl may fetch: the seeds' hosts, over http(s), and no endless URL spaces.

:class:`Scope` answers "is this URL on a seed's host?"; :class:`TrapGuard` keeps a crawl of
any site finite by refusing URLs that look like crawler traps. Both are plain objects, used
by the spider when it follows links and by :mod:`crawler.middlewares.scope` for every
request (redirect targets included).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from pipelines.urls import (  # noqa: F401  (the scope's URL vocabulary, used from here too)
    ALLOWED_SCHEMES,
    DEFAULT_PORTS,
    JUNK_PARAMS,
    clean_link,
    host_key,
    origin,
    strip_userinfo,
)

_DIGITS = re.compile(r"\d+")
#: Refusals of the counters.
QUERY_VARIANTS = "too many query variants of one path"
NUMBERED_PATTERN = "too many URLs of one numbered pattern"


@dataclass
class Scope:
    """The seeds' hosts. ``http://h/`` and ``https://h/`` count as one host. A seed that
    redirects to another host (``example.com`` to ``www.example.com``) brings that host in."""

    hosts: set[tuple[str, int]]
    #: The seeds' own hosts, as given: the only ones exempt from the private-address check
    #: (hosts adopted later, from a seed's redirect, are not).
    seed_hosts: frozenset[tuple[str, int]] = frozenset()

    @classmethod
    def from_seeds(cls, seeds: Iterable[str]) -> Scope:
        scope = cls(set())
        for seed in seeds:
            scope.adopt(seed)
        scope.seed_hosts = frozenset(scope.hosts)
        return scope

    def adopt(self, url: str) -> None:
        o = origin(url)
        if o is None:
            return
        scheme, host, port = o
        self.hosts.add((host, port))
        # The same site on the other scheme's default port (http <-> https upgrades).
        if port == DEFAULT_PORTS[scheme]:
            self.hosts.update({(host, 80), (host, 443)})

    def allows(self, url: str) -> bool:
        key = host_key(url)
        return key is not None and key in self.hosts

    @cached_property  # the seeds' hosts never change; asked for every request
    def private(self) -> bool:
        """Are the seeds on this machine or a private network (a local test site, say)?"""
        return any(private_host(f"http://{host}/") for host, _ in self.seed_hosts)

    def is_seed_host(self, url: str) -> bool:
        return host_key(url) in self.seed_hosts


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal stands for, in every spelling a resolver
    takes: ``127.0.0.1``, ``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``,
    ``[::ffff:127.0.0.1]``. None for a name."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not host or not host[0].isdigit():
        return None  # inet_aton reads only numbers; a name starts with a letter or is all digits
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def forbidden_address(address: IPAddress) -> bool:
    """Is ``address`` off the public internet: loopback, private, link-local (169.254/16,
    fe80::/10), unique-local, shared (100.64/10), 0.0.0.0/8, multicast, reserved; or an IPv6
    address that carries such an IPv4 one (IPv4-mapped, 6to4, NAT64)?"""
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if carried is None and address in _NAT64:
            carried = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if carried is not None:
            return forbidden_address(carried)
    return not address.is_global or address.is_multicast


def private_host(url: str) -> bool:
    """Is the URL's host this machine or a private network, written as such (in any
    spelling of an address)? Names are judged by what they resolve to, at connection time
    (:mod:`crawler.middlewares.scope`)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = literal_address(host)
    return address is not None and forbidden_address(address)


def url_pattern(url: str) -> str:
    """A URL's shape: host, path with every number as ``N``, sorted query keys.

    ``/calendar/2031/07/`` and ``/calendar/1999/12/`` share the shape ``/calendar/N/N/``.
    """
    parts = urlsplit(url)
    keys = sorted({kv.split("=", 1)[0] for kv in parts.query.split("&") if kv})
    return f"{parts.hostname}{_DIGITS.sub('N', parts.path)}?{'&'.join(keys)}"


@dataclass
class TrapGuard:
    """Refuses URLs that would keep a crawl going forever.

    The limits follow Heritrix's decide rules where it has one (too many path segments,
    a segment repeated); the two counters bound generated URL spaces such as calendars
    (``/events/2031/07/`` and on, one month a link) and faceted listings
    (``?genre=a&sort=b&page=N`` in every combination). Each distinct URL is counted once.
    """

    max_url_length: int = 2048
    max_path_segments: int = 20
    max_segment_repeats: int = 2
    max_per_pattern: int = 5000
    max_query_variants: int = 50
    _seen: set[int] = field(default_factory=set)
    _patterns: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _variants: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def refusal(self, url: str) -> str | None:
        """Why ``url`` is refused, or None when it may be fetched. Counts it if allowed."""
        key = hash(url)
        if key in self._seen:
            return None
        refused = self.shape_refusal(url)
        if refused is not None:
            return refused
        path_key, pattern, numbered = self.counted_as(url)
        if path_key and self._variants[path_key] >= self.max_query_variants:
            return QUERY_VARIANTS
        if numbered and self._patterns[pattern] >= self.max_per_pattern:
            return NUMBERED_PATTERN
        self._seen.add(key)
        if path_key:
            self._variants[path_key] += 1
        self._patterns[pattern] += 1
        return None

    def refusals(self, urls: list[str]) -> list[str | None]:
        """:meth:`refusal` of each URL, in order (a shared crawl asks Redis once)."""
        return [self.refusal(url) for url in urls]

    def shape_refusal(self, url: str) -> str | None:
        """What is wrong with the URL itself, whatever else the crawl has seen."""
        if len(url) > self.max_url_length:
            return "url too long"
        segments = [s for s in urlsplit(url).path.split("/") if s]
        if len(segments) > self.max_path_segments:
            return "too many path segments"
        if _most_repeated(segments) > self.max_segment_repeats:
            return "repeated path segment"
        return None

    @staticmethod
    def counted_as(url: str) -> tuple[str, str, bool]:
        """What the counters count ``url`` under: its path (when it has a query string;
        else ''), its shape, and whether the shape has a number in it."""
        parts = urlsplit(url)
        path_key = f"{parts.hostname}:{parts.port}{parts.path}" if parts.query else ""
        numbered = _DIGITS.search(parts.path + parts.query) is not None
        return path_key, url_pattern(url), numbered


def _most_repeated(segments: list[str]) -> int:
    """Largest number of times one path segment occurs (``/a/b/a/b/a/`` gives 3)."""
    counts: dict[str, int] = defaultdict(int)
    for segment in segments:
        counts[segment] += 1
    return max(counts.values(), default=0)
