"""URLs as the crawl and ``reprocess`` compare them: scheme, host and port; a link without
credentials, fragment, tracking or session parameters. Plain functions, no Scrapy."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an http(s) URL, else None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def absolute_url(base: str, href: str) -> str:
    """``href`` made absolute against ``base`` and safe (percent-encoded); "" when no URL can
    be made of it (a port that is not a number, a bad IPv6 host: ``http://Fiction Books:A/``)."""
    try:
        return safe_url_string(urljoin(base, href))
    except ValueError:
        return ""


def same_site(url: str, other: str) -> bool:
    """Are ``url`` and ``other`` on one host (``http`` and ``https`` on their default ports
    count as one, as in the crawl's scope)?"""
    a, b = origin(url), origin(other)
    if a is None or b is None or a[1] != b[1]:
        return False
    return a[2] == b[2] or {a[2], b[2]} <= set(DEFAULT_PORTS.values())


def host_key(url: str) -> tuple[str, int] | None:
    """``(host, port)``: what makes two URLs the same site for scoping."""
    o = origin(url)
    if o is None:
        return None
    _, host, port = o
    return host, port


#: Query parameters that only track, share or hold a session: the page is the same without
#: them, and following them multiplies one page into many (``?replytocom=N``, ``?share=x``).
JUNK_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga",
     "share", "replytocom", "ref_src", "jsessionid", "phpsessid", "sid", "sessionid",
     "session_id", "cfid", "cftoken", "aspsessionid", "zenid", "osCsid".lower()}
)  # fmt: skip
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sessionid)=[^/?#]*", re.IGNORECASE)


def strip_userinfo(url: str) -> str:
    """``url`` without ``user:password@``: credentials in a link are never sent, stored or
    logged (the page is fetched as anyone would see it)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def clean_link(url: str) -> str:
    """``url`` without credentials, a fragment, tracking or session parameters (``utm_*``,
    ``fbclid``, ``replytocom``, ``;jsessionid=``...); the other parameters keep their order
    and bytes."""
    url = _PATH_SESSION.sub("", strip_userinfo(url).split("#", 1)[0])
    base, sep, query = url.partition("?")
    if not sep:
        return url
    kept = [
        kv for kv in query.split("&")
        if kv and not (
            (key := kv.split("=", 1)[0].lower()) in JUNK_PARAMS or key.startswith("utm_")
        )
    ]  # fmt: skip
    return base + ("?" + "&".join(kept) if kept else "")
