"""BSN validation, pseudonyms (``api.md``) and masking of BSNs in free text.

:func:`holds_bsn` and :func:`mask_bsn` find a number as a reader sees it: nine digits in a
row or in groups, the groups separated by whitespace, a dash or a full stop (any character
that looks like one: :data:`_GROUP_SEPARATORS`), with invisible characters and combining marks
anywhere in it, its digits those of any script or characters that show a digit (superscript
``¹²³``, subscript, circled ``①②③``: :func:`digits_shown`). The comma is deliberately no
separator: ``123,456,782`` is how an English locale prints a count, not how a BSN is written
in Dutch, and a list of three identifiers (``123,456,782``, a CSV row) would be taken for
one, one time in eleven.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import itertools
import re
import unicodedata
from collections.abc import Iterable
from typing import TypeGuard

from schemas.exceptions import InvalidBsn

_NINE_DIGITS = re.compile(r"[0-9]{9}")  # ASCII only: \d and str.isdigit accept ９ and ٩
MASK = "*********"
_KIND = re.compile(r"[a-z][a-z0-9-]*")
"""What :meth:`Pseudonymiser.token` takes for a ``kind``: never a separator or a digit alone."""
PSEUDONYM_CHARS = 32
_PSEUDONYM = re.compile(r"[0-9a-f]{32}")


def _weighted(*weights: int) -> tuple[int, ...]:
    """For each three digits ``abc`` (``0`` … ``999``): ``weights`` · (a, b, c)."""
    return tuple(
        sum(w * int(d) for w, d in zip(weights, f"{n:03d}", strict=True)) for n in range(1000)
    )


_ELFPROEF_TABLES = (_weighted(9, 8, 7), _weighted(6, 5, 4), _weighted(3, 2, -1))
"""The elfproef's weighted sum of each group of three digits of a nine-digit number (one
``int`` and three look-ups for :func:`elfproef`, not nine: it is asked of every nine-digit
window of a long text, ``1\u200b`` a million times over)."""


def elfproef(digits: str) -> bool:
    """The BSN eleven test: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 is divisible by 11 (the digits of
    any script: ``int`` reads them as it reads each one)."""
    if len(digits) == 9 and digits.isdecimal():
        high, rest = divmod(int(digits), 1_000_000)
        middle, low = divmod(rest, 1_000)
        high_sum, middle_sum, low_sum = _ELFPROEF_TABLES
        return (high_sum[high] + middle_sum[middle] + low_sum[low]) % 11 == 0
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


def is_pseudonym(value: object) -> TypeGuard[str]:
    """Whether ``value`` has the shape of a pseudonym (:func:`pseudonym`): a string of
    :data:`PSEUDONYM_CHARS` lowercase hexadecimal characters (ASCII). The one test of it for
    every key and ``subject`` read from Kafka: anything else — a BSN, text, a non-ASCII
    string that Kafka's partitioner could not encode — is no citizen's key."""
    return isinstance(value, str) and _PSEUDONYM.fullmatch(value) is not None


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

    def token(self, kind: str, value: str) -> str:
        """A keyed token for ``value``, a source's identifier that could be taken for a BSN
        (``events.md``: a source key that holds a BSN-like value is hashed with the pseudonym
        key); ``kind`` names what ``value`` is (``toewijzing``: an iWmo ToewijzingNummer).

        The first 32 hex digits of ``HMAC-SHA256(key, kind + "\\x1f" + value)``:

        - deterministic under the key: the same value of the same kind always gives the same
          token, so records that refer to it still join on it; another key gives another;
        - domain-separated from citizens' pseudonyms, whose HMAC input is nine digits alone:
          the token of a number is never the pseudonym of a citizen whose BSN is that number,
          and tokens of different kinds differ;
        - a random token to :func:`holds_bsn`: it holds at least :data:`MIN_RANDOM_LETTERS`
          letters ``a``–``f``. A digest with fewer (about one in fifty thousand) is replaced,
          deterministically, by the digest of the input plus a counter, as
          :func:`adapters.base.derive_id` does.

        Without the key a token cannot be traced back to its value; whoever holds the key can
        (by trying the values), as with pseudonyms."""
        if not _KIND.fullmatch(kind):
            raise ValueError("a token kind is lower-case letters, digits and '-'")
        text = f"{kind}\x1f{value}"
        counter = 0
        while True:
            data = text if counter == 0 else f"{text}\x1f{counter}"
            digest = hmac.new(
                self._key.encode("utf-8"), data.encode("utf-8"), hashlib.sha256
            ).hexdigest()[:32]
            if _is_random(digest):
                return digest
            counter += 1


_INVISIBLE_BMP = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
)
_INVISIBLE = re.compile(
    f"[{_INVISIBLE_BMP}\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
"""Characters that are not seen: Unicode's default-ignorable code points (the soft hyphen,
the combining grapheme joiner, zero-width space, joiners and word joiner, bidi marks and
controls, Hangul fillers, variation selectors, the byte order mark, tag characters, …) and the
interlinear annotation characters. Pasted from a web page or a document, they are in
identifiers and file names, and CloudEvents allows them in a ``String``. A text shows the
same without them — ``999\u200b990111`` is seen as ``999990111`` — yet one can also stand for
a break (a zero-width space is where a line may break, a program splits on it), so
:func:`holds_bsn` and :func:`mask_bsn` read each run of them either way: :data:`_UNSEEN`.
None of them is a digit, whitespace or a separator of a spelling."""
_UNSEEN = f"{_INVISIBLE.pattern}*"
"""A run of invisible characters, or none, where a spelling of :func:`holds_bsn` may hold one:
between every two of its digits and on both sides of its separators. Read there as absent; the
lookarounds that ask what stands next to a spelling see an invisible character as a non-digit,
so a run next to a number is read as a break (``999\u200b990111\u200b1`` holds ``999990111``).
The reviewer's "one sentinel per run of invisible characters, allowed within every spelling",
without rewriting the text."""


def _character_class(code_points: Iterable[int]) -> str:
    """``code_points`` (ascending) as the inside of a character class: each run of consecutive
    ones as a range."""
    runs: list[tuple[int, int]] = []
    for code in code_points:
        if runs and runs[-1][1] == code - 1:
            runs[-1] = (runs[-1][0], code)
        else:
            runs.append((code, code))
    return "".join(
        re.escape(chr(first)) + ("" if last == first else "-" + re.escape(chr(last)))
        for first, last in runs
    )


_SCANNED = 0x20000
"""How far :func:`_of_categories` looks: planes 0 and 1 (U+0000 … U+1FFFF). Beyond them Unicode
has no dash and no combining mark but the variation selectors of plane 14, which are invisible
(a test asks this of every code point)."""


def _of_categories(*categories: str) -> dict[str, list[int]]:
    """The code points below :data:`_SCANNED` of each of ``categories`` (``unicodedata``'s,
    of the Unicode version of this Python), ascending. Once, at import: about ten
    milliseconds."""
    found: dict[str, list[int]] = {category: [] for category in categories}
    wanted = frozenset(categories)
    category_of = list(map(unicodedata.category, map(chr, range(_SCANNED))))
    for code in itertools.compress(range(_SCANNED), map(wanted.__contains__, category_of)):
        found[category_of[code]].append(code)
    return found


_CATEGORIES = _of_categories("Pd", "Mn", "Me", "No")
_SHOWN_DIGITS = {
    code: str(shown)
    for code in _CATEGORIES["No"]
    if (shown := unicodedata.digit(chr(code), None)) is not None
}
"""Each character that shows a digit but is no decimal digit — superscript ``¹²³⁰⁴…``,
subscript ``₀₁…``, circled ``⓪①…``, parenthesised ``⑴``, with a full stop ``⒈``, negative
circled ``❶``, ``⓿``, and the number digits of a few scripts (Ethiopic, Brahmi, …)
(:func:`unicodedata.digit` without :func:`unicodedata.decimal`: all of category No and within
:data:`_SCANNED`, a test asks it of every code point) — and the ASCII digit it shows: a table
for :meth:`str.translate`. Neither ``\\d`` nor ``int`` takes one for a digit."""
_SHOWN_DIGIT = re.compile(f"[{_character_class(sorted(_SHOWN_DIGITS))}]")


def digits_shown(text: str) -> str:
    """``text`` with each character that shows a digit but is no decimal digit
    (:data:`_SHOWN_DIGITS`: ``²``, ``₂``, ``②``, ``❷``) replaced by the ASCII digit it shows,
    one character for one: positions stay. A text without one is returned as it is (the
    same object). How :func:`holds_bsn`, :func:`mask_bsn` and the purpose masking
    (``streams/purpose.py``) read such a digit; the text itself is never normalised (NFKC
    would also turn ``½`` into ``1⁄2``, ``ﬁ`` into ``fi``)."""
    if _SHOWN_DIGIT.search(text) is None:
        return text
    return text.translate(_SHOWN_DIGITS)


_MARKS = [
    code
    for code in sorted(_CATEGORIES["Mn"] + _CATEGORIES["Me"])
    if _INVISIBLE.match(chr(code)) is None
]
_BMP_MARKS = _character_class(code for code in _MARKS if code <= 0xFFFF)
_MARK = re.compile(f"[{_BMP_MARKS}\U00010000-\U0010ffff](?<=[{_character_class(_MARKS)}])")
"""A combining mark that is seen (category Mn, nonspacing, or Me, enclosing, not one of
:data:`_INVISIBLE`): an accent, a strike-through, the keycap of ``9️⃣``. It is drawn on the
character before it, so a mark on a digit still shows the digit (``9\u03019999011\u03011``
is seen as ``999990111``). :func:`holds_bsn` and :func:`mask_bsn` read each as an invisible
character (:data:`_STAND_IN`): absent, or a break as a mark was read before — a number a
reader may see as part of a longer one (``999990111\u03011``) is found, as it was, and none
is found that was not.

