"""Sets of days as sorted tuples of inclusive day intervals (date ordinals).

Every derived state of ``rules.md`` is a set of days. Representing it as a handful of
``(first, last)`` ordinal pairs lets the engine intersect, unite and count states over years of
history in time proportional to the number of *changes*, never to the number of days.

An :data:`Intervals` value is always *normalised*: sorted, every interval non-empty, and no two
intervals overlapping or adjacent (``[1, 5]`` and ``[6, 9]`` are stored as ``[1, 9]``), so each
interval is a maximal run of consecutive days. ``last == INF`` means "open-ended".
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Final

INF: Final = 100_000_000
"""An ordinal past every real date: a state ending on ``INF`` has no known end."""

Interval = tuple[int, int]
Intervals = tuple[Interval, ...]
EMPTY: Final[Intervals] = ()


def normalize(intervals: Iterable[Interval]) -> Intervals:
    """Sort, drop empty intervals and merge overlapping or adjacent ones."""
    ordered = sorted(iv for iv in intervals if iv[0] <= iv[1])
    if not ordered:
        return EMPTY
    merged: list[Interval] = [ordered[0]]
    for first, last in ordered[1:]:
        prev_first, prev_last = merged[-1]
        if first <= prev_last + 1:
            if last > prev_last:
                merged[-1] = (prev_first, last)
        else:
            merged.append((first, last))
    return tuple(merged)


def union(*parts: Intervals) -> Intervals:
    """The days in any of ``parts``."""
    non_empty = [p for p in parts if p]
    if len(non_empty) <= 1:
        return non_empty[0] if non_empty else EMPTY
    return normalize(iv for part in non_empty for iv in part)


def intersect(a: Intervals, b: Intervals) -> Intervals:
    """The days in both ``a`` and ``b`` (linear two-pointer sweep)."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        first = max(a[i][0], b[j][0])
        last = min(a[i][1], b[j][1])
        if first <= last:
            out.append((first, last))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def complement(a: Intervals, lo: int, hi: int = INF) -> Intervals:
    """The days of ``[lo, hi]`` that are not in ``a``."""
    out: list[Interval] = []
    cursor = lo
    for first, last in a:
        if last < cursor:
            continue
        if first > hi:
            break
        if first > cursor:
            out.append((cursor, first - 1))
        cursor = last + 1
    if cursor <= hi:
        out.append((cursor, hi))
    return tuple(out)


def at_least(parts: Sequence[Intervals], minimum: int) -> Intervals:
    """The days on which at least ``minimum`` of ``parts`` hold (sweep over change points)."""
    if minimum <= 0:
        raise ValueError("minimum must be positive")
    delta: dict[int, int] = {}
    for part in parts:
        for first, last in part:
            delta[first] = delta.get(first, 0) + 1
            delta[last + 1] = delta.get(last + 1, 0) - 1
    out: list[Interval] = []
    count = 0
    start = 0
    for day in sorted(delta):
        before = count
        count += delta[day]
        if before < minimum <= count:
            start = day
        elif count < minimum <= before:
            out.append((start, day - 1))
    return normalize(out)


def find(a: Intervals, day: int) -> Interval | None:
    """The interval (maximal run) of ``a`` that contains ``day``, if any."""
    index = bisect_right(a, (day, INF + 1)) - 1
    if index >= 0 and a[index][1] >= day:
        return a[index]
    return None


def holds(a: Intervals, day: int) -> bool:
    """Whether ``day`` is in ``a``."""
    return find(a, day) is not None


def first_on_or_after(a: Intervals, day: int) -> int | None:
    """The first day ``>= day`` that is in ``a``, or ``None``."""
    run = find(a, day)
    if run is not None:
        return day
    index = bisect_right(a, (day, INF + 1))
    return a[index][0] if index < len(a) else None


def first_off_on_or_after(a: Intervals, day: int) -> int | None:
    """The first day ``>= day`` that is *not* in ``a``; ``None`` if ``a`` holds from ``day`` on
    without end."""
    run = find(a, day)
    if run is None:
        return day
    return None if run[1] >= INF else run[1] + 1
