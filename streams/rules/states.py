"""The derived states of ``rules.md`` as day intervals, computed from one rule's view of events.

A :class:`FactView` is what one rule is allowed to see: the citizen's events of the rule's
declared types only (``leest``), dated on or before the clock, in timeline order. Every state is
computed from such a view and nothing else, so a rule that did not declare a type cannot be
influenced by events of that type — the engine enforces the declaration mechanically.

Each base state is a tuple of :class:`~streams.rules.periods.Segment` (the stretches of days it
holds, with the events that established and ended them, for evidence and explanations); a
:class:`State` adds the normalised :data:`~streams.rules.intervals.Intervals` of their union.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Final, NamedTuple, TypeVar

from streams.model import TimelineEvent
from streams.rules import catalogue as c
from streams.rules.index import TypeIndex
from streams.rules.intervals import INF, Intervals, normalize
from streams.rules.periods import (
    Segment,
    Step,
    paired,
    paired_days,
    per_key,
    ref,
    segment_of,
    toggle,
)

_T = TypeVar("_T")
_MISSING: Final = object()

TIJDELIJK_GESTOPT: Final = "20"
"""iWmo ``reden_beeindiging`` of a temporary stop (suspends a voorziening)."""


@dataclass(frozen=True, slots=True)
class State:
    """A state's segments and the normalised intervals of their union."""

    segments: tuple[Segment, ...]
    intervals: Intervals

    @classmethod
    def of(cls, segments: Iterable[Segment]) -> State:
        """Build a state from (possibly overlapping) segments; empty segments are dropped."""
        kept = tuple(sorted((s for s in segments if s.start <= s.end), key=_segment_order))
        return cls(kept, normalize((s.start, s.end) for s in kept))

    def covering(self, day: int) -> tuple[Segment, ...]:
        """The segments that hold on ``day``."""
        return tuple(s for s in self.segments if s.start <= day <= s.end)


def _segment_order(segment: Segment) -> tuple[int, int]:
    return (segment.start, segment.end)


