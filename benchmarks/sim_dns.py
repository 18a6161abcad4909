"""A DNS resolver for crawls against a simulated web: host names answer from a JSON map.

``benchmarks/realpages.py`` serves the requisite hosts of real pages on loopback addresses and
crawls with this resolver (``--set TWISTED_DNS_RESOLVER=benchmarks.sim_dns.SimResolver``, the
repository root on ``PYTHONPATH``), so that the crawler meets the hosts the pages name, with
their original URLs, without a change to the pages or the crawler.

The map is a JSON object ``{"name": "address"}`` in the file named by ``REVIEWARC_SIM_DNS``.
A name not in it fails at once with ``DNSLookupError``, as a real NXDOMAIN answer does; an IP
literal resolves to itself. When ``REVIEWARC_SIM_DNS_LOG`` names a file, each name looked up
and not in the map is appended to it once (the benchmark tells names it left out on purpose
from names its page parser missed).

Scrapy builds the class from ``TWISTED_DNS_RESOLVER`` (``DNS_RESOLVER``, deprecated in 2.19,
works too) in ``Crawler._setup_reactor`` and calls ``install_on_reactor``, which for this
class is ``reactor.installResolver``: that installs it both as the reactor's simple resolver
(``reactor.resolve``, ``getHostByName``: used by connectTCP and by reviewarc's scope check)
and, wrapped in Twisted's ``SimpleResolverComplexifier``, as ``reactor.nameResolver``, which
the ``HostnameEndpoint`` of HTTP downloads asks. Both paths end in :meth:`getHostByName`.
Scrapy's shared ``dnscache`` is bypassed: the map is already in memory.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.error import DNSLookupError

logger = logging.getLogger(__name__)

MAP_ENV = "REVIEWARC_SIM_DNS"
LOG_ENV = "REVIEWARC_SIM_DNS_LOG"


def load_map(path: str | os.PathLike[str]) -> dict[str, str]:
    """The name -> address map, names lower-cased and without a trailing dot."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return {name.lower().rstrip("."): address for name, address in raw.items()}


class SimResolver(CachingThreadedResolver):
    """Answers from the map in ``$REVIEWARC_SIM_DNS``; every other name is NXDOMAIN."""

    def __init__(self, reactor: Any, cache_size: int, timeout: float) -> None:
        super().__init__(reactor, cache_size, timeout)
        path = os.environ.get(MAP_ENV)
        if not path:
            raise RuntimeError(f"SimResolver needs ${MAP_ENV}: a JSON file of name -> address")
        self.table = load_map(path)
        self.log_path = os.environ.get(LOG_ENV) or None
        self.missed: set[str] = set()
        logger.info("Simulated DNS: %d names from %s", len(self.table), path)

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        if isIPAddress(name) or isIPv6Address(name):
            return defer.succeed(name)
        key = name.lower().rstrip(".")
        if key == "localhost":
            return defer.succeed("127.0.0.1")
        address = self.table.get(key)
        if address is not None:
            return defer.succeed(address)
        self._note_miss(key)
        # Twisted's ThreadedResolver words its failures the same way.
        return defer.fail(DNSLookupError(f"address {name!r} not found: simulated NXDOMAIN"))

    def _note_miss(self, name: str) -> None:
        if self.log_path is None or name in self.missed:
            return
        self.missed.add(name)
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(name + "\n")
