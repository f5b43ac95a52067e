"""Periods of a rule: calendar days or working days (Monday–Friday).

Public holidays are not special (``rules.md``). A period never counts its start day: a
signal on a Friday with a period of 3 working days has its deadline on the next Wednesday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

_SATURDAY = 5


def add_working_days(start: date, count: int) -> date:
    """The ``count``-th working day (Mon–Fri) after ``start``, not counting ``start`` itself.

    ``count == 0`` returns ``start``. Runs in constant time for any ``count``.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if count == 0:
        return start
    weekday = start.weekday()
    # Counting working days from a Saturday or Sunday is counting them from the Friday before.
    base = start - timedelta(days=weekday - 4) if weekday >= _SATURDAY else start
    weeks, rest = divmod(count, 5)
    result = base + timedelta(days=7 * weeks)
    while rest:
        result += timedelta(days=1)
        if result.weekday() < _SATURDAY:
            rest -= 1
    return result


@dataclass(frozen=True, slots=True)
class Period:
    """A rule's period: ``count`` calendar days, or ``count`` working days."""

    count: int
    working_days: bool = False

    def deadline(self, sinds: date) -> date:
        """``sinds`` + this period (the ``termijn`` of ``rules.md``)."""
        if self.working_days:
            return add_working_days(sinds, self.count)
        return sinds + timedelta(days=self.count)

    def describe(self) -> str:
        """Dutch text such as ``56 dagen`` or ``3 werkdagen``."""
        if self.working_days:
            return f"{self.count} werkdag" if self.count == 1 else f"{self.count} werkdagen"
        return f"{self.count} dag" if self.count == 1 else f"{self.count} dagen"
