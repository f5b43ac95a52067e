"""The compiled, validated form of a rule file: immutable values the engine evaluates.

:mod:`streams.rules.config` turns YAML into these; :mod:`streams.rules.engine` evaluates them.
Nothing here reads files or knows about YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from streams.model import TimelineEvent
from streams.rules.calendar import Period
from streams.rules.conditions import Condition

ParameterValue = int | bool | str | tuple[str, ...]
Scalar = str | bool | int


@dataclass(frozen=True, slots=True)
class FieldMatch:
    """One field filter: the event's ``data[field]`` is (or, negated, is not) one of ``values``."""

    field: str
    values: frozenset[Scalar]
    negated: bool = False

    def matches(self, event: TimelineEvent) -> bool:
        """Whether ``event`` passes this filter (a missing field never equals a value)."""
        value = event.data.get(self.field)
        found = value is not None and value in self.values
        return found != self.negated


@dataclass(frozen=True, slots=True)
class EventMatch:
    """An event type with optional field filters (all must pass)."""

    type: str
    velden: tuple[FieldMatch, ...] = ()

    def matches(self, event: TimelineEvent) -> bool:
        """Whether ``event`` has this type and passes every filter."""
        return event.type == self.type and all(f.matches(event) for f in self.velden)


@dataclass(frozen=True, slots=True)
class PeriodOverride:
    """A different period when the starting event passes ``velden`` (e.g. R3's ``dreiging``)."""

    velden: tuple[FieldMatch, ...]
    period: Period


@dataclass(frozen=True, slots=True)
class Deadline:
    """A rule's period, with per-start-event overrides (first match wins)."""

    period: Period
    overrides: tuple[PeriodOverride, ...] = ()

    def period_for(self, start: TimelineEvent | None) -> Period:
        """The period that applies to a signal started by ``start`` (``None``: an episode)."""
        if start is not None:
            for override in self.overrides:
                if all(f.matches(start) for f in override.velden):
                    return override.period
        return self.period


WindowStart = Literal["sinds", "onbegrensd"]


@dataclass(frozen=True, slots=True)
class ExpectedEvent:
    """An event that, dated in ``[vanaf, termijn]``, prevents the signal (after: resolves it).

    ``zelfde`` lists fields whose value must equal the starting event's (R3: ``signaal_id``).
    ``vanaf`` is ``sinds``, ``onbegrensd`` or a condition whose run containing ``sinds`` starts
    the window (R1: the werkpotentieel date).
    """

    match: EventMatch
    vanaf: WindowStart | Condition = "sinds"
    zelfde: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ExpectedState:
    """A condition that, holding on ``sinds`` or ``termijn``, prevents the signal.

    A signal is resolved by it on the first day after ``termijn`` on which it holds.
    """

    condition: Condition
    op: Literal["sinds", "termijn"]


Expected = ExpectedEvent | ExpectedState


@dataclass(frozen=True, slots=True)
class Previous:
    """R6's "preceding uitkering event": among events of ``among``, the one right before the
    start (timeline order) must match ``match`` and be dated at most ``max_days`` before it."""

    among: frozenset[str]
    match: EventMatch
    max_days: int


@dataclass(frozen=True, slots=True)
class EpisodeShape:
    """Shape (a): an episode of ``conditie`` → expected within a period."""

    conditie: Condition
    vorm: Literal["episode"] = "episode"


@dataclass(frozen=True, slots=True)
class EventShape:
    """Shape (b): a starting event → expected within a period, while ``conditie`` holds.

    With ``sleutel``, only the first starting event per value of that field counts (later copies
    change nothing) and the signal's ``sleutel`` is that value; otherwise it is ``sinds``.

    With ``opent``, the start event must open a period of that state, and that period — from
    ``sinds`` to its own end, inclusive; not a later period that follows it without a gap — is
    a condition of the signal (R6: "that new uitkering holds"). ``conditie``, if also given,
    must hold as well.
    """

    start: EventMatch
    sleutel: str | None = None
    vorige: Previous | None = None
    conditie: Condition | None = None
    opent: str | None = None
    vorm: Literal["gebeurtenis"] = "gebeurtenis"


@dataclass(frozen=True, slots=True)
class PairShape:
    """Shape (c): an ``eerste`` and a ``tweede`` event at most ``binnen_dagen`` apart, while
    ``conditie`` holds on the later date (``sinds``); exists at once, no deadline.

    With ``niet_opnieuw_zolang_open``, no new signal while an earlier one is open on ``sinds``.
    """

    eerste: EventMatch
    tweede: EventMatch
    binnen_dagen: int
    conditie: Condition | None = None
    niet_opnieuw_zolang_open: bool = True
    vorm: Literal["paar"] = "paar"


Shape = EpisodeShape | EventShape | PairShape


@dataclass(frozen=True, slots=True, eq=False)
class Rule:
    """One validated rule. ``leest`` is exactly the set of event types it may see."""

    id: str
    titel: str
    doel: str
    grondslag: str
    leest: frozenset[str]
    parameters: Mapping[str, ParameterValue]
    shape: Shape
    termijn: Deadline | None
    verwacht: tuple[Expected, ...]
    uitleg: str
    bron: tuple[Path, ...] = field(default=())
    """The file(s) it was loaded from: the built-in file, then an override if any."""

    @property
    def vorm(self) -> str:
        """``episode``, ``gebeurtenis`` or ``paar``."""
        return self.shape.vorm
