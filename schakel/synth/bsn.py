"""Synthetic BSNs: nine digits that pass the elfproef, drawn from the block ``9999xxxxx``.

The test persons of the BRP test environments (RvIG's proefomgeving, also used by the Haal
Centraal BRP examples) carry BSNs ``99999xxxx``; this generator stays in the surrounding
``9999`` block, which holds about 9,090 numbers that pass the elfproef. They are generated,
never looked up: no real person's data is used or implied.
"""

from __future__ import annotations

import random

from schakel.synth.exceptions import SynthError
from schemas.exceptions import InvalidBsn
from schemas.pseudonym import validate_bsn

PREFIX = "9999"
WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)


def check_digit(first8: str) -> int | None:
    """The ninth digit that makes ``first8`` + digit pass the elfproef, or ``None`` when no
    digit does (the remainder would have to be 10)."""
    total = sum(int(d) * w for d, w in zip(first8, WEIGHTS, strict=True))
    digit = total % 11
    return None if digit == 10 else digit


def passes_elfproef(bsn: str) -> bool:
    """Whether ``bsn`` is a valid BSN by the contract's own check (:func:`validate_bsn`)."""
    try:
        validate_bsn(bsn)
    except InvalidBsn:
        return False
    return True


def block() -> list[str]:
    """Every valid BSN of the ``9999`` block, ascending."""
    out = []
    for rest in range(10_000):
        first8 = f"{PREFIX}{rest:04d}"
        digit = check_digit(first8)
        if digit is not None:
            out.append(f"{first8}{digit}")
    return out


def draw(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct synthetic BSNs in a random (seeded) order."""
    pool = block()
    if count > len(pool):
        raise SynthError(
            f"at most {len(pool)} citizens can get a synthetic BSN from the {PREFIX} block; "
            f"asked for {count}"
        )
    return rng.sample(pool, count)


def corrupt(bsn: str) -> str:
    """A nine-digit number that fails the elfproef (the last digit changed) — for the
    deliberately bad records."""
    for delta in range(1, 10):
        candidate = bsn[:8] + str((int(bsn[8]) + delta) % 10)
        if not passes_elfproef(candidate):
            return candidate
    raise SynthError("cannot corrupt a BSN")  # unreachable: only one digit passes
