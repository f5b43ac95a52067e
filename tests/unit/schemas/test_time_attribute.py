"""The ``time`` attribute of an input event is RFC 3339's ``date-time`` with an offset (what
CloudEvents requires): Python's ``fromisoformat`` accepts more ISO 8601 forms, which would be
published as ``time`` and ``ce_time`` and refused by consumers in other languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.envelope import validate_input
from schemas.exceptions import InvalidEvent
from schemas.pseudonym import Pseudonymiser

PSEUDONYMISER = Pseudonymiser("k")


def event(time: str) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": "wt-1",
        "source": "urn:nld:oin:00000001234567890000:systeem:wijkteam",
        "type": "nl.wijkteams.casussen.geopend",
        "time": time,
        "data": {"bsn": "111222333", "datum": "2026-01-10", "casus_id": "C-1"},
    }


@pytest.mark.parametrize(
    "time",
    [
        "2026-01-10T09:05:00+01:00",
        "2026-01-10T09:05:00Z",
        "2026-01-10T09:05:00.123456-05:30",
    ],
)
def test_rfc3339_times_are_accepted(time: str) -> None:
    assert validate_input(event(time), PSEUDONYMISER).time == time


@pytest.mark.parametrize(
    "time",
    [
        "20260110T090500+0100",  # ISO 8601 basic format
        "2026-W02-6T09:05:00+01:00",  # week date
        "2026-01-10T09+01:00",  # hour only
        "2026-01-10T09:05+01:00",  # no seconds
        "2026-01-10T09:05:00,5+01:00",  # decimal comma
        "2026-01-10T09:05:00+01:00:30",  # offset with seconds
        "2026-01-10T09:05:00+0100",  # offset without colon
        "2026-01-10 09:05:00+01:00",  # a space for T
        "2026-01-10T09:05:00",  # no offset
        "２０２６-01-10T09:05:00+01:00",  # full-width digits
        "2026-02-30T09:05:00+01:00",  # the shape, no such day
        "2026-01-10t09:05:00z",  # RFC 3339 allows lower case; Python 3.11 cannot read it
    ],
)
def test_other_iso_8601_forms_are_refused(time: str) -> None:
    with pytest.raises(InvalidEvent) as refused:
        validate_input(event(time), PSEUDONYMISER)
    assert (refused.value.field, refused.value.reason) == ("time", "bad-time")


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(-14 * 60, 14 * 60),
)
def test_every_instant_in_rfc3339_is_accepted(moment: datetime, minutes: int) -> None:
    offset = timezone(timedelta(minutes=minutes))
    time = moment.astimezone(offset).isoformat()
    assert validate_input(event(time), PSEUDONYMISER).time == time


@pytest.mark.parametrize(
    "time",
    [
        "0001-01-01T00:00:00+14:00",  # year 0 in UTC
        "0001-01-01T00:00:00.5+00:01",
        "9999-12-31T23:59:59-23:59",  # year 10000 in UTC
        "9999-12-31T23:00:00-01:00",
    ],
)
def test_a_time_whose_instant_python_cannot_hold_in_utc_is_refused(time: str) -> None:
    """Review (ingest) item 3: RFC 3339 with an offset, but the instant lies before year 1 or
    after year 9999 in UTC; ordering events by it (``TimelineEvent.sort_key``) or converting
    it to UTC would overflow, so it is ``bad-time`` like any other unreadable time."""
    with pytest.raises(InvalidEvent) as refused:
        validate_input(event(time), PSEUDONYMISER)
    assert (refused.value.field, refused.value.reason) == ("time", "bad-time")


@pytest.mark.parametrize("time", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59+00:00"])
def test_the_first_and_last_instants_in_utc_are_accepted(time: str) -> None:
    assert validate_input(event(time), PSEUDONYMISER).time == time
