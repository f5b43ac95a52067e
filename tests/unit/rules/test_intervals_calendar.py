"""Interval algebra and working-day arithmetic."""

from __future__ import annotations

from datetime import date

import pytest

from streams.rules import Period, add_working_days
from streams.rules import intervals as iv


def test_normalize_merges_overlapping_and_adjacent_runs() -> None:
    assert iv.normalize([(6, 9), (1, 5), (12, 11), (20, 30), (25, 26)]) == ((1, 9), (20, 30))


def test_intersect_union_complement() -> None:
    a = ((1, 10), (20, 30))
    b = ((5, 25),)
    assert iv.intersect(a, b) == ((5, 10), (20, 25))
    assert iv.union(a, b) == ((1, 30),)
    assert iv.complement(a, 0, 40) == ((0, 0), (11, 19), (31, 40))
    assert iv.complement((), 3) == ((3, iv.INF),)
    assert iv.complement(((1, iv.INF),), 1) == ()


def test_at_least_counts_overlaps() -> None:
    parts = [((1, 10),), ((5, 15),), ((8, 20),), ((30, 40),)]
    assert iv.at_least(parts, 2) == ((5, 15),)
    assert iv.at_least(parts, 3) == ((8, 10),)
    assert iv.at_least(parts, 1) == ((1, 20), (30, 40))
    assert iv.at_least(parts, 4) == ()


def test_lookups() -> None:
    a = ((1, 10), (20, iv.INF))
    assert iv.find(a, 10) == (1, 10)
    assert iv.find(a, 11) is None
    assert iv.first_on_or_after(a, 11) == 20
    assert iv.first_on_or_after(((1, 3),), 4) is None
    assert iv.first_off_on_or_after(a, 5) == 11
    assert iv.first_off_on_or_after(a, 25) is None
    assert iv.first_off_on_or_after(a, 15) == 15


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        ("2026-01-09", 3, "2026-01-14"),  # Friday → next Wednesday (across a weekend)
        ("2026-01-05", 3, "2026-01-08"),  # Monday → Thursday (weekdays only)
        ("2026-01-10", 3, "2026-01-14"),  # Saturday → Wednesday
        ("2026-01-11", 1, "2026-01-12"),  # Sunday → Monday
        ("2026-01-09", 5, "2026-01-16"),  # Friday → next Friday
        ("2026-01-10", 5, "2026-01-16"),  # Saturday → Friday
        ("2026-01-07", 10, "2026-01-21"),
        ("2026-01-07", 0, "2026-01-07"),
    ],
)
def test_add_working_days(start: str, count: int, expected: str) -> None:
    assert add_working_days(date.fromisoformat(start), count) == date.fromisoformat(expected)


def test_add_working_days_matches_counting_day_by_day() -> None:
    for offset in range(14):
        start = date(2026, 3, 1 + offset)
        for count in range(12):
            day, left = start, count
            while left:
                day = date.fromordinal(day.toordinal() + 1)
                if day.weekday() < 5:
                    left -= 1
            assert add_working_days(start, count) == day


def test_period_deadline_and_text() -> None:
    assert Period(56).deadline(date(2026, 1, 10)) == date(2026, 3, 7)
    assert Period(3, working_days=True).deadline(date(2026, 1, 9)) == date(2026, 1, 14)
    assert Period(56).describe() == "56 dagen"
    assert Period(3, working_days=True).describe() == "3 werkdagen"
    assert Period(1, working_days=True).describe() == "1 werkdag"
