"""Personal data other than the BSN in identifiers: e-mail addresses and bank account numbers.

Identifiers travel in clear to Kafka and API answers (``casus_id``, ``signaal_id``, an event's
``id``, a ``bronsleutel``, …). The BSN is looked for by :func:`schemas.pseudonym.holds_bsn`;
a source that keys its records by something else about the citizen would publish that
instead: an e-mail address (an account, a web form's sender) or an IBAN (a debt or payment
record). ``events.md`` asks that a source key never carries personal data in clear, and
``sources.md`` that nothing but the catalogue fields leaves an adapter. :func:`personal_data_in`
finds these two kinds, precisely:

- an **e-mail address**: ``local@domain.tld`` — a local part of letters, digits and
  ``. _ % + -``, a domain of labels of letters, digits and ``-`` and a top-level domain of at
  least two letters (any script). ``user@host`` without a top-level domain is not one;
- an **IBAN** of one of the countries in :data:`BBAN` (the Netherlands, its neighbours and the
  other SEPA countries Dutch citizens most often bank in): the country code, two check digits
  and the country's account number of its exact length and shape (ISO 13616), letters in
  either case, optionally printed in groups of four separated by single spaces, not part of a
  longer run of letters and digits — and its check digits must be right (ISO 7064 mod 97-10),
  so an identifier that merely looks like one (one in 97 of that shape) is not taken.

Not looked for, on purpose: telephone numbers (a Dutch number is ten digits starting with
``0``: a zero-padded counter has that shape, and every such identifier would be refused), names
and addresses (free text, no shape to recognise). Identifiers must not hold them either; no
check can tell.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

EMAIL: Final = "e-mail address"
IBAN: Final = "IBAN"

_EMAIL_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
"""What follows the ``@`` of an e-mail address (module docstring): labels of letters, digits
and ``-``, a top-level domain of at least two letters; ``\\w`` takes any script's."""
_EMAIL_LOCAL = re.compile(r"[\w.%+-]")
"""A character of an e-mail address's local part."""


def _emails(text: str) -> Iterator[tuple[int, int]]:
    """The (start, end) of each e-mail address in ``text``, left to right: an ``@`` right after
    a character of a local part and followed by a domain; the local part as far left as its
    characters go, the domain as far as it matches. Looked for from each ``@``, so linear in
    ``text``: one regular expression with the local part first tries every start in a long run
    of such characters and reads the rest of the run from each (quadratic: 20,000 characters
    and an ``@`` took 0.7 s, a dead letter's 900,000 most of an hour)."""
    at = text.find("@", 1)
    while at != -1:
        domain = _EMAIL_DOMAIN.match(text, at + 1) if _EMAIL_LOCAL.match(text, at - 1) else None
        if domain is None:
            at = text.find("@", at + 1)
            continue
        start = at - 1
        while start > 0 and _EMAIL_LOCAL.match(text, start - 1):
            start -= 1
        yield start, domain.end()
        at = text.find("@", domain.end())


BBAN: Final[dict[str, tuple[int, str]]] = {
    "NL": (18, r"[A-Z]{4}[0-9]{10}"),
    "BE": (16, r"[0-9]{12}"),
    "DE": (22, r"[0-9]{18}"),
    "LU": (20, r"[0-9]{3}[A-Z0-9]{13}"),
    "FR": (27, r"[0-9]{10}[A-Z0-9]{11}[0-9]{2}"),
    "GB": (22, r"[A-Z]{4}[0-9]{14}"),
    "IE": (22, r"[A-Z]{4}[0-9]{14}"),
    "AT": (20, r"[0-9]{16}"),
    "CH": (21, r"[0-9]{5}[A-Z0-9]{12}"),
    "ES": (24, r"[0-9]{20}"),
    "IT": (27, r"[A-Z][0-9]{10}[A-Z0-9]{12}"),
    "PT": (25, r"[0-9]{21}"),
    "PL": (28, r"[0-9]{24}"),
    "DK": (18, r"[0-9]{14}"),
    "SE": (24, r"[0-9]{20}"),
    "NO": (15, r"[0-9]{11}"),
    "FI": (18, r"[0-9]{14}"),
}
"""Per country whose IBANs :func:`personal_data_in` recognises: the IBAN's length and the shape
of its account number (BBAN) after the country code and check digits (ISO 13616 registry;
upper case here, matched in either case)."""

