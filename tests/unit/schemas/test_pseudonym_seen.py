"""A BSN as a reader sees it that ``holds_bsn`` and ``mask_bsn`` missed (a review's gaps):
separators that are a dash or look like a full stop but were not counted (``999⸺990⸺111``,
``999．990．111``), and combining marks on the digits (``9\u03019999011\u03011``, keycaps
``9\ufe0f\u20e3``), which split the number where a reader sees its digits."""

from __future__ import annotations

import re
import sys
import time
import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from schemas.pseudonym import _INVISIBLE, MASK, elfproef, holds_bsn, mask_bsn

_BY_CATEGORY: dict[str, list[str]] = {"Pd": [], "Mn": [], "Me": []}
for _code in range(sys.maxunicode + 1):
    _category = unicodedata.category(chr(_code))
    if _category in _BY_CATEGORY:
        _BY_CATEGORY[_category].append(chr(_code))

DASHES = [*_BY_CATEGORY["Pd"], "\u2212"]  # every dash punctuation, and the minus sign
FULL_STOPS = [".", "\uff0e", "\ufe52", "\u2024"]
WHITESPACE = [" ", "\u00a0", "\t", "\u2009", "\u3000"]
INVISIBLE = ["\u200b", "\u00ad", "\u2060", "\ufe0f", "\u034f"]
# combining marks that are seen: not default-ignorable (the variation selectors, the combining
# grapheme joiner and a few more are Mn, and invisible: read as such)
MARKS = [m for m in _BY_CATEGORY["Mn"] + _BY_CATEGORY["Me"] if not _INVISIBLE.match(m)]
_MARK_SET = frozenset(MARKS)


def _hex(char: str) -> str:
    return f"U+{ord(char):04X}"


@pytest.mark.parametrize("dash", DASHES, ids=_hex)
def test_every_dash_is_a_separator_of_the_dash_class(dash: str) -> None:
    """``999⸺990⸺111`` shows the number as ``999-990-111`` does (category Pd: every dash
    punctuation, and the minus sign); a dash and the hyphen are one class. A hand list of ten
    missed the others (the two- and three-em dash, the small em dash, the Armenian hyphen, the
    Hebrew maqaf, the wave dash, …): ``999⸺990⸺111`` passed both functions."""
    assert holds_bsn(f"casus 999{dash}990{dash}111")
    assert mask_bsn(f"casus 999{dash}990{dash}111.") == f"casus {MASK}."
    assert holds_bsn(f"999{dash}990-111") and holds_bsn(f"999-990{dash}111")
    assert not holds_bsn(f"1{dash}999{dash}990{dash}111")  # a longer group
    assert not holds_bsn(f"999{dash}990.111") and not holds_bsn(f"999 990{dash}111")
    assert not holds_bsn(f"9999{dash}90{dash}111")  # the printed spelling takes no dash
    assert not holds_bsn(f"2026{dash}01{dash}05 ZK{dash}2026{dash}000123")


@pytest.mark.parametrize("stop", FULL_STOPS, ids=_hex)
def test_a_character_that_looks_like_a_full_stop_is_one(stop: str) -> None:
    """``999．990．111`` (full-width), ``999﹒990﹒111`` (small), ``999․990․111`` (one dot
    leader) show ``999.990.111``; ``9999．90．111`` the printed spelling."""
    for text in (f"999{stop}990{stop}111", f"9999{stop}90{stop}111", f"999.990{stop}111"):
        assert holds_bsn(text) and holds_bsn(f"casus {text}{stop}"), text
        assert mask_bsn(f"casus {text}{stop}") == f"casus {MASK}{stop}", text
    assert not holds_bsn(f"10{stop}999{stop}990{stop}111")  # a longer group
    assert not holds_bsn(f"999{stop}990-111") and not holds_bsn(f"9999{stop}90 111")


