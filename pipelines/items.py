"""The item a review reviews, as the page states it, made ready for matching across sites.

:func:`item_facts` reads a schema.org entity (a Movie, MusicAlbum, Book, Product, ...) into
:class:`archive.reviews.ItemFacts`: its name and normalized name, its type and type family,
its year, its creators (director, artist, author, brand) and the identifiers matching
trusts: IMDb, TMDB, MusicBrainz, Wikidata, Wikipedia, Discogs and Open Library ids found in
``sameAs`` (or ``url``, ``@id``, ``identifier``), ISBN-13 (ISBN-10 converted), GTIN (as 14
digits) and brand + MPN. Other ``sameAs`` URLs are kept for the record but match nothing: a
shop's link to a brand's home page is not the product's identity.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from archive.articles import valid_unicode
from archive.names import NAME_YEAR, name_key
from archive.reviews import ItemFacts
from pipelines.structured import first_text, names, type_names

#: Types too general to match on: their names say nothing about what kind of thing it is.
GENERIC_TYPES = frozenset({"Thing", "CreativeWork", "Intangible", "Review"})
#: Types matched as one family.
TYPE_FAMILY = {
    "MusicRelease": "MusicAlbum",
    "IndividualProduct": "Product",
    "ProductModel": "Product",
    "ProductGroup": "Product",
    "SomeProducts": "Product",
    "Audiobook": "Book",
    "Film": "Movie",
}
_CREATOR_KEYS = ("director", "byArtist", "author", "creator", "brand", "manufacturer")
_YEAR_KEYS = ("datePublished", "dateCreated", "releaseDate", "copyrightYear", "startDate",
              "productionDate", "temporalCoverage")  # fmt: skip
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
#: URL patterns of identifiers: scheme -> regex whose group 1 is the value.
_URL_IDS = (
    ("imdb", re.compile(r"imdb\.com/(?:[a-z]{2}/)?title/(tt\d{7,10})", re.I)),
    ("tmdb", re.compile(r"themoviedb\.org/((?:movie|tv)/\d+)", re.I)),
    ("musicbrainz", re.compile(
        r"musicbrainz\.org/((?:release-group|release|recording|artist|work)/"
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", re.I)),
    ("wikidata", re.compile(r"wikidata\.org/(?:wiki|entity)/(Q\d+)", re.I)),
    ("wikipedia", re.compile(r"//([a-z]{2,3}(?:\.m)?\.wikipedia\.org/wiki/[^?#\s]+)", re.I)),
    ("discogs", re.compile(r"discogs\.com/(?:[^/]+/)?((?:master|release)/\d+)", re.I)),
    ("openlibrary", re.compile(r"openlibrary\.org/((?:works|books)/OL\d+[WM])", re.I)),
)  # fmt: skip
_BARE_IDS = (
    ("imdb", re.compile(r"^(tt\d{7,10})$")),
    ("wikidata", re.compile(r"^(Q\d+)$")),
)
_GTIN_KEYS = ("gtin", "gtin8", "gtin12", "gtin13", "gtin14")


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _year(entity: dict, name: str) -> int | None:
    for key in _YEAR_KEYS:
        text = first_text(entity.get(key))
        match = _YEAR.search(text or "")
        if match:
            return int(match.group(1))
    match = NAME_YEAR.search(name)
    return int(match.group(1)) if match else None


def isbn13(value: str) -> str | None:
    """ISBN-13 digits of an ISBN-10 or -13 (hyphens and spaces allowed); None if invalid."""
    digits = re.sub(r"[\s-]", "", value).upper()
    if re.fullmatch(r"\d{9}[\dX]", digits):
        check = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits))
        if check % 11:
            return None
        digits = "978" + digits[:9]
        return digits + str(
            (10 - sum(int(c) * (1 + 2 * (i % 2)) for i, c in enumerate(digits)) % 10) % 10
        )
    if re.fullmatch(r"97[89]\d{10}", digits):
        total = sum(int(c) * (1 + 2 * (i % 2)) for i, c in enumerate(digits))
        return digits if total % 10 == 0 else None
    return None


def gtin14(value: str) -> str | None:
    """A GTIN-8/12/13/14 as 14 digits, if its check digit is right."""
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{8}|\d{12,14}", digits):
        return None
    digits = digits.zfill(14)
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(digits[:13]))
    return digits if (10 - total % 10) % 10 == int(digits[13]) else None


def _url_identifiers(urls: list[str]) -> list[tuple[str, str]]:
    found = []
    for url in urls:
        for scheme, pattern in _URL_IDS:
            match = pattern.search(url)
            if match:
                value = match.group(1)
                if scheme in ("musicbrainz", "tmdb", "discogs"):
                    value = value.lower()
                elif scheme == "wikipedia":  # en.m.wikipedia.org/wiki/Dune_(film) -> en:Dune (film)
                    host, title = value.split("/wiki/", 1)
                    title = unquote(title).replace("_", " ").rstrip("/")
                    value = f"{host.split('.', 1)[0].lower()}:{title[:1].upper()}{title[1:]}"
                found.append((scheme, value))
                break
    return found


def _identifier_values(entity: dict) -> list[tuple[str, str]]:
    """``identifier`` values: strings, URLs or PropertyValue {propertyID, value}."""
    found = []
    for value in _values(entity.get("identifier")):
        prop = None
        if isinstance(value, dict):
            prop = (first_text(value.get("propertyID")) or "").lower()
            value = first_text(value.get("value"))
        text = first_text(value) if value is not None else None
        if not text:
            continue
        if prop and "isbn" in prop and isbn13(text):
            found.append(("isbn", isbn13(text)))
        elif prop and "gtin" in prop and gtin14(text):
            found.append(("gtin", gtin14(text)))
        else:
            found += _url_identifiers([text])
            found += [(s, m.group(1)) for s, p in _BARE_IDS if (m := p.match(text))]
    return found


def _iri(value: Any) -> str | None:
    """A URL value: a string, or a reference ``{"@id": URL}`` (RDFa's ``<link property>``)."""
    if isinstance(value, dict) and isinstance(value.get("@id"), str):
        return value["@id"] if not value["@id"].startswith("_:") else None
    return first_text(value)


def identifiers(entity: dict, brand_keys: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(identifiers, sameAs URLs) of an item entity."""
    same_as = [u for u in map(_iri, _values(entity.get("sameAs"))) if u]
    urls = same_as + [u for u in (first_text(entity.get("url")), entity.get("@id"))
                      if isinstance(u, str)]  # fmt: skip
    found = _url_identifiers(urls) + _identifier_values(entity)
    for value in _values(entity.get("isbn")):
        text = first_text(value)
        if text and (isbn := isbn13(text)):
            found.append(("isbn", isbn))
    for key in _GTIN_KEYS:
        for value in _values(entity.get(key)):
            text = first_text(value)
            if text and (gtin := gtin14(text)):
                found.append(("gtin", gtin))
    mpn = first_text(entity.get("mpn"))
    if mpn and brand_keys:
        found.append(("mpn", f"{brand_keys[0]}/{name_key(mpn)}"))
    return list(dict.fromkeys(found)), list(dict.fromkeys(same_as))


def item_facts(value: Any) -> ItemFacts | None:
    """The :class:`ItemFacts` of an ``itemReviewed`` (an entity, or just a name)."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, dict | str)), None)
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        return None
    name = first_text(value.get("name")) or first_text(value.get("alternateName"))
    if not name:
        return None
    name = valid_unicode(" ".join(name.split()))[:300]
    kinds = [t for t in type_names(value) if t not in GENERIC_TYPES]
    kind = kinds[0] if kinds else None
    creators = list(dict.fromkeys(
        valid_unicode(n)[:200] for key in _CREATOR_KEYS for n in names(value.get(key)) if n
    ))  # fmt: skip
    creator_keys = [k for k in dict.fromkeys(name_key(c) for c in creators) if k]
    brand_keys = [k for k in (name_key(b) for b in names(value.get("brand"))) if k]
    ids, same_as = identifiers(value, brand_keys)
    return ItemFacts(
        name=name,
        type=kind,
        name_key=name_key(name),
        type_key=TYPE_FAMILY.get(kind, kind) if kind else None,
        year=_year(value, name),
        creators=tuple(creators),
        creator_keys=tuple(creator_keys),
        identifiers=tuple(ids),
        same_as=tuple(valid_unicode(u)[:500] for u in same_as),
    )