class SharedCache(dict[object, Any]):
    """The values of :meth:`FactView.shared`, kept across evaluations of one citizen: each
    value depends only on the events of the types it read, so after a change only the values
    that read a changed type are dropped (:meth:`invalidate`); the others stay exact."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: dict[object, frozenset[str]] = {}

    def invalidate(self, changed: frozenset[str]) -> None:
        """Drop every value that read one of ``changed``."""
        for key in [k for k, reads in self.reads.items() if reads & changed]:
            del self[key]
            del self.reads[key]


def first_difference(old: object, new: object) -> int:
    """The earliest day on which two values of one derived state may differ (``INF``: equal).

    A value is a tuple of :class:`~streams.rules.periods.Segment` or a :class:`State`. The
    segments before the first position where the two differ are the same; a state's value on
    any day, its evidence, label and ending can only differ from the start of a later segment
    of either value on (conservative: the whole rest counts, not only what really differs).
    """
    a = old.segments if isinstance(old, State) else old
    b = new.segments if isinstance(new, State) else new
    if not isinstance(a, tuple) or not isinstance(b, tuple):
        return INF if a == b else -INF
    same = 0
    for left, right in zip(a, b, strict=False):
        if left is not right and left != right:
            break
        same += 1
    return min((s.start for s in (*a[same:], *b[same:])), default=INF)


class FactView:
    """The events one rule may see: its declared types, dated up to the clock, in order.

    ``of`` returns nothing for a type outside ``types``: the rule simply cannot see it.
    """

    __slots__ = ("_cache", "_index", "_present", "_shared", "types")

    def __init__(
        self,
        ordered: Sequence[TimelineEvent] | TypeIndex,
        types: frozenset[str],
        shared: dict[object, Any] | None = None,
    ) -> None:
        """``ordered``: the citizen's events in timeline order, or a :class:`TypeIndex` of
        them (shared by the views of many rules); ``types``: what the rule declares.

        ``shared`` is a cache shared by the views of one evaluation (see :meth:`shared`).
        """
        self.types = types
        self._shared = shared
        self._index = ordered if isinstance(ordered, TypeIndex) else TypeIndex(ordered)
        self._present = self._index.present & types
        self._cache: dict[object, Any] = {}

    @property
    def events(self) -> tuple[TimelineEvent, ...]:
        """Every visible event, in timeline order."""
        return self._index.of(self.types)

    def of(self, *types: str) -> Sequence[TimelineEvent]:
        """The visible events of ``types``, in timeline order (empty for undeclared types)."""
        if len(types) == 1:
            return self._index.group(types[0]) if types[0] in self.types else ()
        return self._index.of(self.types.intersection(types))

    def sees_any(self, types: frozenset[str]) -> bool:
        """Whether an event of one of ``types`` is visible (declared and in the timeline).

        Which declared types the timeline holds is taken when the view is made: a view must be
        read only while the events of its declared types stay the same — as the incremental
        engine does, which makes a new view for a rule whose types changed and keeps an old
        one (for rendering texts later) only while none of them did."""
        return not self._present.isdisjoint(types)

    def cached(self, key: object, compute: Callable[[], _T]) -> _T:
        """Compute a value once per view (states are shared by the conditions of one rule)."""
        value = self._cache.get(key, _MISSING)
        if value is _MISSING:
            value = self._cache[key] = compute()
        return value  # type: ignore[no-any-return]  # values stored by compute

    def shared(self, reads: frozenset[str], key: object, compute: Callable[[FactView], _T]) -> _T:
        """``compute(self)`` once, shared with other views that also see every type in ``reads``.

        ``compute`` must read only ``reads`` through :meth:`of` of the view it is given. A view
        that sees all of them sees exactly the same events of those types as any other such
        view, so the value is the same; a view that lacks one of them computes its own value
        from what it can see.
        """
        shared = self._shared
        if shared is None or not reads <= self.types:
            return self.cached(key, lambda: compute(self))
        value = shared.get(key, _MISSING)
        if value is _MISSING:
            value = shared[key] = compute(self)
            if isinstance(shared, SharedCache):
                shared.reads[key] = reads
        return value  # type: ignore[no-any-return]  # values stored by compute

    @property
    def origin(self) -> int:
        """The first day anything is known about: the earliest date on any visible event.

        Negated conditions only hold from this day on (before it, nothing is known).
        """

        return self._index.origin(self.types)


# --- base states --------------------------------------------------------------------------

_PER_ID: Final = "\x00per-id"
"""The key prefix, in :meth:`FactView.shared`, of what :func:`per_id` keeps per state."""


def _kept_groups(_view: FactView) -> dict[str, tuple[tuple[TimelineEvent, ...], list[Segment]]]:
    return {}


def per_id(
    view: FactView,
    name: str,
    events: Sequence[TimelineEvent],
    field: str,
    one: Callable[[str, list[TimelineEvent]], list[Segment]],
) -> tuple[Segment, ...]:
    """The segments of the per-id state ``name``: ``one(key, group)`` for each group of
    ``events`` with the same ``data[field]`` (:func:`~streams.rules.periods.per_key`), in
    the order the groups first appear. ``one`` must be a function of the group's events only.

    What ``one`` gave for each group is kept with the group's events, for as long as the
    citizen's derived states are kept (:class:`SharedCache`: under a key that reads no type,
    so no change drops it); a group whose events are the same as then, in the same order,
    reuses it. So after a new event only its own id's periods are computed again, not those of
    every traject, casus, vroegsignaal or voorziening the citizen ever had. Without a shared
    cache (one assessment) each view keeps its own: nothing is reused, the result is the same.
    """
    seen = STATES[name].types & view.types  # a view that lacks a type groups other events
    kept = view.shared(frozenset(), (_PER_ID, name, seen), _kept_groups)
    out: list[Segment] = []
    for key, group in per_key(events, field).items():
        events_now = tuple(group)
        found = kept.get(key)
        if found is None or found[0] != events_now:
            found = kept[key] = (events_now, one(key, group))
        out += found[1]
    return tuple(out)


def uitkering(view: FactView) -> tuple[Segment, ...]:
    """From ``uitkeringen.toegekend`` to the next ``uitkeringen.beeindigd`` (inclusive)."""
    events = view.of(c.UITKERING_TOEGEKEND, c.UITKERING_BEEINDIGD)
    return tuple(toggle(events, c.UITKERING_TOEGEKEND, c.UITKERING_BEEINDIGD, "regeling"))


def traject(view: FactView) -> tuple[Segment, ...]:
    """Per ``traject_id``: from ``trajecten.gestart`` to ``trajecten.beeindigd`` (same-day
    starts and ends paired by date, :func:`paired_days`); label soort."""
    events = view.of(c.TRAJECT_GESTART, c.TRAJECT_BEEINDIGD)
    return per_id(view, "traject", events, "traject_id", _one_traject)


def _one_traject(_key: str, group: list[TimelineEvent]) -> list[Segment]:
    return paired(group, c.TRAJECT_GESTART, c.TRAJECT_BEEINDIGD, "soort")


def casus(view: FactView) -> tuple[Segment, ...]:
    """Per ``casus_id``: from ``casussen.geopend`` to ``casussen.gesloten`` (open casus; same-day
    openings and closures paired by date, :func:`paired_days`)."""
    events = view.of(c.CASUS_GEOPEND, c.CASUS_GESLOTEN)
    return per_id(view, "casus", events, "casus_id", _one_casus)


def _one_casus(_key: str, group: list[TimelineEvent]) -> list[Segment]:
    return paired(group, c.CASUS_GEOPEND, c.CASUS_GESLOTEN, None)


def schuldhulptraject(view: FactView) -> tuple[Segment, ...]:
    """From ``wgs.trajecten.gestart`` to ``wgs.trajecten.beeindigd``."""
    events = view.of(c.SCHULDHULP_GESTART, c.SCHULDHULP_BEEINDIGD)
    return tuple(toggle(events, c.SCHULDHULP_GESTART, c.SCHULDHULP_BEEINDIGD, None))


def vroegsignaal(view: FactView) -> tuple[Segment, ...]:
    """Per ``signaal_id``: open from its earliest ``ontvangen`` to its first ``opgevolgd``."""
    events = view.of(c.VROEGSIGNAAL_ONTVANGEN, c.VROEGSIGNAAL_OPGEVOLGD)
    return per_id(view, "vroegsignaal", events, "signaal_id", _one_vroegsignaal)


def _one_vroegsignaal(key: str, group: list[TimelineEvent]) -> list[Segment]:
    received = next((e for e in group if e.type == c.VROEGSIGNAAL_ONTVANGEN), None)
    if received is None:
        return []
    followed = next((e for e in group if e.type == c.VROEGSIGNAAL_OPGEVOLGD), None)
    end = followed.datum.toordinal() if followed else INF
    return [
        Segment(
            received.datum.toordinal(), end, (received,), ref(followed) if followed else None, key
        )
    ]


def voorziening(view: FactView) -> tuple[Segment, ...]:
    """Per ``toewijzing_nummer``, exactly as ``rules.md`` defines a voorziening.

    Starts on the earlier of the (latest) ``toegewezen.ingangsdatum`` and the first
    ``gestart.datum``; ends on ``einddatum`` or the first final ``gestopt.datum``, whichever comes
    first. A stop with ``reden_beeindiging`` 20 suspends it from the day after the stop until the
    next ``gestart``. Segments are labelled with the productcategorie.
    """
    events = view.of(c.VOORZIENING_TOEGEWEZEN, c.VOORZIENING_GESTART, c.VOORZIENING_GESTOPT)
    return per_id(view, "voorziening", events, "toewijzing_nummer", _one_voorziening)


def _one_voorziening(_key: str, group: list[TimelineEvent]) -> list[Segment]:
    assigned = [e for e in group if e.type == c.VOORZIENING_TOEGEWEZEN]
    latest = assigned[-1] if assigned else None
    starts = [e for e in group if e.type == c.VOORZIENING_GESTART]
    first_start = starts[0] if starts else None
    candidates: list[int] = []
    if latest is not None and isinstance(latest.data.get("ingangsdatum"), date):
        candidates.append(latest.data["ingangsdatum"].toordinal())
    if first_start is not None:
        candidates.append(first_start.datum.toordinal())
    if not candidates:
        return []
    label = _productcategorie(latest, starts)
    begin = min(candidates)
    end, ended_by = INF, None
    if latest is not None and isinstance(latest.data.get("einddatum"), date):
        end, ended_by = latest.data["einddatum"].toordinal(), f"einddatum van {ref(latest)}"
    # Walk stops and starts in timeline order: suspensions, and the first final stop.
    suspensions: list[tuple[int, TimelineEvent]] = []  # (day of the temporary stop, stop)
    resumed: list[tuple[int, TimelineEvent]] = []  # (day of the next gestart, gestart)
    suspended = False
    for event in group:
        if event.type == c.VOORZIENING_GESTOPT:
            day = event.datum.toordinal()
            if event.data.get("reden_beeindiging") == TIJDELIJK_GESTOPT:
                if not suspended:
                    suspended = True
                    suspensions.append((day, event))
                continue
            if day < end:
                end, ended_by = day, ref(event)
            break
        if event.type == c.VOORZIENING_GESTART and suspended:
            resumed.append((event.datum.toordinal(), event))
            suspended = False
    base: tuple[TimelineEvent, ...] = tuple(e for e in (latest, first_start) if e is not None)
    segments: list[Segment] = []
    seg_start, seg_by = begin, base
    for index, (stop_day, stop) in enumerate(suspensions):
        why = ref(stop) if stop_day < end else ended_by
        segments.append(Segment(seg_start, min(stop_day, end), seg_by, why, label))
        if index >= len(resumed):
            return segments
        resume_day, resume = resumed[index]
        seg_start = max(resume_day, stop_day + 1)
        seg_by = (*((latest,) if latest else ()), resume)
    segments.append(Segment(seg_start, end, seg_by, ended_by, label))
    return segments


def _productcategorie(latest: TimelineEvent | None, starts: list[TimelineEvent]) -> str | None:
    """A voorziening's productcategorie: that of its latest ``toegewezen``, else of its first
    ``gestart`` that names one; ``None`` when none does (``events.md``: absent for an
    allocation without a product, e.g. a budget) — no label, so a condition on categories
    does not hold for it, and an explanation names none."""
    for event in (latest, *starts):
        if event is not None and event.data.get("productcategorie") is not None:
            return str(event.data["productcategorie"])
    return None


def _latest_assessment(
    events: Iterable[TimelineEvent], positive: Callable[[TimelineEvent], bool]
) -> tuple[Segment, ...]:
    """Positive stretches of "the latest assessment so far decides" (per day, last one wins)."""
    per_day: dict[int, TimelineEvent] = {}
    for event in events:  # timeline order: the last event of a day decides that day
        per_day[event.datum.toordinal()] = event
    out: list[Segment] = []
    opened: TimelineEvent | None = None
    for day in sorted(per_day):
        event = per_day[day]
        if positive(event):
            if opened is None:
                opened = event
        elif opened is not None:
            out.append(Segment(opened.datum.toordinal(), day - 1, (opened,), ref(event)))
            opened = None
    if opened is not None:
        out.append(Segment(opened.datum.toordinal(), INF, (opened,)))
    return tuple(out)


_POSITIEF: Final = frozenset({"gedeeltelijk", "volledig"})


def _werkpotentieel_positief(event: TimelineEvent) -> bool:
    if event.type == c.WMO_ONDERZOEK_AFGEROND:
        return event.data.get("werkwens") is True or (
            event.data.get("arbeidspotentieel") in _POSITIEF
        )
    return event.data.get("uitkomst") in _POSITIEF


def werkpotentieel(view: FactView) -> tuple[Segment, ...]:
    """Positive werkpotentieel: the latest Wmo-onderzoek or arbeidsvermogen-vaststelling so far is
    positive. A segment's start is the *werkpotentieel date*."""
    events = view.of(c.WMO_ONDERZOEK_AFGEROND, c.ARBEIDSVERMOGEN_VASTGESTELD)
    return _latest_assessment(events, _werkpotentieel_positief)