@pytest.mark.parametrize(
    "text",
    [
        "123,456,782",  # the comma: an English count, or a list of three identifiers
        "9999,90,111",
        "123\u3002456\u3002782",  # the ideographic full stop: a circle
        "123\u00b7456\u00b7782",  # the middle dot
        "123\uff5e456\uff5e782",  # the full-width tilde
        "123_456_782",
        "123\u2500456\u2500782",  # a box-drawing line
    ],
)
def test_characters_that_are_no_separator_still_are_none(text: str) -> None:
    assert holds_bsn(re.sub(r"\D", "", text))  # the digits could be a BSN
    assert not holds_bsn(text)
    assert mask_bsn(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "9\u03019999011\u03011",  # an acute accent on two digits
        "999\u0303990\u0303111",
        "9999\u0338.90.111",  # a digit struck through
        "".join(f"{d}\ufe0f\u20e3" for d in "999990111"),  # keycaps, as 9️⃣
        "".join(f"{d}\u20e3" for d in "999990111"),
        "".join(f"{d}\u20dd" for d in "999-990-111"),  # enclosed in circles
        "999\u0488990111",  # an enclosing mark (Me)
        "999\U0001d167990111",  # one beyond the BMP
        "999-\u0301990-111",  # a mark on the dash
        "\uff19\uff19\uff19\u0301\uff19\uff19\uff10\uff11\uff11\uff11",  # full-width digits
        "999\u200b\u0301990111",  # with an invisible character
    ],
)
def test_a_combining_mark_on_a_digit_does_not_hide_a_bsn(text: str) -> None:
    """A mark is drawn on the character before it: the digits are seen. It split the number
    (``9\u03019999011\u03011`` passed as ``9``, ``9999011``, ``1``); it is read as an
    invisible character now (absent or a break), and the marks of a masked number are masked
    with it, none of its digits left to see."""
    assert holds_bsn(text) and holds_bsn(f"casus {text}.")
    assert mask_bsn(f"casus {text}.") == f"casus {MASK}."
    assert mask_bsn(f"{text} en {text}") == f"{MASK} en {MASK}"


@pytest.mark.parametrize(
    "text",
    [
        "99999\u030101111",  # ten digits with a mark on one, or five and five
        "12345\u030167890\u030112345",  # five, ten or fifteen: never nine
        "999\u0301990\u0301112",  # fails the elfproef
        "1\u0301.999\u0301990.111",  # separators of different classes
    ],
)
def test_a_combining_mark_makes_no_bsn_of_other_digits(text: str) -> None:
    assert not holds_bsn(text)
    assert not holds_bsn(mask_bsn(text))


@pytest.mark.parametrize(
    "text", ["999990111\u03011", "1\u0301999990111", "1\u0301-999-990-111", "W-999990111\u20dd7"]
)
def test_a_combining_mark_next_to_a_bsn_is_read_as_a_break_too(text: str) -> None:
    """A mark was a non-digit: these were found before and still are (the reading as a break,
    as of an invisible character), though a reader may see the digits run on."""
    assert holds_bsn(text)
    assert MASK in mask_bsn(text) and not holds_bsn(mask_bsn(text))


def test_mask_bsn_keeps_the_combining_marks_that_are_not_on_a_number() -> None:
    name = "Jose\u0301 Nu\u0303n\u0303ez"  # decomposed (NFD), as macOS names files
    assert mask_bsn(f"{name} 12345") == f"{name} 12345" and not holds_bsn(name)
    assert mask_bsn(f"{name} 999\u0301990111\u0301.csv") == f"{name} {MASK}.csv"
    assert mask_bsn(f"{name}\u200b 999990111") == f"{name}\u200b {MASK}"


def test_a_random_token_with_a_mark_in_it_is_no_random_token() -> None:
    """As one with an invisible character in it: its digits are asked (privacy first)."""
    token = "abcdabcdabcdabcdabcdabc999990111"  # 32 hexadecimal characters, the last nine a BSN
    assert not holds_bsn(token) and not holds_bsn(f"id={token}\u0301")
    marked = "abcdabcdabcdabcdabc\u0301dabc999990111"
    assert holds_bsn(marked) and mask_bsn(marked) == "abcdabcdabcdabcdabc\u0301dabc" + MASK
    assert holds_bsn(f"x\u0301{token}")  # the mark joins it to the x: 33 characters


def test_no_dash_or_mark_lies_beyond_the_planes_scanned_but_invisible_ones() -> None:
    """The classes are derived from ``unicodedata`` over planes 0 and 1 at import; beyond them
    Unicode (of this Python) has only the variation selectors, which are invisible."""
    from schemas.pseudonym import _SCANNED

    beyond = [c for chars in _BY_CATEGORY.values() for c in chars if ord(c) >= _SCANNED]
    assert beyond and all(_INVISIBLE.fullmatch(c) for c in beyond)