Each character is looked up in one class, the BMP's marks and everything beyond the BMP, and
only a character beyond it is compared with plane 1's marks: in a class that holds those,
every character that is not in it is compared with a hundred ranges."""
_STAND_IN = "\u200b"
"""What :func:`holds_bsn` and :func:`mask_bsn` read a combining mark as: an invisible
character, the zero-width space (one for one: the text read has the positions of the text)."""
_MARKS_AFTER = re.compile(f"(?:{_UNSEEN}(?:{_MARK.pattern}))*")
"""The combining marks on the last digit of a number :func:`mask_bsn` masks, and the invisible
characters between them (``9\ufe0f\u20e3``): they go with it."""
_PERHAPS_UNSEEN = re.compile(f"[{_INVISIBLE_BMP}{_BMP_MARKS}\U00010000-\U0010ffff]")
"""An invisible character or a combining mark of the BMP, or any character beyond the BMP
(where the others are: asked only of a text that has one). A text without one is read as it
stands; one search, a look-up per character."""
_NINE_DIGITS_APART = re.compile(r"(?:\D*+\d){9}")
"""Nine digits, anything between them, matched from the start (one attempt, no backtracking):
a text without them holds no number to find or mask (the one test a text with invisible
characters or combining marks pays, mostly)."""


def _digit_run(n: int, unseen: str) -> str:
    """``n`` digits in a row, with ``unseen`` between each two."""
    return rf"\d(?:{unseen}\d){{{n - 1}}}" if unseen else rf"\d{{{n}}}"


_WHITESPACE = r"\s"
_DASHES = _character_class(sorted([*_CATEGORIES["Pd"], ord("\u2212")]))
"""The hyphen-minus and the dashes counted as one (inside a character class): every character
of Unicode's category Pd (dash punctuation) and the minus sign ``−``. Pd holds the hyphen and
non-breaking hyphen, the figure, en, em, two- and three-em dashes, the horizontal bar, the
small and full-width hyphen-minus and small em dash, the vertical forms of the en and em dash,
the wave and wavy dash ``〜`` ``〰`` and the hyphens of other scripts (Armenian ``֊``, the
Hebrew maqaf ``־``, Mongolian, Canadian syllabics ``᐀``, the Japanese double hyphen ``゠``,
the double oblique hyphen ``⸗`` of Fraktur). Some of the last look like ``=`` to a reader of
Latin script; each is a hyphen to a reader of its own, and no system puts one in an
identifier, so all of Pd is one class rather than a list to keep by hand. Not dashes: the tilde
``~``/``～``, the underscore, box-drawing lines ``─`` and letters that look like a stroke
(``ー``, ``一``)."""
_DASH = f"[{_DASHES}]"
_FULL_STOPS = ".\u2024\ufe52\uff0e"
"""The full stop and the characters that look like one: the one dot leader ``․``, the small
``﹒`` and the full-width full stop ``．`` (inside a character class). Not the ideographic
full stop ``。`` (a circle), the middle dot ``·`` or the comma (below)."""
_FULL_STOP = f"[{_FULL_STOPS}]"
_PRINTED_SEPARATORS = (_FULL_STOP, _WHITESPACE)
"""The classes of separator of the printed spelling: a full stop (:data:`_FULL_STOPS`);
whitespace (any whitespace character: a space, a no-break space, a tab, a thin space, …)."""
_GROUP_SEPARATORS = (_FULL_STOP, _WHITESPACE, _DASH)
"""The classes of separator of the grouped spelling: those of the printed one and a hyphen —
the ASCII hyphen-minus or one of the dashes a word processor or keyboard layout puts in its
place (:data:`_DASHES`: the hyphen and non-breaking hyphen, the figure, en and em dashes, the
minus sign, the small and full-width hyphen-minus, …): ``123–456–782`` is the same number to
the eye.