def werkwens(view: FactView) -> tuple[Segment, ...]:
    """The latest ``wmo.onderzoeken.afgerond`` so far has ``werkwens`` true."""
    events = view.of(c.WMO_ONDERZOEK_AFGEROND)
    return _latest_assessment(events, lambda e: e.data.get("werkwens") is True)


def regie(view: FactView) -> tuple[Segment, ...]:
    """From ``regie.toegewezen`` until (inclusive) the day a ``casussen.gesloten`` closes the
    citizen's last open casus.

    Walks the events in timeline order. A closure counts only when it closes a casus that is
    open (a closure of a casus that is not open changes nothing), and ends regie only when no
    other casus stays open. A regie assigned while no casus is open holds until the next such
    closure; a ``toegewezen`` while regie holds changes nothing. One casus's openings and
    closures of one day take effect together, paired by date exactly as in :func:`casus`, at
    the place of the first of them in the timeline.
    """
    casus_events = view.of(c.CASUS_GEOPEND, c.CASUS_GESLOTEN)
    effects: dict[tuple[str, str], tuple[Step, ...]] = {}
    for group in per_key(casus_events, "casus_id").values():
        for first, steps in paired_days(group, c.CASUS_GEOPEND, c.CASUS_GESLOTEN):
            effects[first.identity] = steps
    open_cases: set[str] = set()
    out: list[Segment] = []
    assigned: TimelineEvent | None = None
    for event in view.of(c.CASUS_GEOPEND, c.CASUS_GESLOTEN, c.REGIE_TOEGEWEZEN):
        if event.type == c.REGIE_TOEGEWEZEN:
            if assigned is None:
                assigned = event
            continue
        key = str(event.data.get("casus_id"))
        for step in effects.get(event.identity, ()):
            if step.opens:
                open_cases.add(key)
                continue
            open_cases.discard(key)  # a step that closes always closes an open casus
            if not open_cases and assigned is not None:
                out.append(
                    segment_of(assigned, step.event.datum.toordinal(), ref(step.event), "rol")
                )
                assigned = None
    if assigned is not None:
        out.append(segment_of(assigned, INF, None, "rol"))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class StateSpec:
    """A named derived state: the types it reads and how to compute its segments."""

    name: str
    types: frozenset[str]
    compute: Callable[[FactView], tuple[Segment, ...]]
    beschrijving: str
    """Dutch noun phrase used in explanations, e.g. ``Wmo-voorziening``."""
    parts: tuple[str, ...] = ()
    """For a union state: the names of the states it unites."""
    opener: str | None = None
    """The event type that opens each of its periods (the last of a segment's ``started_by``),
    for a state a start event can open (``start.opent``); ``None`` if no single event does."""


