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