A spelling holds separators of one class throughout, each of them any character of the class:
``999 990\u00a0111`` (a no-break space for one of the spaces, as Word and web pages put them)
is seen as ``999 990 111``, ``999-990–111`` as ``999-990-111``, ``999.990．111`` as
``999.990.111``. Separators of different classes (``999-990.111``, ``999 990-111``) split the
digits otherwise, as ``123/456/782`` does. The comma is none (the module's docstring)."""
_GROUP_SEPARATOR = f"[{_FULL_STOPS}\\s{_DASHES}]"
"""Any separator of the grouped spelling, of any class, as one character class
(:data:`_SHAPE`)."""


def _spelling(first: int, middle: int, unseen: str, separators: tuple[str, ...]) -> str:
    """``first`` digits, a separator, ``middle`` digits, a separator of the same class and three
    digits, with ``unseen`` between every two of its characters: the two separators of one of
    the classes of ``separators``, each any character of it. The first group is shared by the
    classes (one alternation after it), so a text is read once for each digit it holds."""
    u = unseen
    gaps = "|".join(f"{s}{u}{_digit_run(middle, u)}{u}{s}" for s in separators)
    return rf"{_digit_run(first, u)}{u}(?:{gaps}){u}{_digit_run(3, u)}"


def _printed_spelling(unseen: str = "") -> str:
    """The printed spelling of a nine-digit number: ``dddd.dd.ddd`` or ``dddd dd ddd`` (its
    two separators of one class, :data:`_PRINTED_SEPARATORS`), with ``unseen`` between every
    two of its characters. The one definition of it, for :func:`holds_bsn` and
    :func:`mask_bsn`, which differ only in what may stand next to it (:func:`_on_its_own`)."""
    return _spelling(4, 2, unseen, _PRINTED_SEPARATORS)


def _grouped_spelling(unseen: str = "") -> str:
    """The grouped spelling of a nine-digit number: ``ddd ddd ddd``, ``ddd-ddd-ddd`` or
    ``ddd.ddd.ddd`` (its two separators of one class, :data:`_GROUP_SEPARATORS`), with
    ``unseen`` between every two of its characters, as :func:`_printed_spelling`."""
    return _spelling(3, 3, unseen, _GROUP_SEPARATORS)


def _on_its_own(first: int, middle: int, unseen: str, separators: tuple[str, ...]) -> str:
    """:func:`_spelling` not itself part of a longer group: no digit next to it, nor a
    separator of the class of its own and a digit.

    The first group is read once, whatever the class of the separators after it. Without
    ``unseen`` the class is asked behind the first separator (the width of the first group is
    known there); with ``unseen`` (a run of invisible characters may stand between its
    digits, so its width is not known) the class of a separator and a digit before the
    spelling, if any, is noted first (the group ``before{i}`` of the ``i``-th class) and a
    first separator of that class refused."""
    if unseen:
        u = unseen
        before = "|".join(rf"(?<=\d{s})(?P<before{i}>)" for i, s in enumerate(separators))
        no_separator = rf"(?<!\d(?:{'|'.join(separators)}))"
        gaps = "|".join(
            rf"(?(before{i})(?!)|{s}){u}{_digit_run(middle, u)}{u}{s}{u}{_digit_run(3, u)}"
            rf"(?!{s}?\d)"
            for i, s in enumerate(separators)
        )
        return rf"(?<!\d)(?:{before}|{no_separator}){_digit_run(first, u)}{u}(?:{gaps})"
    gaps = "|".join(
        rf"{s}(?<!\d{s}\d{{{first}}}{s})\d{{{middle}}}{s}\d{{3}}(?!{s}?\d)" for s in separators
    )
    return rf"(?<!\d)\d{{{first}}}(?:{gaps})"


def _spellings(unseen: str = "") -> tuple[str, str, str]:
    """What :func:`holds_bsn` looks for, with ``unseen`` between every two characters of a
    spelling: a maximal run of exactly nine digits, of any script; a printed spelling that is
    not itself part of a longer group (no digit next to it, nor a separator of its class and a
    digit: ``12 3456 78 901``, ``1.9999.90.111``; a space or a full stop alone may stand next
    to it: ``casus 9999 90 111``, ``… 9999.90.111.``, and so may a separator of another class
    and a digit: ``1-9999.90.111``, ``1 9999.90.111``); a grouped spelling that is not itself
    part of a longer group, alike (no digit next to it, nor a separator of its class and a
    digit: ``1-123-456-782``, ``123–456-782-1``, ``10.123.456.782``; a word, a space, a full
    stop or a hyphen alone may stand next to it: ``casus 123-456-782``, ``… 123.456.782.``,
    and a separator of another class and a digit: ``2026-01-05 123.456.782``)."""
    return (
        rf"(?<!\d){_digit_run(9, unseen)}(?!\d)",
        _on_its_own(4, 2, unseen, _PRINTED_SEPARATORS),
        _on_its_own(3, 3, unseen, _GROUP_SEPARATORS),
    )


def _masked(unseen: str = "") -> re.Pattern[str]:
    """For :func:`mask_bsn`: a nine-digit run, or a printed or grouped spelling with no digit
    right next to it (wider than :func:`_spellings`: it may be part of a longer group)."""
    return re.compile(
        "|".join(
            rf"(?<!\d){spelling}(?!\d)"
            for spelling in (
                _digit_run(9, unseen),
                _printed_spelling(unseen),
                _grouped_spelling(unseen),
            )
        )
    )


_DIGIT_RUN, _PRINTED, _GROUPED = (re.compile(spelling) for spelling in _spellings())
"""The spellings of :func:`_spellings` without invisible characters (:data:`_CANDIDATE`)."""
_SPELLINGS = tuple(re.compile(f"(?=(?P<number>{s}))") for s in _spellings())
"""For :func:`holds_bsn` of a text without invisible characters: the spellings of
:func:`_spellings`, each searched on its own and found at every position it begins
(``(?=…)``): two grouped spellings of different classes can share a group (``123 456
111-222-333``: ``123456111`` fails the elfproef, ``111222333`` passes), where
:meth:`re.Pattern.finditer` would give only the first."""
_UNSEEN_SPELLINGS = tuple(re.compile(f"(?=(?P<number>{s}))") for s in _spellings(_UNSEEN))
"""For :func:`holds_bsn` of a text with invisible characters: the spellings with a run of them
allowed within, each found at every position it begins (``(?=…)``): with a run read as absent
one number can overlap another (``1\u200b99999011\u200b1``: ``199999011`` fails the elfproef,
``999990111`` passes), where :meth:`re.Pattern.finditer` would give only the first."""
_MASKED = _masked()
_UNSEEN_MASKED = _masked(_UNSEEN)
"""For :func:`mask_bsn` of a text with invisible characters: :data:`_MASKED` with a run of them
allowed within a spelling; the invisible characters of a masked number go with it."""
_HEX_ID_SHAPES = (
    r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|[0-9a-f]{64}|[0-9a-f]{40}|[0-9a-f]{32})"
)
_RANDOM_TOKEN = re.compile(rf"(?<![0-9A-Za-z]){_HEX_ID_SHAPES}(?![0-9A-Za-z])", re.IGNORECASE)
_UNSEEN_RANDOM_TOKEN = re.compile(
    rf"(?<![0-9A-Za-z])(?<!{_INVISIBLE.pattern})(?P<before>{_UNSEEN})"
    rf"(?P<token>{_HEX_ID_SHAPES})(?!{_UNSEEN}[0-9A-Za-z])",
    re.IGNORECASE,
)
"""For :func:`holds_bsn` of a text with invisible characters: a token shape that stands on its
own when each run of invisible characters next to it is read as absent (with the run before
it, ``before``): read as absent, a run that joins it to a letter or digit makes it part of a
longer word (``x\u200b`` + 32 hexadecimal characters shows 33), whose digits are asked."""
_CANDIDATE = re.compile(f"{_DIGIT_RUN.pattern}|{_PRINTED.pattern}|{_GROUPED.pattern}")
"""What :func:`_bsn_numbers` looks at, in one pass: a text without it holds no BSN (identifiers
and attributes with digits mostly; one search is cheaper than the three that find none)."""
_SHAPE = re.compile(
    rf"\d{{3}}(?:\d{{6}}|{_GROUP_SEPARATOR}\d{{3}}{_GROUP_SEPARATOR}\d"
    rf"|\d[{_FULL_STOPS}\s]\d{{2}}[{_FULL_STOPS}\s]\d)"
)
"""The bare shape of every spelling :data:`_CANDIDATE` looks for, without what it asks of the
neighbours and of the separators: nine digits in a row, ``ddd?ddd?d`` (grouped) or
``dddd?dd?d`` (printed), ``?`` a separator of any class (a candidate's are of one class:
every candidate has this shape, not every text of this shape holds one) and the last group
only begun. A text without it holds no candidate, so it is answered at once: most identifiers
and attributes, also those with digits (dates, times, hexadecimal ids). One search of it costs
a fraction of one of :data:`_CANDIDATE`, whose lookarounds are tried at every position. Of a
text with invisible characters it is asked without them: a number found with runs of them
read as absent stands there, without them, in one piece."""
_NOT_A_DIGIT = re.compile(r"\D")
_HEX_LETTERS = re.compile(r"[a-f]", re.IGNORECASE)
MIN_RANDOM_LETTERS = 4


