"""Record versions of iWmo products (pure functions): record keys as the standard's uniqueness
rules have them, ``sequence`` whose string order is the order of versions, deletions, and
ToewijzingNummer as a number."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.iwmo.versions import (
    Place,
    allocation_version,
    message_sequence,
    published_nummer,
    start_version,
    stop_version,
    toewijzing_nummer,
    toewijzingstijd,
)
from schemas.pseudonym import Pseudonymiser, could_be_bsn, holds_bsn

BSN = "999990019"


def place(
    nummer: str = "101", *, day: str = "2026-01-08", ident: str = "M1", pos: int = 1
) -> Place:
    return Place("0363", nummer, day, ident, pos)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("101", "101"),
        ("000101", "101"),
        (" 000101\n", "101"),
        ("+101", "101"),
        ("0", "0"),
        ("000", "0"),
        ("999999999", "999999999"),
        ("0999999999", "999999999"),
        ("1000000000", None),
        ("-1", None),
        ("-0", "0"),
        ("1.0", None),
        ("1e3", None),
        ("", None),
        ("12 3", None),
        ("١٢٣", None),  # Arabic-Indic digits are not xs:integer
    ],
)
def test_toewijzing_nummer_is_compared_as_a_number(text: str, number: str | None) -> None:
    assert toewijzing_nummer(text) == number


@given(st.integers(min_value=0, max_value=999_999_999), st.integers(min_value=0, max_value=6))
def test_leading_zeros_never_make_another_allocation(number: int, zeros: int) -> None:
    assert toewijzing_nummer("0" * zeros + str(number)) == str(number)


PSEUDONYMISER = Pseudonymiser("versions-test")


@pytest.mark.parametrize(
    "nummer", ["0", "101", "25000412", "99999999", "100000000", "202600003", "999999999"]
)
def test_a_toewijzing_nummer_that_cannot_be_a_bsn_is_published_as_it_is(nummer: str) -> None:
    assert published_nummer(nummer, PSEUDONYMISER) == nummer


@given(st.integers(min_value=100_000_000, max_value=999_999_999))
def test_a_nine_digit_toewijzing_nummer_is_published_as_a_token_exactly_if_it_could_be_a_bsn(
    number: int,
) -> None:
    nummer = str(number)
    published = published_nummer(nummer, PSEUDONYMISER)
    if not could_be_bsn(nummer):
        assert published == nummer
        return
    assert published == "tw-" + PSEUDONYMISER.token("toewijzing", nummer)
    # not the pseudonym of a citizen whose BSN is that number
    assert published.removeprefix("tw-") != PSEUDONYMISER(nummer)
    key = start_version(place(published), begindatum="2026-01-10", status="1").bronsleutel
    assert not holds_bsn(published) and not holds_bsn(key)


@given(
    st.sampled_from(["", "+", "-", " "]),
    st.integers(min_value=0, max_value=5000),
    st.text("0123456789", min_size=1, max_size=12),
    st.integers(min_value=1, max_value=600),
)
def test_a_toewijzing_nummer_of_any_length_is_a_number_or_none(
    sign: str, zeros: int, digits: str, times: int
) -> None:
    """Review B1: 4,301 digits raised ``ValueError`` from ``int()``, which stopped the iWmo
    adapter on every run. Any run of digits — leading zeros as many as xs:integer allows —
    is the number it is if that fits LDT_Nummer, else ``None``; nothing is raised."""
    text = sign + "0" * zeros + digits * times
    significant = (digits * times).lstrip("0") or "0"
    fits = len(significant) <= 9 and (sign != "-" or significant == "0")
    assert toewijzing_nummer(text) == (significant if fits else None)


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("12:34:56", "12:34:56.000000"),
        ("12:34:56.5", "12:34:56.500000"),
        ("12:34:56.1234567", "12:34:56.123456"),
        ("00:00:00", "00:00:00.000000"),
        ("12:34", None),
        ("12:60:00", None),
        ("25:00:00", None),
        ("12:34:56Z", None),
        ("12:34:56+01:00", None),
    ],
)
def test_toewijzingstijd_is_fixed_width(text: str, fixed: str | None) -> None:
    assert toewijzingstijd(text) == fixed


def test_message_sequence_is_zero_padded_and_bounded() -> None:
    assert message_sequence("2026-01-08", "M1", 3) == "2026-01-08/0000000000M1/000003"
    assert message_sequence("2026-01-08", "123456789012", 1).count("/") == 2
    with pytest.raises(ValueError, match="identificatie"):
        message_sequence("2026-01-08", "1234567890123", 1)
    with pytest.raises(ValueError, match="position"):
        message_sequence("2026-01-08", "M1", 0)


idents = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-", min_size=1, max_size=12)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(days, days, st.integers(1, 999), st.integers(1, 999), idents)
def test_later_dagtekening_or_position_is_a_later_sequence(
    d1: date, d2: date, p1: int, p2: int, ident: str
) -> None:
    a = message_sequence(d1.isoformat(), ident, p1)
    b = message_sequence(d2.isoformat(), ident, p2)
    assert (a < b) == ((d1, p1) < (d2, p2))
    assert len(a) == len(b)


@given(st.integers(0, 10**12 - 1), st.integers(0, 10**12 - 1))
def test_numeric_identificaties_order_as_numbers(n1: int, n2: int) -> None:
    a = message_sequence("2026-01-08", str(n1), 1)
    b = message_sequence("2026-01-08", str(n2), 1)
    assert (a < b) == (n1 < n2)


def test_start_key_is_nummer_and_begindatum_status_3_is_a_deletion() -> None:
    first = start_version(place(), begindatum="2026-01-10", status="1")
    assert first.bronsleutel == "iwmo:wmo305:0363:101:2026-01-10"
    assert not first.deletion
    correction = start_version(place(day="2026-01-09"), begindatum="2026-01-10", status="2")
    withdrawal = start_version(place(day="2026-01-10"), begindatum="2026-01-10", status="3")
    assert correction.bronsleutel == withdrawal.bronsleutel == first.bronsleutel
    assert first.sequence < correction.sequence < withdrawal.sequence
    assert withdrawal.deletion
    assert not start_version(place(), begindatum="2026-01-10", status="9").deletion
    other_start = start_version(place(), begindatum="2026-03-01", status="1")
    assert other_start.bronsleutel != first.bronsleutel  # a restart after a pause


def test_a_temporary_and_a_definitive_stop_of_one_start_are_two_records() -> None:
    tijdelijk = stop_version(place(), begindatum="2026-01-10", reden_beeindiging="20", status="1")
    definitief = stop_version(
        place(pos=2), begindatum="2026-01-10", reden_beeindiging="19", status="1"
    )
    andere_reden = stop_version(
        place(day="2026-02-01"), begindatum="2026-01-10", reden_beeindiging="23", status="2"
    )
    assert tijdelijk.bronsleutel == "iwmo:wmo307:0363:101:2026-01-10:tijdelijk"
    assert definitief.bronsleutel == "iwmo:wmo307:0363:101:2026-01-10:definitief"
    assert andere_reden.bronsleutel == definitief.bronsleutel  # a correction of the reason


def test_a_deletion_and_its_replacement_in_one_message_the_later_wins() -> None:
    deleted = start_version(place(pos=1), begindatum="2026-01-10", status="3")
    replaced = start_version(place(pos=2), begindatum="2026-01-10", status="1")
    assert deleted.bronsleutel == replaced.bronsleutel
    assert deleted.sequence < replaced.sequence
    assert max([replaced, deleted], key=lambda v: v.sequence) is replaced


def allocation(
    *,
    datum: str = "2026-01-08",
    tijd: str = "09:00:00.000000",
    ingang: str = "2026-01-10",
    eind: str | None = None,
    reden: str | None = None,
    day: str = "2026-01-08",
    nummer: str = "101",
) -> tuple[str, str, bool]:
    version = allocation_version(
        place(nummer, day=day),
        toewijzingsdatum=datum,
        toewijzingstijd=tijd,
        ingangsdatum=ingang,
        einddatum=eind,
        reden_wijziging=reden,
    )
    return version.bronsleutel, version.sequence, version.deletion


def test_allocations_are_versioned_by_nummer_ordered_by_toewijzingsdatum_and_tijd() -> None:
    key, morning, _ = allocation(tijd="09:00:00.000000")
    _, afternoon, _ = allocation(tijd="14:00:00.000000")
    _, next_day, _ = allocation(datum="2026-01-09", tijd="08:00:00.000000", day="2026-01-01")
    assert key == "iwmo:wmo301:0363:101"
    assert morning < afternoon < next_day  # the Toewijzingsdatum decides before the Dagtekening
    _, sent_later, _ = allocation(tijd="09:00:00.000000", day="2026-01-09")
    assert morning < sent_later  # same moment: then Dagtekening + Identificatie


@pytest.mark.parametrize(
    ("reden", "eind", "deletion"),
    [
        ("13", "2026-01-10", True),
        ("01", "2026-01-10", True),
        ("13", "2026-01-11", False),  # withdrawn later on: a shortened allocation
        ("05", "2026-01-10", False),  # verkorting to a one-day allocation is one
        (None, "2026-01-10", False),
        ("13", None, False),
    ],
)
def test_an_allocation_withdrawn_from_its_first_day_is_a_deletion(
    reden: str | None, eind: str | None, deletion: bool
) -> None:
    assert allocation(reden=reden, eind=eind)[2] is deletion


@given(
    st.text(alphabet="0123456789", min_size=1, max_size=9),
    st.sampled_from(["0363", "9999"]),
    days,
    st.sampled_from(["19", "20", "23"]),
)
def test_no_key_holds_a_bsn_or_other_client_data(
    nummer: str, gemeente: str, day: date, reden: str
) -> None:
    normalised = toewijzing_nummer(nummer)
    assert normalised is not None
    at = Place(gemeente, normalised, day.isoformat(), "M1", 1)
    keys = [
        start_version(at, begindatum=day.isoformat(), status="1").bronsleutel,
        stop_version(
            at, begindatum=day.isoformat(), reden_beeindiging=reden, status="1"
        ).bronsleutel,
        allocation_version(
            at,
            toewijzingsdatum=day.isoformat(),
            toewijzingstijd="09:00:00.000000",
            ingangsdatum=(day + timedelta(days=1)).isoformat(),
            einddatum=None,
            reden_wijziging=None,
        ).bronsleutel,
    ]
    for key in keys:
        # kind, gemeentecode, ToewijzingNummer, dates and the stop kind: nothing else
        assert re.fullmatch(
            r"iwmo:wmo30[157]:\d{4}:\d{1,9}(:\d{4}-\d{2}-\d{2}(:(tijdelijk|definitief))?)?", key
        ), key
        assert BSN not in key
