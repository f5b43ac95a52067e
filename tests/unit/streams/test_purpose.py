"""The purpose (``doel``) of an API read: rules and masking (streams/purpose.py)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from schemas.pseudonym import elfproef
from streams.purpose import (
    DATE_MASK,
    MAX_PURPOSE_CHARS,
    InvalidPurpose,
    check_purpose,
    clean_purpose,
    mask_purpose,
)

BSN = "123456782"  # passes the elfproef


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "ontbreekt"),
        ("   ", "ontbreekt"),
        (".", "woorden"),
        ("...", "woorden"),
        ("x", "woorden"),
        ("ab - cd", "woorden"),
        ("--- !!! ???", "woorden"),
        ("12345 678", "woorden"),
        ("\u200b\u200b\u200b", "onzichtbare"),
        ("con\u200btrole", "onzichtbare"),  # zero-width space
        ("controle\u202e", "onzichtbare"),  # right-to-left override
        ("controle\x00", "onzichtbare"),
        ("controle\tvan dossier", "onzichtbare"),
        ("regel een\u2028regel twee", "onzichtbare"),  # line separator
        ("controle " + "a" * MAX_PURPOSE_CHARS, "langer dan 200"),
    ],
)
def test_a_purpose_must_be_real_words(raw: str, rule: str) -> None:
    with pytest.raises(InvalidPurpose) as refused:
        check_purpose(raw)
    message = str(refused.value)
    assert message.startswith("doel: ") and rule in message
    assert raw.strip() == "" or raw not in message  # never echoes the text


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("controle", "controle"),
        ("  casusoverleg   wijkteam  ", "casusoverleg wijkteam"),
        ("Overleg één plan", "Overleg één plan"),
        ("zie 3 punten", "zie 3 punten"),
        ("ñandú-overleg", "ñandú-overleg"),
        ("a" * (MAX_PURPOSE_CHARS - 1) + "b", "a" * (MAX_PURPOSE_CHARS - 1) + "b"),
    ],
)
def test_real_words_pass(raw: str, kept: str) -> None:
    assert check_purpose(raw) == kept


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (f"BSN {BSN} besproken", "BSN ********* besproken"),
        (f"bsn:{BSN}.", "bsn:*********."),
        ("dossier 1234.56.782", "dossier ****.**.***"),
        ("dossier 123 456 782 gezien", "dossier *** *** *** gezien"),
        ("dossier 12-345-6782", "dossier **-***-****"),
        ("controle bsn 123/456/782", "controle bsn ***/***/***"),
        ("controle bsn 123 - 456 - 782", "controle bsn *** - *** - ***"),
        ("controle bsn 123–456–782", "controle bsn ***–***–***"),  # en-dash
        ("controle bsn 123_456_782", "controle bsn ***_***_***"),
        ("controle bsn 123,456,782", "controle bsn ***,***,***"),
        ("controle bsn (123) 456-782", "controle bsn (***) ***-***"),
        ("zaak 123 / 456 / 789 overleg", "zaak 123 / 456 / 789 overleg"),  # fails the elfproef
        ("dossier 123 -- 456 -- 782", "dossier 123 -- 456 -- 782"),  # four characters apart
        ("dossier ١٢٣٤٥٦٧٨٢", "dossier *********"),  # Arabic-Indic digits
        ("dossier １２３４５６７８２", "dossier *********"),  # full-width digits
        (f"jaar 2026 {BSN} overleg", "jaar 2026 ********* overleg"),
        ("zaak 123456789 overleg", "zaak 123456789 overleg"),  # fails the elfproef
        ("telefoon 0612345678", "telefoon 0612345678"),  # ten digits
        ("geboren 12-03-1985", f"geboren {DATE_MASK}"),
        ("geboren 1/3/85 in Utrecht", f"geboren {DATE_MASK} in Utrecht"),
        ("geboren 1985-03-12", f"geboren {DATE_MASK}"),
        ("geboren 12 maart 1985", f"geboren {DATE_MASK}"),
        ("geboren 12 mrt. 1985", f"geboren {DATE_MASK}"),
        ("overleg week 12 van 2026", "overleg week 12 van 2026"),
    ],
)
def test_bsns_and_dates_are_masked(raw: str, stored: str) -> None:
    assert clean_purpose(raw) == stored


def _with_check_digit(prefix: str) -> str | None:
    for last in "0123456789":
        if elfproef(prefix + last) and prefix + last != "000000000":
            return prefix + last
    return None


@given(
    prefix=st.text("0123456789", min_size=8, max_size=8),
    before=st.text(st.characters(exclude_categories=["Nd"]), max_size=40),
    after=st.text(st.characters(exclude_categories=["Nd"]), max_size=40),
)
def test_no_bsn_survives_masking(prefix: str, before: str, after: str) -> None:
    bsn = _with_check_digit(prefix)
    if bsn is None:  # no check digit makes this prefix a BSN
        return
    masked = mask_purpose(f"{before}{bsn}{after}")
    assert bsn not in masked
    assert masked.count("*") >= 9


@given(
    prefix=st.text("0123456789", min_size=8, max_size=8),
    cuts=st.sets(st.integers(1, 8), max_size=4),
    separators=st.lists(
        st.text(st.characters(exclude_categories=["L", "N"]), min_size=1, max_size=3),
        min_size=4,
        max_size=4,
    ),
    before=st.text(st.characters(exclude_categories=["Nd"]), max_size=20),
    after=st.text(st.characters(exclude_categories=["Nd"]), max_size=20),
)
def test_no_bsn_written_in_groups_survives_masking(
    prefix: str, cuts: set[int], separators: list[str], before: str, after: str
) -> None:
    """A BSN cut into groups by up to three characters that are neither letters nor digits
    (``/``, `` - ``, an en-dash, ``_``, ``,``, …) is masked: its digits cannot be read back."""
    bsn = _with_check_digit(prefix)
    assume(bsn is not None)
    assert bsn is not None
    bounds = [0, *sorted(cuts), 9]
    groups = [bsn[a:b] for a, b in pairwise(bounds)]
    written = groups[0] + "".join(
        sep + group for sep, group in zip(separators, groups[1:], strict=False)
    )
    masked = mask_purpose(f"{before}{written}{after}")
    assert bsn not in "".join(c for c in masked if c.isdigit())