def _is_random(token: str) -> bool:
    return len(_HEX_LETTERS.findall(token)) >= MIN_RANDOM_LETTERS


def _random_token(match: re.Match[str]) -> str:
    token = match.group(0)
    return "-" if _is_random(token) else token


def _unseen_random_token(match: re.Match[str]) -> str:
    """:func:`_random_token` of a match of :data:`_UNSEEN_RANDOM_TOKEN`: the invisible
    characters before the token stay."""
    return match.group("before") + "-" if _is_random(match.group("token")) else match.group(0)


def holds_bsn(text: str) -> bool:
    """Whether ``text`` (an identifier or attribute) holds a number that could be a BSN.

    Precisely: a maximal run of exactly nine decimal digits — of any script (ASCII, full-width,
    Arabic-Indic, …): a digit of another script still shows the number — that passes the
    elfproef and is not all zeros; or one of the written spellings of such a number, each
    with separators of one class throughout (:data:`_GROUP_SEPARATORS`: whitespace — any
    whitespace character counts as a space —, a dash — the hyphen or any dash, Unicode's
    category Pd, or the minus sign —, or a full stop — or a character that looks like one,
    ``．`` ``﹒`` ``․``; ``999 990\u00a0111``, ``999-990–111`` and ``999.990．111`` are found;
    the comma is none, see the module's docstring):

    - the printed spelling ``dddd.dd.ddd`` / ``dddd dd ddd``, not itself part of a longer
      group of digits (neither a digit nor a separator of its class and a digit right before
      or after it; a word or a full stop alone may stand next to it: ``casus 9999 90 111``);
    - the grouped spelling ``ddd ddd ddd`` / ``ddd-ddd-ddd`` / ``ddd.ddd.ddd`` (``123–456–782``
      too), not itself part of a longer group of digits (neither a digit nor a separator of
      its class and a digit right before or after it: ``1-123-456-782``, ``123-456-782-1``
      and ``10.123.456.782`` are not one; ``casus 123-456-782.`` and
      ``2026-01-05 123.456.782`` are).

    Not a BSN: a longer run that contains nine such digits (a 20-digit OIN, a 10-digit
    number); digits split otherwise (``T-2026-00123``, dates, times, ``123/456/782``,
    separators of different classes ``123.456-782``, ``123 456-782``) — identifiers of that
    shape are common and would be refused one time in eleven; and the digits of a random
    token — a UUID (``8-4-4-4-12`` hex) or a hexadecimal digest of 32, 40 or 64 characters,
    standing on its own and holding at least :data:`MIN_RANDOM_LETTERS` letters ``a``–``f``
    (one in two hundred random UUIDs holds nine digits in a row that pass the elfproef; a
    number padded to that shape holds no letters and is still found).

    Invisible characters (:data:`_INVISIBLE`: a zero-width space, a soft hyphen) do not hide a
    number. Each run of them is read on its own, as absent or as a break, and the text holds a
    number if any such reading does: ``999\u200b990111`` (absent), ``999990111\u200b1`` (a
    break), ``999\u200b990111\u200b1`` (the first absent, the second a break) and
    ``1\u200b-999-990\u00ad-111`` hold one. Digits of a longer run still are no BSN when no
    reading gives nine of them on their own (``99999\u200b01111``: ten, or five and five). A
    random token with an invisible character in it, or with one joining it to a letter or
    digit (``x\u200b`` and 32 hexadecimal characters: 33 as seen), is not taken for one (its
    digits are asked).

    Combining marks (:data:`_MARK`: an accent, a strike-through, the keycap of ``9️⃣``) are
    drawn on the character before them: the digits under them are seen. Each is read as an
    invisible character (absent, or a break as before), so ``9\u03019999011\u03011`` and
    ``9\ufe0f\u20e39\ufe0f\u20e3…`` hold one, ``99999\u030101111`` none (ten digits, or five
    and five); a random token with a mark in it is no random token.

    A character that shows a digit but is no decimal digit (:func:`digits_shown`: superscript
    ``¹²³``, subscript ``₁₂₃``, circled ``①②③``, negative circled ``❶``) is read as the digit
    it shows, and the text is also read as written, where it is none: the text holds a number
    if either reading does. ``¹²³⁴⁵⁶⁷⁸²``, ``⑨⑨⑨-⑨⑨⓪-①①①`` and ``¹²³456782`` (a mix) hold
    one, and so does ``999990111¹`` (a footnote mark after it: ten digits, or nine and a
    mark); ``m²``, ``① … ② …`` and ten superscript digits hold none."""
    if text.isascii():
        return _holds(text)
    if _holds_as_read(text):
        return True
    shown = digits_shown(text)
    return shown is not text and _holds_as_read(shown)