def _union_of(*names: str) -> Callable[[FactView], tuple[Segment, ...]]:
    def compute(view: FactView) -> tuple[Segment, ...]:
        return tuple(s for name in names for s in segments(view, name))

    return compute


_VOORZIENING_TYPES = frozenset(
    {c.VOORZIENING_TOEGEWEZEN, c.VOORZIENING_GESTART, c.VOORZIENING_GESTOPT}
)
_UITKERING_TYPES = frozenset({c.UITKERING_TOEGEKEND, c.UITKERING_BEEINDIGD})
_TRAJECT_TYPES = frozenset({c.TRAJECT_GESTART, c.TRAJECT_BEEINDIGD})
_CASUS_TYPES = frozenset({c.CASUS_GEOPEND, c.CASUS_GESLOTEN})
_VROEGSIGNAAL_TYPES = frozenset({c.VROEGSIGNAAL_ONTVANGEN, c.VROEGSIGNAAL_OPGEVOLGD})
_SCHULDHULP_TYPES = frozenset({c.SCHULDHULP_GESTART, c.SCHULDHULP_BEEINDIGD})


def _spec(
    name: str,
    types: frozenset[str],
    compute: Callable[[FactView], tuple[Segment, ...]],
    beschrijving: str,
    opener: str | None = None,
) -> StateSpec:
    return StateSpec(name, types, compute, beschrijving, opener=opener)