def _as_ascii(text: str) -> str:
    """``text`` with each separator spelled as its class's ASCII character and each combining
    mark as a zero-width space: what the tests of ASCII separators and of invisible characters
    pin down."""
    text = "".join("\u200b" if c in _MARK_SET else c for c in text)
    text = re.sub(r"\s", " ", text)
    text = re.sub("|".join(map(re.escape, DASHES)), "-", text)
    return re.sub("|".join(map(re.escape, FULL_STOPS)), ".", text)


_SEEN_ALPHABET = st.one_of(
    st.sampled_from([*"0123456789", "\uff19", "x", ",", "/"]),
    st.sampled_from(DASHES),
    st.sampled_from(FULL_STOPS),
    st.sampled_from(WHITESPACE),
    st.sampled_from(INVISIBLE),
    st.sampled_from(MARKS),
)


@st.composite
def seen_bsns(draw: st.DrawFn) -> str:
    """A number that passes the elfproef, in a row, printed (4-2-3) or grouped (3-3-3), its
    separators drawn from one class (a dash, a full stop, whitespace), combining marks after
    some of its characters."""
    first8 = draw(st.text("0123456789", min_size=8, max_size=8))
    bsn = next((first8 + d for d in "0123456789" if elfproef(first8 + d)), None)
    assume(bsn is not None and bsn != "000000000")
    assert bsn is not None
    form = draw(st.sampled_from(["run", "printed", "grouped"]))
    classes = [FULL_STOPS, WHITESPACE] if form == "printed" else [FULL_STOPS, WHITESPACE, DASHES]
    kind = draw(st.sampled_from(classes))
    first, second = draw(st.sampled_from(kind)), draw(st.sampled_from(kind))
    if form == "printed":
        bsn = f"{bsn[:4]}{first}{bsn[4:6]}{second}{bsn[6:]}"
    elif form == "grouped":
        bsn = f"{bsn[:3]}{first}{bsn[3:6]}{second}{bsn[6:]}"
    marks = draw(st.lists(st.tuples(st.integers(1, len(bsn)), st.sampled_from(MARKS)), max_size=4))
    for at, mark in sorted(marks, reverse=True):
        bsn = bsn[:at] + mark + bsn[at:]
    return bsn


@settings(max_examples=1000)
@given(st.lists(st.one_of(st.text(_SEEN_ALPHABET, max_size=10), seen_bsns()), max_size=5))
def test_every_separator_answers_as_its_ascii_character_and_a_mark_as_nothing(
    parts: list[str],
) -> None:
    """Whatever dash, full stop or whitespace separates the digits, and whatever marks are on
    them, ``holds_bsn`` answers as for the text spelled with ``-``, ``.`` and `` `` and a
    zero-width space for each mark (which the other tests pin down: dates, longer groups, mixed
    classes, each run of invisible characters read as absent or as a break); nothing it finds
    survives ``mask_bsn``. (No letter a–f: no random token, whose shape asks for ``-``.)"""
    text = "".join(parts)
    assert holds_bsn(text) == holds_bsn(_as_ascii(text))
    assert not holds_bsn(mask_bsn(text))


_NO_DIGITS = st.text(st.characters(exclude_categories=["Nd"]), max_size=20)


@settings(max_examples=500)
@given(before=_NO_DIGITS, bsn=seen_bsns(), after=_NO_DIGITS)
def test_a_bsn_with_any_separator_and_marks_is_found_and_masked_to_its_last_digit(
    before: str, bsn: str, after: str
) -> None:
    assert holds_bsn(bsn)
    masked = mask_bsn(f"{before}{bsn}{after}")
    assert MASK in masked and not holds_bsn(masked)
    assert re.sub(r"\D", "", masked) == "", "a digit of the number is left"


def test_mask_bsn_and_holds_bsn_of_long_texts_with_marks_take_linear_time() -> None:
    """Each mark is read once: the masks of a megabyte of numbers with marks on their digits
    and of marked digits in one run take a fraction of a second."""
    numbers = ("9\u0301" * 5 + "0111\u20dd x\u0303 ") * 40_000
    started = time.process_time()
    assert mask_bsn(numbers) == (MASK + " x\u0303 ") * 40_000
    assert holds_bsn(numbers)
    run = "1\u0301" * 500_000
    assert not holds_bsn(run) and not holds_bsn(run + "\u200b")
    assert MASK in mask_bsn(run) and not holds_bsn(mask_bsn(run))
    assert time.process_time() - started < 5