def _holds_as_read(text: str) -> bool:
    """:func:`holds_bsn` of a text that is not ASCII, its characters read as they stand: a
    shown digit (:func:`digits_shown`) as no digit."""
    if _PERHAPS_UNSEEN.search(text) is None:
        return _holds(text)
    if _NINE_DIGITS_APART.match(text) is None:
        return False
    read, marks = _MARK.subn(_STAND_IN, text)
    if not marks and _INVISIBLE.search(text) is None:
        return _holds(text)
    return _holds_unseen(read)


def _holds(text: str) -> bool:
    """:func:`holds_bsn` of ``text`` as it is: every character, invisible or not, read as it
    stands (an invisible one as a non-digit)."""
    if _SHAPE.search(text) is None:  # what every spelling of a nine-digit number holds
        return False
    if _CANDIDATE.search(text) is None:  # no nine digits of any form: nothing to check
        return False
    # the random tokens are taken out only when there is something to find (rarely)
    return _bsn_numbers(text) and _bsn_numbers(_RANDOM_TOKEN.sub(_random_token, text))


def _holds_unseen(text: str) -> bool:
    """:func:`holds_bsn` of a text with invisible characters: each run read as absent or as a
    break (:data:`_UNSEEN`)."""
    if _SHAPE.search(_INVISIBLE.sub("", text)) is None:
        return False
    return _bsn_numbers(text, _UNSEEN_SPELLINGS, "number") and _bsn_numbers(
        _UNSEEN_RANDOM_TOKEN.sub(_unseen_random_token, text), _UNSEEN_SPELLINGS, "number"
    )


