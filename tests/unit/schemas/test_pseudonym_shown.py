"""A BSN written in characters that show a digit but are no decimal digit — superscript
``¹²³``, subscript ``₁₂₃``, circled ``①②③``, ``⓪``, negative circled ``❶`` — which ``\\d``
and ``int`` do not take for one: ``holds_bsn('¹²³⁴⁵⁶⁷⁸²')`` was false and ``mask_bsn`` left
it in identifiers' checks, log lines and dead-letter headers (the purpose masking of
``streams/purpose.py`` read them already). Each is read as the digit it shows, one character
for one; the text as written is read too (``123456782¹``: a BSN and a footnote mark)."""

from __future__ import annotations

import sys
import time
import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from schemas.pseudonym import MASK, digits_shown, elfproef, holds_bsn, mask_bsn

SHOWN: dict[str, list[str]] = {d: [] for d in "0123456789"}
"""Every character of Unicode that shows a digit and is no decimal digit, by the digit."""
for _code in range(sys.maxunicode + 1):
    _char = chr(_code)
    if not _char.isdecimal() and (_digit := unicodedata.digit(_char, None)) is not None:
        SHOWN[str(_digit)].append(_char)

SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
CIRCLED = str.maketrans("0123456789", "⓪①②③④⑤⑥⑦⑧⑨")
NEGATIVE_CIRCLED = str.maketrans("123456789", "❶❷❸❹❺❻❼❽❾")


def test_digits_shown_reads_every_character_that_shows_a_digit_and_nothing_else() -> None:
    """The set is read at import from a part of Unicode: this asks it of every code point."""
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    read = digits_shown(everything)
    assert len(read) == len(everything)
    changed = {c: r for c, r in zip(everything, read, strict=True) if c != r}
    assert changed == {c: d for d, chars in SHOWN.items() for c in chars}
    assert digits_shown("m² 12") == "m2 12"
    assert digits_shown("zorg 12") == "zorg 12"


@pytest.mark.parametrize(
    "spelled",
    [
        "999990111".translate(SUPERSCRIPT),
        "123456782".translate(SUBSCRIPT),
        "123456782".translate(CIRCLED),
        "999990111".translate(NEGATIVE_CIRCLED).replace("0", "⓿"),
        "¹²³456782",  # a mix of superscript and ordinary digits
        "9⑨9⁹9₉0¹1",
        "₉₉₉ ₉₉₀ ₁₁₁",
        "⑨⑨⑨-⑨⑨⓪–①①①",
        "⁹⁹⁹⁹.⁹⁰.¹¹¹",
        "９⁹9-990-111",  # full-width, superscript and ASCII
        "¹²\u200b³⁴⁵⁶⁷⁸²",  # an invisible character
        "9\u0301⁹⁹⁹⁹⁰¹¹¹\u0301",  # combining marks
    ],
)
def test_a_bsn_written_in_digits_that_are_no_decimal_digits_is_found_and_masked(
    spelled: str,
) -> None:
    for text in (spelled, f"casus {spelled}", f"export {spelled}.csv"):
        assert holds_bsn(text), text
        masked = mask_bsn(text)
        assert MASK in masked and not holds_bsn(masked), text
        assert not any(c.isdigit() for c in masked), text
    assert mask_bsn(f"casus {spelled} overleg") == f"casus {MASK} overleg"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("BSN 999990111¹", f"BSN {MASK}¹"),  # a footnote mark after a BSN
        ("¹999990111", f"¹{MASK}"),
        ("999 990 111²", f"{MASK}²"),
        ("² 999990111 m²", f"² {MASK} m²"),
    ],
)
def test_a_shown_digit_next_to_a_bsn_does_not_hide_it(text: str, masked: str) -> None:
    """Read as the digit it shows, the footnote mark makes ten digits; as written, it is none."""
    assert holds_bsn(text)
    assert mask_bsn(text) == masked and not holds_bsn(masked)


