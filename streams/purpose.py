"""The stated purpose (``doel``) of an API read: checked, then masked before it is stored on
the audit topic.

A purpose is free text typed by a person, so it is where personal data slips in. Rules, in
order (:func:`check_purpose`):

1. present: not empty after trimming;
2. at most :data:`MAX_PURPOSE_CHARS` characters;
3. only visible text: no control, format (zero-width, bidi), private-use, unassigned or
   line/paragraph-separator characters; runs of whitespace become one space;
4. real words: at least one word of :data:`MIN_WORD_LETTERS` letters (``.``, ``---`` or
   ``x`` are not a purpose).

Then :func:`mask_purpose` masks what identifies a person and can be recognised:

- every 9-digit number that could be a BSN (:func:`schemas.pseudonym.could_be_bsn`: passes
  the elfproef, not all zeros), also in non-ASCII digits and also written in groups: digits
  are collected across separators of one to three characters that are neither letters nor
  digits (``1234.56.782``, ``123 456 782``, ``123/456/782``, ``123 - 456 - 782``,
  ``123–456–782``, ``123_456_782``, ``123,456,782``); its digits become ``*``;
- every full calendar date (``12-03-1985``, ``12/3/85``, ``1985-03-12``, ``12 maart 1985``):
  it becomes ``[datum]``. A birth date cannot be told apart from other dates, and the audit
  record has its own time.

Names cannot be recognised reliably and are not masked (docs/operations.md says so).
Errors name the field ``doel`` and the rule broken, never the text.
"""

from __future__ import annotations

import re
import unicodedata

from schemas.exceptions import PermanentError
from schemas.pseudonym import could_be_bsn
from streams.exceptions import StreamsError

MAX_PURPOSE_CHARS = 200
MIN_WORD_LETTERS = 3
DATE_MASK = "[datum]"

_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
"""Unicode categories a purpose may not contain: control, format (zero-width, bidi),
private use, surrogates, unassigned, line and paragraph separators."""
_WORD = re.compile(rf"[^\W\d_]{{{MIN_WORD_LETTERS},}}")
_SPACES = re.compile(r"\s+")
_DIGIT_GROUPS = re.compile(r"\d+(?:[\W_]{1,3}\d+)*")
"""Runs of digits joined by separators of one to three characters that are neither letters
nor digits (``_`` counts as a separator, though ``\\w`` holds it)."""
_GROUP_SEPARATOR = re.compile(r"(\D+)")
_MONTHS = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
    "|jan|feb|mrt|apr|jun|jul|aug|sep|sept|okt|nov|dec"
)
_DATES = re.compile(
    r"(?<!\d)(?:"
    r"\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})"  # 12-03-1985, 12/3/85, 12.03.1985
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"  # 1985-03-12
    rf"|\d{{1,2}}\s*(?:{_MONTHS})\.?\s*\d{{4}}"  # 12 maart 1985, 12 mrt. 1985
    r")(?!\d)",
    re.IGNORECASE,
)


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
    if not _WORD.search(text):
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


def mask_purpose(text: str) -> str:
    """``text`` with full dates and elfproef-valid 9-digit numbers masked (module docstring)."""
    return _DIGIT_GROUPS.sub(_mask_bsns, _DATES.sub(DATE_MASK, text))


def clean_purpose(raw: str) -> str:
    """Check (:func:`check_purpose`), then mask (:func:`mask_purpose`): what is stored."""
    return mask_purpose(check_purpose(raw))