def could_be_bsn(digits: str) -> bool:
    """Whether nine digits (of any script) could be a BSN: they pass the elfproef and are not
    all zeros. ``digits`` must be nine decimal digits."""
    return elfproef(digits) and digits.strip("0") != ""


def _bsn_numbers(
    text: str,
    spellings: tuple[re.Pattern[str], ...] = _SPELLINGS,
    group: int | str = "number",
) -> bool:
    """Whether one of ``spellings`` in ``text`` (its ``group``) could be a BSN. A number
    spelled as one before is not asked again (up to :data:`_REFUTED` of them): a long text of
    one pattern (``1\u200b`` a million times) holds the same few over and over."""
    refuted: set[str] = set()
    for pattern in spellings:
        for match in pattern.finditer(text):
            number = match.group(group)
            if number in refuted:
                continue
            if could_be_bsn(_NOT_A_DIGIT.sub("", number)):
                return True
            if len(refuted) < _REFUTED and len(number) <= _REFUTED_CHARS:
                refuted.add(number)
    return False


_REFUTED = 4096
_REFUTED_CHARS = 64
"""How many numbers :func:`_bsn_numbers` remembers as no BSN, at most, and how long a spelling
it remembers (a long run of invisible characters within one is not kept): a few hundred
kilobytes, enough for a text that repeats itself, bounded for one that does not."""