@pytest.mark.parametrize(
    "text",
    [
        "m²",
        "oppervlakte 120 m²",
        "x³ + y² = z²",
        "① aanvraag ② besluit ③ bezwaar",
        "zie voetnoot¹",
        "H₂O",
        "⑴ eerst ⑵ dan",
        "❶❷❸",
        "T-2026-00123²",
        "casus ¹²³⁴⁵⁶⁷⁸²¹",  # ten superscript digits: a longer number
        "¹²³⁴⁵⁶⁷⁸²0",
        "¹²³/⁴⁵⁶/⁷⁸²",  # split otherwise
    ],
)
def test_text_with_shown_digits_but_no_number_is_unchanged(text: str) -> None:
    assert not holds_bsn(text)
    assert mask_bsn(text) == text


@pytest.mark.parametrize("text", ["¹²³⁴⁵⁶⁷⁸⁹", "①②③④⑤⑥⑦⑧⑨"])
def test_nine_shown_digits_that_fail_the_elfproef_are_masked_but_not_found(text: str) -> None:
    """As ``123456789``: masking does not ask the elfproef."""
    assert not holds_bsn(text)
    assert mask_bsn(text) == MASK


_NO_DIGITS = st.text(st.characters(exclude_categories=["Nd", "No"]), max_size=30)


@st.composite
def bsns_in_shown_digits(draw: st.DrawFn) -> str:
    """A number that passes the elfproef, as nine digits in a row, printed (4-2-3) or grouped
    (3-3-3), each of its digits ASCII, full-width or any character that shows that digit."""
    first8 = draw(st.text("0123456789", min_size=8, max_size=8))
    bsn = next((first8 + d for d in "0123456789" if elfproef(first8 + d)), None)
    assume(bsn is not None and bsn != "000000000")
    assert bsn is not None
    spelled = [draw(st.sampled_from([d, chr(ord(d) + 0xFEE0), *SHOWN[d]])) for d in bsn]
    at = draw(st.integers(0, 8))  # at least one shown digit
    spelled[at] = draw(st.sampled_from(SHOWN[bsn[at]]))
    form = draw(st.sampled_from(["run", "printed", "grouped"]))
    if form == "printed":
        separator = draw(st.sampled_from([".", " ", "\u00a0"]))
        return (
            "".join(spelled[:4])
            + separator
            + "".join(spelled[4:6])
            + separator
            + "".join(spelled[6:])
        )
    if form == "grouped":
        separator = draw(st.sampled_from([".", " ", "-", "\u2013", "\t"]))
        return separator.join("".join(spelled[i : i + 3]) for i in (0, 3, 6))
    return "".join(spelled)


@settings(max_examples=500)
@given(before=_NO_DIGITS, bsn=bsns_in_shown_digits(), after=_NO_DIGITS)
def test_any_bsn_spelled_with_shown_digits_is_found_and_fully_masked(
    before: str, bsn: str, after: str
) -> None:
    assert holds_bsn(bsn)
    assert holds_bsn(f"casus {bsn}")
    masked = mask_bsn(f"{before}{bsn}{after}")
    assert MASK in masked and not holds_bsn(masked)
    assert not any(c.isdigit() for c in masked)  # no digit of it is left to be seen


@settings(max_examples=500)
@given(
    st.lists(
        st.one_of(
            bsns_in_shown_digits(),
            st.text("0123456789 .-\u00a0¹²⁹⁰₁①⓪❾", max_size=8),
            st.sampled_from(["\u200b", "\u0301", "²", "⑨", "１"]),
            st.text(max_size=4),
        ),
        max_size=8,
    )
)
def test_nothing_holds_bsn_finds_survives_mask_bsn_with_shown_digits(parts: list[str]) -> None:
    text = "".join(parts)
    masked = mask_bsn(text)
    assert not holds_bsn(masked)
    assert mask_bsn(masked) == masked


def test_a_long_text_of_shown_digits_takes_linear_time() -> None:
    for text in ("¹\u200b" * 350_000, "²" * 700_000, "¹²³ ⁴⁵⁶ ⁷⁸⁹ " * 60_000):
        started = time.process_time()
        assert not holds_bsn(text)
        mask_bsn(text)
        assert time.process_time() - started < 5
