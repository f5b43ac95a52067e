"""Synthetic BSNs: valid, distinct, in the 9999 block; corrupted ones fail the elfproef."""

from __future__ import annotations

import random

import pytest

from schakel.synth import SynthError, bsn
from schakel.synth.model import Municipality
from schemas.pseudonym import elfproef, validate_bsn


def test_every_number_of_the_block_passes_the_elfproef() -> None:
    block = bsn.block()
    assert 9000 < len(block) < 9200
    assert all(n.startswith("9999") and len(n) == 9 and elfproef(n) for n in block)
    assert len(set(block)) == len(block)


def test_draw_is_distinct_and_seeded() -> None:
    first = bsn.draw(random.Random("a"), 500)
    assert len(set(first)) == 500
    assert first == bsn.draw(random.Random("a"), 500)
    assert first != bsn.draw(random.Random("b"), 500)


def test_draw_refuses_more_than_the_block_holds() -> None:
    with pytest.raises(SynthError, match="at most"):
        bsn.draw(random.Random(1), 20_000)


def test_corrupt_fails_the_elfproef() -> None:
    for number in bsn.block()[:200]:
        bad = bsn.corrupt(number)
        assert len(bad) == 9 and bad[:8] == number[:8]
        assert not bsn.passes_elfproef(bad)
        assert not elfproef(bad)


def test_every_citizen_has_a_valid_unique_bsn(municipality: Municipality) -> None:
    numbers = [p.bsn for p in municipality.people]
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert validate_bsn(number) == number