def _union_spec(name: str, beschrijving: str, *parts: str) -> StateSpec:
    types = frozenset().union(*(STATES[p].types for p in parts))
    return StateSpec(name, types, _union_of(*parts), beschrijving, parts)


STATES: dict[str, StateSpec] = {
    "voorziening": _spec("voorziening", _VOORZIENING_TYPES, voorziening, "Wmo-voorziening"),
    "uitkering": _spec(
        "uitkering", _UITKERING_TYPES, uitkering, "uitkering", c.UITKERING_TOEGEKEND
    ),
    "traject": _spec(
        "traject", _TRAJECT_TYPES, traject, "traject (Participatiewet)", c.TRAJECT_GESTART
    ),
    "casus": _spec("casus", _CASUS_TYPES, casus, "open casus bij het wijkteam", c.CASUS_GEOPEND),
    "vroegsignaal": _spec(
        "vroegsignaal",
        _VROEGSIGNAAL_TYPES,
        vroegsignaal,
        "open vroegsignaal",
        c.VROEGSIGNAAL_ONTVANGEN,
    ),
    "schuldhulptraject": _spec(
        "schuldhulptraject",
        _SCHULDHULP_TYPES,
        schuldhulptraject,
        "schuldhulptraject",
        c.SCHULDHULP_GESTART,
    ),
    "werkpotentieel": _spec(
        "werkpotentieel",
        frozenset({c.WMO_ONDERZOEK_AFGEROND, c.ARBEIDSVERMOGEN_VASTGESTELD}),
        werkpotentieel,
        "werkpotentieel",
    ),
    "werkwens": _spec("werkwens", frozenset({c.WMO_ONDERZOEK_AFGEROND}), werkwens, "werkwens"),
    "regie": _spec(
        "regie", _CASUS_TYPES | {c.REGIE_TOEGEWEZEN}, regie, "regie", c.REGIE_TOEGEWEZEN
    ),
}
"""Every derived state a rule condition may name (see ``docs/rules.md``)."""

