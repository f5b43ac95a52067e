"""BSN validation, pseudonyms (``api.md``) and masking of BSNs in free text."""

from __future__ import annotations

import hashlib
import hmac
import re

from schemas.exceptions import InvalidBsn

_NINE_DIGITS = re.compile(r"[0-9]{9}")  # ASCII only: \d and str.isdigit accept ９ and ٩
_BSN_LIKE = re.compile(r"(?<!\d)\d{9}(?!\d)")
MASK = "*********"


def elfproef(digits: str) -> bool:
    """The BSN eleven test: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 is divisible by 11."""
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    total -= int(digits[8])
    return total % 11 == 0


def validate_bsn(value: object, *, field: str = "data.bsn") -> str:
    """Return the BSN as a string of 9 ASCII digits or raise :class:`InvalidBsn` (the value is
    never part of the message). Digits of other scripts (full-width, Arabic-Indic) are not
    BSN digits."""
    if not isinstance(value, str) or not _NINE_DIGITS.fullmatch(value):
        raise InvalidBsn(f"{field}: a BSN must be a string of exactly 9 digits (0-9)", field=field)
    if value == "000000000":
        raise InvalidBsn(f"{field}: the all-zero BSN is not a valid BSN", field=field)
    if not elfproef(value):
        raise InvalidBsn(f"{field}: BSN fails the elfproef (check digit)", field=field)
    return value


def pseudonym(bsn: str, key: str) -> str:
    """``HMAC-SHA256(key, bsn).hexdigest()[:32]`` — the citizen pseudonym of ``api.md``."""
    return hmac.new(key.encode("utf-8"), bsn.encode("ascii"), hashlib.sha256).hexdigest()[:32]


class Pseudonymiser:
    """Validates BSNs and turns them into pseudonyms under one secret key."""

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("the pseudonym key must not be empty")
        self._key = key

    def __repr__(self) -> str:  # never show the key
        return "Pseudonymiser(key=***)"

    def __call__(self, bsn: object, *, field: str = "data.bsn") -> str:
        return pseudonym(validate_bsn(bsn, field=field), self._key)


def mask_bsn(text: str) -> str:
    """Replace every run of exactly nine digits in ``text`` by ``*********``."""
    return _BSN_LIKE.sub(MASK, text)