def _digits(match: re.Match[str]) -> str:
    """The digits of a matched spelling, without its separators and invisible characters."""
    return _NOT_A_DIGIT.sub("", match.group(0))


def mask_bsn(text: str) -> str:
    """``text`` with every number that could be a BSN replaced by ``*********``: every
    maximal run of exactly nine digits (of any script), every printed spelling
    ``dddd.dd.ddd`` / ``dddd dd ddd`` and every grouped spelling ``ddd ddd ddd`` /
    ``ddd-ddd-ddd`` / ``ddd.ddd.ddd`` (separators of one class throughout, as
    :func:`holds_bsn` reads them: ``999 990\u00a0111``, ``999-990–111``) with no digit right
    before or after it.

    The elfproef is not asked: masking is the last line of defence of free text (log lines,
    quarantine locations and messages, error headers), where masking a number too many is
    harmless and a BSN too few is not. Everything :func:`holds_bsn` finds is masked
    (``holds_bsn(mask_bsn(text))`` is false for every text); in addition a printed or grouped
    spelling within a longer group of digits (``12 3456 78 901``, ``1-123-456-782``), which
    :func:`holds_bsn` does not take for a BSN in an identifier. Not masked, as in
    :func:`holds_bsn`: a longer run of digits (``1234567890``), digits split otherwise
    (dates, times, ``123/456/782``).

    Inside a random token (a UUID or hexadecimal digest with at least
    :data:`MIN_RANDOM_LETTERS` letters, as :func:`holds_bsn` defines it: a pseudonym, an event
    or dead-letter id) only nine digits that could be a BSN (:func:`could_be_bsn`) are
    masked: the others were masked before, so a log line's pseudonym often could not be found
    again; still masked there, a number that is one stays hidden. A number that only begins
    or ends in a token (``9999.90.111abcd…``) is masked as anywhere else.

    Invisible characters (:data:`_INVISIBLE`) do not hide a number: each run of them is read
    as :func:`holds_bsn` reads it, as absent within a number and as a break next to one. The
    invisible characters within a masked number go with it; the others stay
    (``999\u200b990111\u200b1`` → ``*********\u200b1``).

    Combining marks (:data:`_MARK`) are read as invisible characters, as :func:`holds_bsn`
    reads them. A masked number takes the marks within it and those on its last digit, so
    none of its digits is left to be seen (``9\u03019999\u0301011\u03011.`` →
    ``*********.``); the others stay.

    Characters that show a digit but are no decimal digit (:func:`digits_shown`: ``¹²³``,
    ``₁₂₃``, ``①②③``) are read as :func:`holds_bsn` reads them: as written first (no digit),
    then, in what that leaves, as the digits they show. A number of them, or of them and
    ordinary digits, is masked as a whole (``casus ⑨⑨⑨-⑨⑨⓪-①①①`` → ``casus *********``);
    ``m²``, ``①`` and a footnote mark after a masked number stay (``999990111¹`` →
    ``*********¹``). A text without a number to mask is returned as it is."""
    if text.isascii():
        return _mask(text, _MASKED)
    masked = _mask_as_read(text)
    shown = digits_shown(masked)
    if shown is masked:
        return masked
    return _mask_as_read(masked, shown)