STATES["ondersteuning"] = _union_spec(
    "ondersteuning",
    "ondersteuning (voorziening, uitkering, traject, open casus of schuldhulptraject)",
    "voorziening",
    "uitkering",
    "traject",
    "casus",
    "schuldhulptraject",
)
STATES["domein-participatiewet"] = _union_spec(
    "domein-participatiewet", "participatiewet (uitkering of traject)", "uitkering", "traject"
)
STATES["domein-wmo"] = _union_spec("domein-wmo", "wmo (voorziening)", "voorziening")
STATES["domein-wijkteam"] = _union_spec("domein-wijkteam", "wijkteam (open casus)", "casus")
STATES["domein-schulden"] = _union_spec(
    "domein-schulden",
    "schulden (open vroegsignaal of schuldhulptraject)",
    "vroegsignaal",
    "schuldhulptraject",
)

DOMEINEN: Final = (
    "domein-participatiewet",
    "domein-wmo",
    "domein-wijkteam",
    "domein-schulden",
)
"""The four domains counted by ``domeinen`` (R4), in this order in explanations."""


class Input(NamedTuple):
    """A value derived from a view and shared between views (:meth:`FactView.shared`)."""

    key: object
    reads: frozenset[str]
    compute: Callable[[FactView], Any]

    def value(self, view: FactView) -> Any:
        """The value in ``view``."""
        return view.shared(self.reads, self.key, self.compute)


@lru_cache(maxsize=64)
def state_input(name: str) -> Input:
    """The segments of the named state as an :class:`Input` (what :func:`segments` reads)."""
    spec = STATES[name]
    return Input(("state", name), spec.types, spec.compute)


def segments(view: FactView, name: str) -> tuple[Segment, ...]:
    """The segments of the named state in ``view`` (computed once per view)."""
    found: tuple[Segment, ...] = state_input(name).value(view)
    return found


def opened_by(view: FactView, name: str, event: TimelineEvent) -> Segment | None:
    """The period of state ``name`` that ``event`` opened, if it opened one (a start while the
    state already holds opens nothing). Only for a state with an ``opener``."""
    for segment in segments(view, name):
        if segment.started_by[-1].identity == event.identity:
            return segment
    return None
