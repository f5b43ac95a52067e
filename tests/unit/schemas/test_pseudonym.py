from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from schemas.exceptions import InvalidBsn
from schemas.pseudonym import (
    MASK,
    Pseudonymiser,
    elfproef,
    holds_bsn,
    mask_bsn,
    pseudonym,
    validate_bsn,
)


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


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("bijstand-9999.90.111-jansen.csv", "bijstand-*********-jansen.csv"),
        ("bijstand 9999 90 111.csv", "bijstand *********.csv"),
        ("brief 9999 90 111 (jansen).xml", "brief ********* (jansen).xml"),
        ("x９９９９ ９０ １１１y", "x*********y"),  # full-width digits, printed
        ("zaak 1234.56.789", "zaak *********"),  # fails the elfproef: masked all the same
        ("zaak 123456789", "zaak *********"),  # as before: nine digits, no elfproef asked
        ("zaak 12345.67.890, 9999-90-111", "zaak 12345.67.890, 9999-90-111"),
    ],
)
def test_mask_bsn_masks_the_printed_spellings(text: str, masked: str) -> None:
    assert mask_bsn(text) == masked


_NO_DIGITS = st.text(st.characters(exclude_categories=["Nd"]), max_size=30)


@st.composite
def spelled_bsns(draw: st.DrawFn) -> str:
    """A number that passes the elfproef, in one of the spellings holds_bsn recognises."""
    first8 = draw(st.text("0123456789", min_size=8, max_size=8))
    bsn = next((first8 + d for d in "0123456789" if elfproef(first8 + d)), None)
    assume(bsn is not None and bsn != "000000000")
    assert bsn is not None
    separator = draw(st.sampled_from(["", ".", " ", "\u00a0"]))
    if separator:
        bsn = f"{bsn[:4]}{separator}{bsn[4:6]}{separator}{bsn[6:]}"
    if draw(st.booleans()):  # the same number in full-width digits
        bsn = bsn.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return bsn


@settings(max_examples=300)
@given(before=_NO_DIGITS, bsn=spelled_bsns(), after=_NO_DIGITS)
def test_mask_bsn_masks_every_spelling_holds_bsn_recognises(
    before: str, bsn: str, after: str
) -> None:
    """Whatever stands around it (but digits), a BSN in any spelling is masked — also where
    :func:`holds_bsn` does not take it for one (between spaces or dots)."""
    assert holds_bsn(bsn)
    masked = mask_bsn(f"{before}{bsn}{after}")
    assert bsn not in masked
    assert MASK in masked
    assert not holds_bsn(masked)


@settings(max_examples=300)
@given(st.lists(st.one_of(st.text(max_size=12), spelled_bsns()), max_size=6))
def test_nothing_holds_bsn_finds_survives_mask_bsn(parts: list[str]) -> None:
    assert not holds_bsn(mask_bsn("".join(parts)))
