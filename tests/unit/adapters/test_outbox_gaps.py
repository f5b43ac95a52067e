"""adapters/outbox_gaps.py: the gaps the outbox adapter passed, watched for late rows (the
rows themselves, against PostgreSQL: tests/integration/adapters/test_outbox.py)."""

from __future__ import annotations

import json
import logging

import pytest

from adapters import outbox_gaps
from adapters.outbox import OutboxSource
from adapters.outbox_gaps import MAX_GAPS, WATCH_S, WatchedGaps
from schemas.pseudonym import Pseudonymiser


def test_a_row_found_splits_its_gap_and_the_rest_stays_watched() -> None:
    watched = WatchedGaps().passed(3, 7, now=100.0).passed(10, 10, now=200.0)
    assert watched.bounds() == ([3, 10], [7, 10])
    watched = watched.found(5)
    assert watched.gaps == ((3, 4, 100.0), (6, 7, 100.0), (10, 10, 200.0))
    assert watched.found(10).found(3).found(4).gaps == ((6, 7, 100.0),)
    assert WatchedGaps().found(1).gaps == ()


def test_the_cursor_form_loads_back_and_survives_json() -> None:
    watched = WatchedGaps().passed(3, 7, now=100.5)
    stored = json.loads(json.dumps({"gaps": watched.cursor()}))["gaps"]
    assert WatchedGaps.load(stored, now=101.0) == watched
    assert WatchedGaps.load(None, now=0.0).gaps == ()  # a cursor of before: no gaps


def test_a_gap_watched_long_enough_is_given_up_and_logged(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_gaps, "_LOGGED", set())
    stored = [[3, 7, 0.0], [9, 9, 10.0]]
    caplog.set_level(logging.WARNING, logger="schakel.adapters")
    assert WatchedGaps.load(stored, now=WATCH_S + 5.0).gaps == ((9, 9, 10.0),)
    assert [r.getMessage() for r in caplog.records] == ["adapter.outbox_gap_given_up"]
    assert caplog.records[0].first_id == 3  # type: ignore[attr-defined]


def test_at_most_max_gaps_are_watched_the_oldest_given_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbox_gaps, "_LOGGED", set())
    watched = WatchedGaps()
    for n in range(MAX_GAPS + 2):
        watched = watched.passed(2 * n, 2 * n, now=float(n))
    assert len(watched.gaps) == MAX_GAPS
    assert watched.gaps[0] == (4, 4, 2.0)


def test_a_gap_is_passed_when_exactly_its_grace_period_has_gone_by() -> None:
    """``gap_grace_s`` is how long a gap is waited for: passed at that moment, not one tick
    later (review G, L3: the integration tests use a grace of 0 and the real clock). Also:
    the next id, or an id below the settled high-water mark, passes at once."""
    now = [100.0]
    source = OutboxSource(
        "postgresql://outbox@db/x",  # never connected here
        pseudonymiser=Pseudonymiser("k"),
        gap_grace_s=60.0,
        clock=lambda: now[0],
    )
    assert source._gap_passable(10, 11, settled=0)  # no gap
    assert source._gap_passable(10, 12, settled=12)  # settled: the id 11 was rolled back
    assert not source._gap_passable(10, 12, settled=0)  # first seen at 100
    now[0] = 159.999
    assert not source._gap_passable(10, 12, settled=0)
    now[0] = 160.0
    assert source._gap_passable(10, 12, settled=0)
    assert not source._gap_passable(10, 12, settled=0)  # passed: a new gap's wait begins
