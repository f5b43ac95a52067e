"""The stream core's two paths, without Kafka, for tests that compare them.

- ``stream`` is what the Faust worker does per record: :func:`~streams.state.apply_event` for
  each event in arrival order (every step recomputes and diffs the signals), then, like the
  end of a replay, a clock tick to ``until`` if given.
- ``batch`` is what ``schakel replay --batch`` does: insert every event, then one
  :func:`~streams.state.close_replay`.

Both return the signals as the world was told them (``CitizenState.signalen`` without the
withdrawn ones) — the definitive set the paths must agree on — and the ids of refused events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from streams.model import Signal, TimelineEvent
from streams.rules import RuleSet
from streams.state import (
    CitizenState,
    HistoryLimitError,
    StoredEvent,
    advance_clock,
    apply_event,
    close_replay,
)

SUBJECT = "pseudo-1"
DEFAULT_LIMIT = 2000

Told = tuple[str, str, date, date | None, str, date | None]
"""(regel, sleutel, sinds, termijn, status, opgelost_op) of one definitive signal."""


@dataclass
class Run:
    """The outcome of one path for one citizen."""

    state: CitizenState
    refused: list[str] = field(default_factory=list)

    @property
    def told(self) -> list[Told]:
        """The definitive signals as told to the world, in a stable order."""
        return sorted(
            (s.regel, s.sleutel, s.sinds, s.termijn, s.status, s.opgelost_op)
            for s in self.state.signalen.values()
            if s.status != "ingetrokken"
        )


def told(signals: Iterable[Signal]) -> list[Told]:
    """:attr:`Run.told` of signals computed by the engine directly."""
    return sorted(
        (s.regel, s.sleutel, s.sinds, s.termijn, s.status, s.opgelost_op) for s in signals
    )


Path = Literal["stream", "batch"]


def run(
    path: Path,
    engine: RuleSet,
    events: Iterable[TimelineEvent],
    *,
    until: date | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Run:
    """One citizen's events, in arrival order, through ``path``."""
    out = Run(CitizenState(subject=SUBJECT))
    for event in events:
        stored = StoredEvent(event, b"")
        try:
            if path == "stream":
                apply_event(out.state, stored, engine, today=None, history_limit=limit)
            else:
                out.state.insert(stored, limit)
        except HistoryLimitError:
            out.refused.append(event.id)
    if path == "batch":
        close_replay(out.state, engine, until=until)
    elif until is not None:
        advance_clock(out.state, until, engine, today=None)
    return out


def both(
    engine: RuleSet,
    events: list[TimelineEvent],
    *,
    until: date | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[Told]:
    """The definitive signals; asserts that both paths and the engine itself agree on them."""
    on_stream = run("stream", engine, events, until=until, limit=limit)
    on_batch = run("batch", engine, events, until=until, limit=limit)
    assert on_stream.told == on_batch.told
    assert on_stream.refused == on_batch.refused
    accepted = on_stream.state.timeline  # the first accepted copy of each (source, id)
    assert accepted == on_batch.state.timeline
    clock = max([e.datum for e in accepted] + ([until] if until else []))
    assert told(engine.evaluate(SUBJECT, accepted, clock)) == on_stream.told
    return on_stream.told
