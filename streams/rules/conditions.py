"""Conditions: derived states combined with ``alle`` / ``een_van`` / ``niet`` / ``domeinen``.

A condition evaluates, on one rule's :class:`~streams.rules.states.FactView`, to the set of days
on which it holds (normalised intervals). It also names the event types it needs (checked
against the rule's ``leest`` at load time), the events that establish it on a day (evidence),
and what changed on a day (the ``reden`` of a resolution).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from streams.model import TimelineEvent
from streams.rules import intervals as iv
from streams.rules.catalogue import productcategorie_naam
from streams.rules.periods import Segment, ref
from streams.rules.states import DOMEINEN, STATES, FactView, Input, State, segments


class Condition(ABC):
    """A condition over derived states; immutable and hashable (used as a cache key)."""

    @abstractmethod
    def intervals(self, view: FactView) -> iv.Intervals:
        """The days on which the condition holds, from the facts in ``view``."""

    @abstractmethod
    def atoms(self) -> Iterator[Atom]:
        """Every derived state this condition reads (for types, evidence and explanations)."""

    @abstractmethod
    def describe(self) -> str:
        """A short Dutch description for rule summaries."""

    def types(self) -> frozenset[str]:
        """The event types this condition needs to see."""
        return frozenset().union(*(STATES[a.name].types for a in self.atoms()))

    def evidence(self, view: FactView, day: int) -> list[TimelineEvent]:
        """The events establishing the (positive) states of this condition that hold on ``day``."""
        return []

    def changes(self, view: FactView, day: int) -> list[str]:
        """What changed between ``day - 1`` and ``day`` in the states this condition reads."""
        out: list[str] = []
        for atom in dict.fromkeys(self.atoms()):
            out += atom.changes(view, day)
        return out


@dataclass(frozen=True, slots=True)
class Atom(Condition):
    """A derived state, optionally restricted to segments with a given label.

    ``labels`` filters a voorziening on productcategorie or a traject on soort; ``None`` means
    any.
    """

    name: str
    labels: frozenset[str] | None = None
    _key: tuple[str, str, frozenset[str] | None] = field(
        init=False, repr=False, compare=False, hash=False
    )
    """The cache key of :meth:`state`: built once, of parts that keep their hash (a key
    holding the atom itself would call the dataclass's ``__hash__`` at every lookup)."""
    _reads: frozenset[str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", ("atom", self.name, self.labels))
        object.__setattr__(self, "_reads", STATES[self.name].types)

    def state(self, view: FactView) -> State:
        """This atom's segments and intervals in ``view``."""
        return view.shared(self._reads, self._key, self.compute_state)

    @property
    def input(self) -> Input:
        """What :meth:`state` reads, as an :class:`~streams.rules.states.Input`."""
        return Input(self._key, self._reads, self.compute_state)

    def compute_state(self, view: FactView) -> State:
        """:meth:`state` computed anew (not shared); the empty state when ``view`` sees no
        event of a type it reads."""
        if not view.sees_any(self._reads):
            return _NOTHING
        found = segments(view, self.name)
        if self.labels is not None:
            found = tuple(s for s in found if s.label in self.labels)
        return State.of(found)

    def intervals(self, view: FactView) -> iv.Intervals:
        return self.state(view).intervals

    def atoms(self) -> Iterator[Atom]:
        yield self

    def describe(self) -> str:
        text = STATES[self.name].beschrijving
        if self.labels is not None:
            text += f" ({', '.join(sorted(self.labels))})"
        return text

    def evidence(self, view: FactView, day: int) -> list[TimelineEvent]:
        return [e for s in self.state(view).covering(day) for e in s.started_by]

    def changes(self, view: FactView, day: int) -> list[str]:
        state = self.state(view)
        before = iv.holds(state.intervals, day - 1)
        after = iv.holds(state.intervals, day)
        if before == after:
            return []
        spec = STATES[self.name]
        if spec.parts:
            detail = [text for part in spec.parts for text in Atom(part).changes(view, day)]
            if detail:
                return detail
        name = spec.beschrijving
        if after:
            started = [s for s in state.segments if s.start == day]
            return [f"{name} gestart ({segment_reference(s)})" for s in started[:1]]
        ended = [s for s in state.segments if s.end == day - 1]
        return [f"{name} beëindigd ({s.ended_by})" for s in ended[:1] if s.ended_by] or [
            f"{name} beëindigd"
        ]

    def run_start(self, view: FactView, day: int) -> date | None:
        """The first day of the run of this state that contains ``day``, if it holds then."""
        run = iv.find(self.intervals(view), day)
        return date.fromordinal(run[0]) if run else None

    def labels_on(self, view: FactView, day: int) -> list[str]:
        """The labels of the segments holding on ``day`` (e.g. productcategorie codes)."""
        return sorted({s.label for s in self.state(view).covering(day) if s.label})


@dataclass(frozen=True, slots=True)
class All(Condition):
    """``alle``: every part holds."""

    parts: tuple[Condition, ...]

    def intervals(self, view: FactView) -> iv.Intervals:
        result = self.parts[0].intervals(view)
        for part in self.parts[1:]:
            if not result:
                break
            result = iv.intersect(result, part.intervals(view))
        return result

    def atoms(self) -> Iterator[Atom]:
        for part in self.parts:
            yield from part.atoms()

    def describe(self) -> str:
        return " én ".join(_grouped(p) for p in self.parts)

    def evidence(self, view: FactView, day: int) -> list[TimelineEvent]:
        return [e for p in self.parts for e in p.evidence(view, day)]


@dataclass(frozen=True, slots=True)
class AnyOf(Condition):
    """``een_van``: at least one part holds."""

    parts: tuple[Condition, ...]

    def intervals(self, view: FactView) -> iv.Intervals:
        return iv.union(*(p.intervals(view) for p in self.parts))

    def atoms(self) -> Iterator[Atom]:
        for part in self.parts:
            yield from part.atoms()

    def describe(self) -> str:
        return " of ".join(_grouped(p) for p in self.parts)

    def evidence(self, view: FactView, day: int) -> list[TimelineEvent]:
        return [
            e for p in self.parts if iv.holds(p.intervals(view), day) for e in p.evidence(view, day)
        ]


@dataclass(frozen=True, slots=True)
class Not(Condition):
    """``niet``: the part does not hold. Only from the first known fact on (``view.origin``)."""

    part: Condition

    def intervals(self, view: FactView) -> iv.Intervals:
        origin = view.origin
        if origin >= iv.INF:  # no visible fact: nothing is known, so nothing is absent either
            return ()
        return iv.complement(self.part.intervals(view), origin)

    def atoms(self) -> Iterator[Atom]:
        yield from self.part.atoms()

    def describe(self) -> str:
        return f"geen {_grouped(self.part)}"


@dataclass(frozen=True, slots=True)
class Domains(Condition):
    """``domeinen``: at least ``minimum`` of the four domains of ``rules.md`` are active."""

    minimum: int

    def intervals(self, view: FactView) -> iv.Intervals:
        return iv.at_least([a.intervals(view) for a in self.atoms()], self.minimum)

    def atoms(self) -> Iterator[Atom]:
        return iter(_DOMAIN_ATOMS)

    def describe(self) -> str:
        return f"{self.minimum} of meer domeinen actief"

    def evidence(self, view: FactView, day: int) -> list[TimelineEvent]:
        return [e for a in self.atoms() for e in a.evidence(view, day)]

    def active_on(self, view: FactView, day: int) -> list[str]:
        """The names (``participatiewet``, ``wmo``, …) of the domains active on ``day``."""
        return [
            a.name.removeprefix("domein-") for a in self.atoms() if iv.holds(a.intervals(view), day)
        ]


_NOTHING = State((), ())
"""The state of an atom whose view sees no event of a type it reads."""

_DOMAIN_ATOMS = tuple(Atom(name) for name in DOMEINEN)
"""The atoms :class:`Domains` reads, built once (an atom builds its cache key)."""


def _grouped(condition: Condition) -> str:
    text = condition.describe()
    return f"({text})" if isinstance(condition, All | AnyOf) and " " in text else text


def describe_labels(atom: Atom, labels: list[str]) -> str:
    """Labels as Dutch text: productcategorie names for a voorziening, else the labels."""
    if atom.name == "voorziening":
        return ", ".join(productcategorie_naam(code) for code in labels)
    return ", ".join(labels)


def segment_reference(segment: Segment) -> str:
    """``type id`` of the event that started a segment on its first day (or established it)."""
    for event in segment.started_by:
        if event.datum.toordinal() == segment.start:
            return ref(event)
    return ref(segment.started_by[0])