def _mask_as_read(text: str, shown: str | None = None) -> str:
    """:func:`mask_bsn` of a text that is not ASCII, searched in ``shown`` if given (``text``
    with its shown digits read as ASCII digits, :func:`digits_shown`), else in ``text`` as it
    stands (a shown digit is no digit)."""
    read = text if shown is None else shown
    if _PERHAPS_UNSEEN.search(read) is None:
        return _mask(text, _MASKED, shown)
    if _NINE_DIGITS_APART.match(read) is None:
        return text
    read, marks = _MARK.subn(_STAND_IN, read)
    if not marks:
        return _mask(text, _UNSEEN_MASKED, shown)
    return _mask(text, _UNSEEN_MASKED, read)


def _mask(text: str, spellings: re.Pattern[str], read: str | None = None) -> str:
    """:func:`mask_bsn` of ``text`` with ``spellings`` (:data:`_MASKED` or
    :data:`_UNSEEN_MASKED`), searched in ``read`` if given: ``text`` read one character for
    one, each combining mark replaced by :data:`_STAND_IN` and each shown digit
    (:func:`digits_shown`) by the ASCII digit it shows, or either; the marks on a masked
    number's last digit are masked with it."""
    searched = text if read is None else read
    tokens = [m.span() for m in _RANDOM_TOKEN.finditer(searched) if _is_random(m.group(0))]
    if not tokens and read is None:
        return spellings.sub(MASK, text)
    firsts = [first for first, _ in tokens]  # in order, apart: a number is within one at most
    pieces: list[str] = []
    done = 0  # where the text not yet copied begins
    for match in spellings.finditer(searched):
        start, end = match.span()
        at = bisect.bisect_right(firsts, start) - 1  # the last token that begins by ``start``
        if at >= 0 and end <= tokens[at][1] and not could_be_bsn(_digits(match)):
            continue  # inside a random token and no BSN: it stays
        if read is not None:  # a mark is no digit: the next match begins after them
            marks = _MARKS_AFTER.match(text, end)
            assert marks is not None  # ``…*`` matches, if only nothing
            end = marks.end()
        pieces += (text[done:start], MASK)
        done = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)
