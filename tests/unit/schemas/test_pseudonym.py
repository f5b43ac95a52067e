from __future__ import annotations

import pytest

from schemas.exceptions import InvalidBsn
from schemas.pseudonym import Pseudonymiser, elfproef, mask_bsn, pseudonym, validate_bsn


def test_fixed_vectors_computed_independently_with_openssl() -> None:
    # printf '%s' 111222333 | openssl dgst -sha256 -hmac 'schakel-test-key' | cut -c1-32
    assert pseudonym("111222333", "schakel-test-key") == "840ae942ba1dfe7ab6747f184049da8f"
    assert pseudonym("123456782", "sleutel") == "068c481f31824d0c5cd83ec764958d39"


@pytest.mark.parametrize("bsn", ["111222333", "123456782", "999999990", "010000008"])
def test_valid_bsns(bsn: str) -> None:
    assert elfproef(bsn)
    assert validate_bsn(bsn) == bsn


@pytest.mark.parametrize(
    "bsn", ["123456789", "000000000", "11122233", "1112223334", " 11122233", "11122233x", ""]
)
def test_invalid_bsns(bsn: str) -> None:
    with pytest.raises(InvalidBsn):
        validate_bsn(bsn)


def test_pseudonymiser_is_stable_and_hides_its_key() -> None:
    p = Pseudonymiser("geheim")
    assert p("111222333") == p("111222333") != Pseudonymiser("ander")("111222333")
    assert len(p("111222333")) == 32
    assert "geheim" not in repr(p)


def test_mask_bsn() -> None:
    assert mask_bsn("bsn 111222333 in tekst, 1234567890 niet") == (
        "bsn ********* in tekst, 1234567890 niet"
    )
