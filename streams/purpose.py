"""The stated purpose (``doel``) of an API read: checked, then masked before it is stored on
the audit topic.

A purpose is free text typed by a person, so it is where personal data slips in. Rules, in
order (:func:`check_purpose`):

1. present: not empty after trimming;
2. at most :data:`MAX_PURPOSE_CHARS` characters;
3. only visible text: no control, format (zero-width, bidi), private-use, unassigned or
   line/paragraph-separator characters; runs of whitespace become one space;
4. real words: at least one word of :data:`MIN_WORD_LETTERS` letters (``.``, ``---`` or
   ``x`` are not a purpose, nor are ``¹²³`` or ``①②③``: numbers, not letters).

Then :func:`mask_purpose` masks what identifies a person and can be recognised:

- every e-mail address and IBAN, as :func:`schemas.personal.personal_data_in` finds them in an
  identifier: they become :data:`EMAIL_MASK` and :data:`IBAN_MASK` (first, so that an IBAN's
  digits are not taken for a BSN or a date);
- every 9-digit number that could be a BSN (:func:`schemas.pseudonym.could_be_bsn`: passes
  the elfproef, not all zeros), also in non-ASCII digits — of any script, and those that are
  no decimal digits but show one (superscript ``¹²³``, subscript, circled ``①②③``: read as
  the digit they show, the text otherwise kept as typed) — and also written in groups: digits
  are collected across separators of one to three characters that are neither letters nor
  digits (``1234.56.782``, ``123 456 782``, ``123/456/782``, ``123 - 456 - 782``,
  ``123–456–782``, ``123_456_782``, ``123,456,782``); its digits become ``*``;
- every full calendar date: it becomes ``[datum]``. A birth date cannot be told apart from
  other dates, and the audit record has its own time. Recognised:

  - day, month and year in digits joined by ``-``, ``/`` or ``.`` (``12-03-1985``,
    ``12/3/85``, ``12-03-'85``) and year, month and day so (``1985-03-12``);
  - year, month and day, or day, month and year, joined by single spaces (``1985 03 12``,
    ``12 03 1985``: a year 1900–2099, a two-digit month and day);
  - a Dutch or English month name or abbreviation with the day before or after it and a
    year, joined by nothing, spaces, ``-``, ``/`` or ``.`` (a comma too before the year):
    ``12 maart 1985``, ``12-mrt-1985``, ``12 mrt. '85``, ``12 march 1985``,
    ``March 12, 1985``;
  - eight digits in a row that are a valid date ``YYYYMMDD`` from 1900 to 2100
    (``19850312``; ``12345678`` and ``20261301`` are left as typed).

  A year is four digits, or two after an apostrophe (``'85``, ``’85``).

Names and telephone numbers cannot be recognised reliably and are not masked
(docs/operations.md says so; a Dutch telephone number is ten digits starting with ``0``, as
many a file or case number is).
Errors name the field ``doel`` and the rule broken, never the text.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from schemas.exceptions import PermanentError
from schemas.personal import mask_personal_data
from schemas.pseudonym import could_be_bsn, digits_shown
from streams.exceptions import StreamsError

MAX_PURPOSE_CHARS = 200
MIN_WORD_LETTERS = 3
DATE_MASK = "[datum]"
EMAIL_MASK = "[e-mailadres]"
IBAN_MASK = "[iban]"

_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
"""Unicode categories a purpose may not contain: control, format (zero-width, bidi),
private use, surrogates, unassigned, line and paragraph separators."""
_SPACES = re.compile(r"\s+")
_DIGIT_GROUPS = re.compile(r"\d+(?:[\W_]{1,3}\d+)*")
"""Runs of digits joined by separators of one to three characters that are neither letters
nor digits (``_`` counts as a separator, though ``\\w`` holds it)."""
_GROUP_SEPARATOR = re.compile(r"(\D+)")
_MONTHS = (
    "januari|january|februari|february|maart|march|april|mei|may|juni|june|juli|july"
    "|augustus|august|september|oktober|october|november|december"
    "|jan|feb|mrt|mar|apr|jun|jul|aug|sept|sep|okt|oct|nov|dec"
)
"""Dutch and English month names and their abbreviations (any case)."""
_YEAR = r"(?:\d{4}|['‘’]\d{2})"
"""A year: four digits, or two after an apostrophe (``'85``, ``’85``)."""
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
"""A day of the month in digits, with an English ordinal suffix or none (``12``, ``12th``)."""
_BY_MONTH = r"\s*[-/.]?\s*"
"""Between a month name and the day or year: nothing, spaces, or one of ``-``, ``/``, ``.``
with or without spaces (``12 mrt 1985``, ``12-mrt-1985``, ``12/mrt/1985``)."""
_BEFORE_YEAR = r"\s*[-/.,]?\s*"
"""Between a month name or the day after it and the year: as :data:`_BY_MONTH`, or a comma
(``March 12, 1985``)."""
_DATES = re.compile(
    r"(?<!\d)(?:"
    r"\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|['‘’]?\d{2})"  # 12-03-1985, 12/3/85, 12-03-'85
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"  # 1985-03-12
    r"|(?:19|20)\d{2}\s(?:0[1-9]|1[0-2])\s(?:0[1-9]|[12]\d|3[01])"  # 1985 03 12
    r"|(?:0[1-9]|[12]\d|3[01])\s(?:0[1-9]|1[0-2])\s(?:19|20)\d{2}"  # 12 03 1985
    rf"|{_DAY}{_BY_MONTH}(?:{_MONTHS})\.?{_BEFORE_YEAR}{_YEAR}"  # 12 maart 1985, 12-mrt-'85
    rf"|(?<![^\W\d_])(?:{_MONTHS})\.?{_BY_MONTH}{_DAY}{_BEFORE_YEAR}{_YEAR}"  # March 12, 1985
    r"|(?P<compact>\d{8})"  # 19850312: only a valid date (_date)
    r")(?!\d)",
    re.IGNORECASE,
)
"""A full calendar date. The eight digits in a row of ``compact`` are masked only when they are
a valid date ``YYYYMMDD`` from :data:`_COMPACT_YEARS` (:func:`_date`): other 8-digit numbers
are left as typed."""
_COMPACT_YEARS = range(1900, 2101)


def _date(match: re.Match[str]) -> str:
    compact = match.group("compact")
    if compact is None:
        return DATE_MASK
    year, month, day = int(compact[:4]), int(compact[4:6]), int(compact[6:])
    if year not in _COMPACT_YEARS:
        return compact
    try:
        date(year, month, day)
    except ValueError:
        return compact
    return DATE_MASK


def _has_word(text: str) -> bool:
    """Whether ``text`` holds :data:`MIN_WORD_LETTERS` letters in a row (:meth:`str.isalpha`:
    ``[^\\W\\d_]`` would also take ``¹²³`` or ``①②③``, which are numbers, for a word)."""
    run = 0
    for c in text:
        run = run + 1 if c.isalpha() else 0
        if run >= MIN_WORD_LETTERS:
            return True
    return False


class InvalidPurpose(StreamsError, PermanentError):
    """The purpose breaks a rule; the message names ``doel`` and the rule, not the text."""


def check_purpose(raw: str) -> str:
    """The purpose, trimmed and with single spaces, if it keeps the rules of the module
    docstring; else :class:`InvalidPurpose`. Does not mask (see :func:`clean_purpose`)."""
    text = unicodedata.normalize("NFC", raw).strip()
    if not text:
        raise InvalidPurpose(
            "doel: ontbreekt; geef het doel van de inzage op in de header X-Doel of de "
            "parameter doel"
        )
    if len(text) > MAX_PURPOSE_CHARS:
        raise InvalidPurpose(f"doel: langer dan {MAX_PURPOSE_CHARS} tekens")
    if any(unicodedata.category(c) in _INVISIBLE for c in text):
        raise InvalidPurpose("doel: bevat onzichtbare tekens of stuurtekens")
    if not _has_word(text):
        raise InvalidPurpose(
            f"doel: moet uit woorden bestaan (minstens één woord van {MIN_WORD_LETTERS} letters)"
        )
    return _SPACES.sub(" ", text)


def _mask_bsns(match: re.Match[str]) -> str:
    parts = _GROUP_SEPARATOR.split(match.group(0))
    groups, separators = parts[0::2], parts[1::2]
    masked = list(groups)
    for first in range(len(groups)):
        digits = ""
        for last in range(first, len(groups)):
            digits += groups[last]
            if len(digits) >= 9:
                break
        if len(digits) == 9 and could_be_bsn(digits):
            for index in range(first, last + 1):
                masked[index] = "*" * len(groups[index])
    out = masked[0]
    for separator, group in zip(separators, masked[1:], strict=True):
        out += separator + group
    return out


def mask_bsn_numbers(text: str) -> str:
    """``text`` with every number that could be a BSN masked as :func:`mask_purpose` masks it
    (its digits become ``*``, its separators stay), and nothing else: a number that cannot be
    one (it fails the elfproef) is left as written. A digit that is no decimal digit
    (superscript, subscript, circled: :func:`schemas.pseudonym.digits_shown`, as
    :func:`schemas.pseudonym.mask_bsn` reads it) counts as the digit it shows, but is left as
    typed where it is no part of such a number (``m²``, ``③``): the text is not normalised
    (NFKC would also turn ``½`` into ``1⁄2``, ``ﬁ`` into ``fi``, ``…`` into ``...``). Masking
    again changes nothing: what it returns holds no such number."""
    masked = _DIGIT_GROUPS.sub(_mask_bsns, text)
    if masked.isascii():
        return masked
    shown = digits_shown(masked)
    if shown is masked:
        return masked
    seen = _DIGIT_GROUPS.sub(_mask_bsns, shown)  # the same length: digits become "*"
    return "".join(
        "*" if now == "*" and before != "*" else original
        for original, before, now in zip(masked, shown, seen, strict=True)
    )


def mask_purpose(text: str) -> str:
    """``text`` with e-mail addresses, IBANs, full dates and elfproef-valid 9-digit numbers
    masked (module docstring)."""
    text = mask_personal_data(text, email=EMAIL_MASK, iban=IBAN_MASK)
    return mask_bsn_numbers(_DATES.sub(_date, text))


def clean_purpose(raw: str) -> str:
    """Check (:func:`check_purpose`), then mask (:func:`mask_purpose`): what is stored."""
    return mask_purpose(check_purpose(raw))
