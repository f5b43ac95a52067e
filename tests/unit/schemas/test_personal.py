"""Personal data other than the BSN in identifiers (:mod:`schemas.personal`): e-mail addresses
and IBANs are found wherever they stand on their own in an identifier; the identifiers
Schakel and its sources write are not taken for them."""

from __future__ import annotations

import re
import string

from hypothesis import given
from hypothesis import strategies as st

from adapters.base import derive_id
from schemas.personal import BBAN, EMAIL, IBAN, personal_data_in
from schemas.pseudonym import Pseudonymiser, pseudonym

PUBLISHED_EXAMPLES = {
    "NL": "NL91ABNA0417164300",
    "BE": "BE68539007547034",
    "DE": "DE89370400440532013000",
    "LU": "LU280019400644750000",
    "FR": "FR1420041010050500013M02606",
    "GB": "GB29NWBK60161331926819",
    "IE": "IE29AIBK93115212345678",
    "AT": "AT611904300234573201",
    "CH": "CH9300762011623852957",
    "ES": "ES9121000418450200051332",
    "IT": "IT60X0542811101000000123456",
    "PT": "PT50000201231234567890154",
    "PL": "PL61109010140000071219812874",
    "DK": "DK5000400440116243",
    "SE": "SE4550000000058398257466",
    "NO": "NO9386011117947",
    "FI": "FI2112345600000785",
}
"""The example IBAN each country's registry entry (ISO 13616) publishes: written out here,
independent of the check-digit code under test."""


def test_every_country_has_a_published_example_and_each_is_found() -> None:
    assert set(PUBLISHED_EXAMPLES) == set(BBAN)
    for country, iban in PUBLISHED_EXAMPLES.items():
        assert len(iban) == BBAN[country][0], country
        assert personal_data_in(iban) == IBAN, country


def test_a_wrong_check_digit_or_length_is_no_iban() -> None:
    """Mod 97 catches every single changed character, so an identifier one character away
    from an IBAN is not taken for one; nor is an IBAN one character short or long."""
    for iban in PUBLISHED_EXAMPLES.values():
        for at in range(2, len(iban)):
            for other in "0123456789" if iban[at].isdigit() else "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
                if other != iban[at]:
                    changed = iban[:at] + other + iban[at + 1 :]
                    assert personal_data_in(changed) is None, changed
        assert personal_data_in(iban[:-1]) is None
        assert personal_data_in(iban + "0") is None


def _alphanumeric(pattern: str) -> st.SearchStrategy[str]:
    return st.from_regex(re.compile(pattern), fullmatch=True)


@st.composite
def ibans(draw: st.DrawFn) -> str:
    """A valid IBAN of a country of :data:`BBAN`, check digits computed from its account
    number (ISO 7064 mod 97-10)."""
    country = draw(st.sampled_from(sorted(BBAN)))
    bban = draw(_alphanumeric(BBAN[country][1]))
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def _printed(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


_SEPARATOR = st.sampled_from(["-", "_", "/", " ", ":", "."])
_WORD = st.text(string.ascii_letters + string.digits, min_size=0, max_size=12)


@st.composite
def written(draw: st.DrawFn) -> str:
    """A valid IBAN as a source may write it: upper or lower case, compact or in groups of
    four, alone or between words and separators."""
    iban = draw(ibans())
    text = _printed(iban) if draw(st.booleans()) else iban
    text = text.lower() if draw(st.booleans()) else text
    before, after = draw(_WORD), draw(_WORD)
    if before:
        text = before + draw(_SEPARATOR) + text
    if after:
        text = text + draw(_SEPARATOR) + after
    return text


@given(written())
def test_an_iban_in_an_identifier_is_found_however_it_is_written(identifier: str) -> None:
    assert personal_data_in(identifier) == IBAN


@given(ibans(), st.text(string.ascii_letters + string.digits, min_size=1, max_size=3))
def test_an_iban_inside_a_longer_run_of_letters_and_digits_is_not_taken(
    iban: str, glued: str
) -> None:
    """The documented limit: only an IBAN that stands on its own (not glued to letters or
    digits) is looked for, so that long identifiers are not searched for one in every
    position (one in 97 of those would pass the check digits)."""
    assert personal_data_in(iban + glued) is None
    assert personal_data_in(glued + "x" + iban) is None


_LOCAL = st.from_regex(re.compile(r"[a-z0-9][a-z0-9._%+-]{0,15}"), fullmatch=True)
_DOMAIN = st.from_regex(re.compile(r"[a-z0-9-]{1,12}(\.[a-z0-9-]{1,12}){0,2}"), fullmatch=True)
_TLD = st.sampled_from(["nl", "com", "amsterdam", "frl", "org", "de"])


@given(_LOCAL, _DOMAIN, _TLD, _WORD, _SEPARATOR)
def test_an_email_address_in_an_identifier_is_found(
    local: str, domain: str, tld: str, before: str, sep: str
) -> None:
    identifier = f"{before}{sep}{local}@{domain}.{tld}"
    assert personal_data_in(identifier) == EMAIL


def test_what_is_no_email_address() -> None:
    for text in ("user@host", "@gemeente.nl", "a@b.c", "casus@2026", "T-2026-00123@"):
        assert personal_data_in(text) is None, text


KEY = Pseudonymiser("k")


@given(st.text(max_size=40), st.sampled_from(["toewijzing", "bronsleutel", "identificatie"]))
def test_the_identifiers_schakel_writes_are_not_taken_for_personal_data(
    value: str, kind: str
) -> None:
    """Event ids derived by adapters, keyed tokens, pseudonyms: hexadecimal digests."""
    assert personal_data_in(derive_id("urn:bron", value)) is None
    assert personal_data_in("bk-" + KEY.token(kind, value)) is None
    assert personal_data_in(pseudonym("999990111", value or "k")) is None


@given(st.integers(min_value=0, max_value=10**20), st.sampled_from([10, 12, 20]))
def test_zero_padded_sequences_and_numbers_are_not_taken_for_personal_data(
    number: int, width: int
) -> None:
    assert personal_data_in(str(number).zfill(width)) is None


def test_common_identifiers_are_not_taken_for_personal_data() -> None:
    for text in (
        "T-2026-00123",
        "C-1",
        "casus-4711",
        "urn:nld:oin:00000001234567890000:systeem:wijkteam",
        "2026-01-10T09:30:00+01:00",
        "8f14e45f-ceea-167a-5a36-dedd4bea2543",
        "VS-2026-000123",
        "NL-2026-00001234",
        "BE-aanvraag-2026",
    ):
        assert personal_data_in(text) is None, text


_EMAIL_AS_SPECIFIED = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
"""The module docstring's e-mail address as one regular expression (what the search was)."""


@given(st.text(alphabet="xé1.%+-_@ \u00e9", max_size=40))
def test_the_email_search_finds_exactly_what_the_one_expression_finds(text: str) -> None:
    found = personal_data_in(text) == EMAIL
    assert found == (_EMAIL_AS_SPECIFIED.search(text) is not None) or (
        personal_data_in(text) == IBAN  # not in this alphabet: an IBAN needs A-Z and digits
    )


def test_a_long_run_before_an_at_sign_is_searched_in_linear_time() -> None:
    """A review found a dead letter of 900,000 characters taking most of an hour (the one
    expression tried every start in the run and read the rest of it from each): over the
    suite's timeout before, a fraction of a second now."""
    run = "x" * 900_000
    assert personal_data_in(run + "@") is None
    assert personal_data_in(run + "@example.nl") == EMAIL
    assert personal_data_in(("x" * 63 + "@") * 20_000) is None
