"""Signal lifecycle: only differences are emitted, with deterministic ids."""

from __future__ import annotations

from datetime import date

from streams.model import Signal
from streams.signals import EmittedSignal, diff_signals

D = date(2026, 3, 1)


def sig(
    status: str = "open", opgelost_op: date | None = None, sleutel: str = "2026-01-10"
) -> Signal:
    return Signal(
        regel="r",
        subject="s",
        sleutel=sleutel,
        sinds=date(2026, 1, 10),
        termijn=date(2026, 3, 7),
        status=status,  # type: ignore[arg-type]
        opgelost_op=opgelost_op,
        bewijs=("a",),
        uitleg="u",
        reden="x",
    )


def run(
    told: dict[tuple[str, str], EmittedSignal], current: list[Signal], revisions: dict[str, int]
) -> list[str]:
    changes = diff_signals("s", told, current, clock=D, trigger="t", revisions=revisions)
    return [c.kind for c in changes]


def test_lifecycle() -> None:
    told: dict[tuple[str, str], EmittedSignal] = {}
    revisions: dict[str, int] = {}
    assert run(told, [sig()], revisions) == ["gesignaleerd"]
    assert run(told, [sig()], revisions) == []  # nothing changed: nothing emitted
    assert run(told, [sig("opgelost", date(2026, 4, 1))], revisions) == ["opgelost"]
    assert run(told, [sig("opgelost", date(2026, 4, 1))], revisions) == []
    assert run(told, [sig("opgelost", date(2026, 3, 20))], revisions) == ["opgelost"]
    assert run(told, [], revisions) == ["ingetrokken"]
    assert told[("r", "2026-01-10")].status == "ingetrokken"
    assert run(told, [], revisions) == []


def test_new_and_already_resolved_emits_both() -> None:
    assert run({}, [sig("opgelost", date(2026, 4, 1))], {}) == ["gesignaleerd", "opgelost"]


def test_ids_are_deterministic_and_distinct_per_kind() -> None:
    first = diff_signals(
        "s", {}, [sig("opgelost", date(2026, 4, 1))], clock=D, trigger="t", revisions={}
    )
    again = diff_signals(
        "s", {}, [sig("opgelost", date(2026, 4, 1))], clock=D, trigger="t", revisions={}
    )
    assert [c.event_id for c in first] == [c.event_id for c in again]
    assert first[0].event_id != first[1].event_id


def moved(sinds: date, termijn: date, status: str = "open") -> Signal:
    """The R3 signal of ``signaal_id`` S1 (its identity) with these days."""
    return Signal(
        regel="r3",
        subject="s",
        sleutel="S1",
        sinds=sinds,
        termijn=termijn,
        status=status,  # type: ignore[arg-type]
        opgelost_op=date(2026, 4, 1) if status == "opgelost" else None,
        bewijs=("a",),
        uitleg="u",
        reden="x" if status == "opgelost" else None,
    )


def test_a_signal_whose_sinds_moved_is_withdrawn_and_raised_anew() -> None:
    """events.md: "one whose ``sinds`` moved is withdrawn and raised anew" — also when its
    identity (R3: the ``signaal_id``) stays the same."""
    told: dict[tuple[str, str], EmittedSignal] = {}
    revisions: dict[str, int] = {}
    assert run(told, [moved(date(2026, 1, 10), date(2026, 2, 7))], revisions) == ["gesignaleerd"]
    changes = diff_signals(
        "s",
        told,
        [moved(date(2026, 1, 1), date(2026, 1, 6))],
        clock=D,
        trigger="t",
        revisions=revisions,
    )
    assert [(c.kind, c.signal.sinds) for c in changes] == [
        ("ingetrokken", date(2026, 1, 10)),
        ("gesignaleerd", date(2026, 1, 1)),
    ]
    first = diff_signals(
        "s", {}, [moved(date(2026, 1, 10), date(2026, 2, 7))], clock=D, trigger="t", revisions={}
    )
    assert len({first[0].event_id, changes[0].event_id, changes[1].event_id}) == 3
    assert told[("r3", "S1")].sinds == date(2026, 1, 1)
    assert told[("r3", "S1")].status == "open"
    assert run(told, [moved(date(2026, 1, 1), date(2026, 1, 6))], revisions) == []


def test_a_signal_whose_termijn_moved_is_withdrawn_and_raised_anew() -> None:
    """R3's deadline follows its first copy's ``dreiging``: a late first copy with another
    one changes the deadline told."""
    told: dict[tuple[str, str], EmittedSignal] = {}
    revisions: dict[str, int] = {}
    run(told, [moved(date(2026, 1, 1), date(2026, 1, 29))], revisions)
    assert run(told, [moved(date(2026, 1, 1), date(2026, 1, 6))], revisions) == [
        "ingetrokken",
        "gesignaleerd",
    ]


def test_a_resolved_signal_that_moved_is_raised_anew_resolved() -> None:
    told: dict[tuple[str, str], EmittedSignal] = {}
    revisions: dict[str, int] = {}
    run(told, [moved(date(2026, 1, 10), date(2026, 2, 7), "opgelost")], revisions)
    assert run(told, [moved(date(2026, 1, 1), date(2026, 1, 6), "opgelost")], revisions) == [
        "ingetrokken",
        "gesignaleerd",
        "opgelost",
    ]