_IBAN_SHAPES = {
    country: (length, re.compile(country + r"[0-9]{2}" + bban))
    for country, (length, bban) in BBAN.items()
}
"""Per country: the IBAN's length and its shape (upper case, no spaces)."""
_IBAN_LENGTHS = frozenset(length for length, _shape in _IBAN_SHAPES.values())
_IBAN_START = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]{2}[0-9]{2}")
"""Where an IBAN may start: a country code and check digits, not within a longer run of
letters and digits."""
_MIN_IBAN_CHARS = 15
"""The shortest IBAN (Norway): a text shorter than this holds none."""


def _iban_end(text: str, start: int) -> int:
    """Where the IBAN that starts at ``start`` ends, or ``-1`` if none does. An IBAN of a
    country of :data:`BBAN`: the country's number of letters and digits, in groups of four
    that may be separated by one space, then no letter or digit; its shape; and mod 97 of its
    digits (letters as 10–35, the first four characters moved to the end) equal to 1."""
    found = _IBAN_SHAPES.get(text[start : start + 2].upper())
    if found is None:
        return -1
    length, shape = found
    chars: list[str] = []
    at = start
    while len(chars) < length and at < len(text):
        char = text[at]
        if char == " " and chars and len(chars) % 4 == 0 and at + 1 < len(text):
            char = text[at + 1]  # one space between groups of four
            at += 1
        if not char.isascii() or not char.isalnum():
            return -1
        chars.append(char)
        at += 1
    after = text[at : at + 1]
    if len(chars) < length or (after.isascii() and after.isalnum()):
        return -1
    compact = "".join(chars).upper()
    if shape.fullmatch(compact) is None:
        return -1
    digits = "".join(str(int(char, 36)) for char in compact[4:] + compact[:4])
    return at if int(digits) % 97 == 1 else -1


def personal_data_in(text: str) -> str | None:
    """The kind of personal data ``text`` holds (:data:`EMAIL` or :data:`IBAN`, module
    docstring), or ``None``. Never returns or echoes the data itself."""
    if "@" in text and next(_emails(text), None) is not None:
        return EMAIL
    if len(text) < _MIN_IBAN_CHARS:
        return None
    if text.isascii() and text.isalnum():  # one run of letters and digits (an id, a digest):
        # an IBAN must be all of it, so only a text of an IBAN's length can be one
        return IBAN if len(text) in _IBAN_LENGTHS and _iban_end(text, 0) != -1 else None
    for match in _IBAN_START.finditer(text):
        if _iban_end(text, match.start()) != -1:
            return IBAN
    return None


def mask_personal_data(text: str, *, email: str, iban: str) -> str:
    """``text`` with every e-mail address replaced by ``email`` and every IBAN (as
    :func:`personal_data_in` finds them, wherever they stand) by ``iban``; matches that overlap
    (an e-mail domain runs on into the next address or an IBAN) are masked as one, by the mask
    of the first."""
    spans = list(_emails(text)) if "@" in text else []
    marks = [(start, end, email) for start, end in spans]
    if len(text) >= _MIN_IBAN_CHARS:
        for match in _IBAN_START.finditer(text):
            end = _iban_end(text, match.start())
            if end != -1:
                marks.append((match.start(), end, iban))
    if not marks:
        return text
    out, at = [], 0
    for start, end, mask in sorted(marks, key=lambda m: (m[0], -m[1])):
        if start < at:  # overlaps the one masked before (``a@b.nl+c@d.nl``): masked with it
            at = max(at, end)
            continue
        out += [text[at:start], mask]
        at = end
    out.append(text[at:])
    return "".join(out)
