"""The rule engine: a citizen's events and a clock in, their definitive signals out.

Pure code — no Faust, no Kafka, no I/O. For every rule the engine builds a
:class:`~streams.rules.states.FactView` holding only the rule's declared types and only facts
dated on or before the clock, computes the rule's *candidates* from it (every signal that
exists given those facts, with its projected resolution), and then lets the clock decide which
candidates are known and whether they are open or resolved.

Because candidates depend only on the visible facts, never on the clock, :meth:`RuleSet.next_due`
can say exactly when the clock alone would change the result.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

from streams.model import Signal, TimelineEvent
from streams.rules import intervals as iv
from streams.rules.definitions import (
    EpisodeShape,
    EventShape,
    ExpectedEvent,
    ExpectedState,
    PairShape,
    Rule,
)
from streams.rules.explain import SignalFacts, explain
from streams.rules.index import TypeIndex
from streams.rules.periods import ref
from streams.rules.states import STATES, FactView, opened_by


@dataclass(frozen=True, slots=True)
class Candidate:
    """A signal that exists given the visible facts, whatever the clock.

    ``opgelost_op`` is the first day a resolving fact holds — possibly after the clock (a future
    ``einddatum``); the clock decides whether it has happened yet.
    """

    sleutel: str
    sinds: date
    termijn: date | None
    opgelost_op: date | None
    reden_of: Reden | None
    """What resolves it; a callable is only rendered when the text is needed."""
    bewijs: tuple[str, ...]
    facts: SignalFacts

    @property
    def reden(self) -> str | None:
        """Which event (``type id``) or change of condition resolves the signal."""
        if self.reden_of is None or isinstance(self.reden_of, str):
            return self.reden_of
        return self.reden_of()

    def known(self, clock: date) -> bool:
        """Known once the clock is past ``termijn`` (at once when there is no ``termijn``)."""
        return self.sinds <= clock if self.termijn is None else self.termijn < clock


def _order(events: Iterable[TimelineEvent]) -> list[TimelineEvent]:
    """Timeline order, one event per (source, id) — independent of the input order."""
    out: list[TimelineEvent] = []
    seen: set[tuple[str, str]] = set()
    for event in sorted(events, key=lambda e: e.sort_key):
        if event.identity not in seen:
            seen.add(event.identity)
            out.append(event)
    return out


def _evidence(events: Iterable[TimelineEvent]) -> tuple[str, ...]:
    unique = {e.identity: e for e in events}
    return tuple(dict.fromkeys(e.id for e in sorted(unique.values(), key=lambda e: e.sort_key)))


Reden = str | Callable[[], str]


class _Resolution:
    """The earliest resolving fact after ``termijn``; events win ties over conditions."""

    __slots__ = ("best",)

    def __init__(self) -> None:
        self.best: tuple[int, int, Reden] | None = None

    def offer(self, day: int, rank: int, reden: Reden) -> None:
        if self.best is None or (day, rank) < self.best[:2]:
            self.best = (day, rank, reden)

    def result(self) -> tuple[date | None, Reden | None]:
        if self.best is None:
            return None, None
        return date.fromordinal(self.best[0]), self.best[2]


def _assess(
    rule: Rule, view: FactView, facts: SignalFacts, run_end: int, resolution: _Resolution
) -> bool:
    """Whether no expectation was met by ``termijn``; offers later resolving facts.

    ``run_end`` is the last day of the condition's run from ``sinds`` (``INF``: no end known).
    """
    assert facts.termijn is not None
    start = facts.start
    first, last = facts.sinds.toordinal(), facts.termijn.toordinal()
    for expected in rule.verwacht:
        if isinstance(expected, ExpectedState):
            days = expected.condition.intervals(view)
            if iv.holds(days, first if expected.op == "sinds" else last):
                return False
            later = iv.first_on_or_after(days, last + 1)
            if later is not None:
                resolution.offer(later, 1, partial(_state_reden, expected, view, later))
            continue
        low = _window_start(expected, view, first)
        for event in _expected_events(expected, view, start):
            if not expected.match.matches(event):
                continue
            day = event.datum.toordinal()
            if low <= day <= last:
                return False
            if day > last:
                resolution.offer(day, 0, ref(event))
    if run_end < iv.INF:
        reden = partial(_condition_reden, rule, view, run_end + 1, facts.start)
        resolution.offer(run_end + 1, 2, reden)
    return True


def _window_start(expected: ExpectedEvent, view: FactView, sinds: int) -> int:
    if expected.vanaf == "sinds":
        return sinds
    if expected.vanaf == "onbegrensd":
        return -iv.INF
    run = iv.find(expected.vanaf.intervals(view), sinds)
    return run[0] if run else sinds


def _expected_events(
    expected: ExpectedEvent, view: FactView, start: TimelineEvent | None
) -> Sequence[TimelineEvent]:
    """The visible events of the expected type with the same ``zelfde`` fields as ``start``
    (all of them without ``zelfde`` or ``start``), in timeline order; indexed once per view,
    so a rule with many starts (R3: one per ``signaal_id``) stays linear in the history."""
    events = view.of(expected.match.type)
    if start is None or not expected.zelfde:
        return events
    fields = expected.zelfde

    def index() -> dict[tuple[object, ...], list[TimelineEvent]]:
        out: dict[tuple[object, ...], list[TimelineEvent]] = {}
        for event in events:
            out.setdefault(tuple(event.data.get(f) for f in fields), []).append(event)
        return out

    wanted = tuple(start.data.get(f) for f in fields)
    try:
        by_key = view.cached(("zelfde", expected.match.type, fields), index)
        return by_key.get(wanted, ())
    except TypeError:  # an unhashable field value (a map): compare one by one
        return [e for e in events if tuple(e.data.get(f) for f in fields) == wanted]


def _state_reden(expected: ExpectedState, view: FactView, day: int) -> str:
    changes = expected.condition.changes(view, day)
    return "; ".join(changes) or expected.condition.describe()


def _condition_reden(
    rule: Rule, view: FactView, day: int, start: TimelineEvent | None = None
) -> str:
    shape = rule.shape
    when = date.fromordinal(day).isoformat()
    changes: list[str] = []
    if isinstance(shape, EventShape) and shape.opent is not None and start is not None:
        own = opened_by(view, shape.opent, start)
        if own is not None and own.end == day - 1:
            ended = f" ({own.ended_by})" if own.ended_by else ""
            changes.append(f"{STATES[shape.opent].beschrijving} beëindigd{ended}")
    if shape.conditie is not None:
        changes += shape.conditie.changes(view, day)
    detail = "; ".join(dict.fromkeys(changes)) if changes else "conditie geldt niet meer"
    return f"conditie vervallen op {when}: {detail}"


def _candidate(
    rule: Rule, view: FactView, sleutel: str, facts: SignalFacts, run_end: int
) -> Candidate | None:
    """The signal with this ``sinds``/``termijn`` if it exists (no expectation met in time)."""
    resolution = _Resolution()
    if not _assess(rule, view, facts, run_end, resolution):
        return None
    opgelost_op, reden = resolution.result()
    extra = [e for e in (facts.start, facts.vorige) if e is not None]
    evidence = [*extra, *_condition_evidence(rule, view, facts.sinds)]
    return Candidate(
        sleutel, facts.sinds, facts.termijn, opgelost_op, reden, _evidence(evidence), facts
    )


def _condition_evidence(rule: Rule, view: FactView, sinds: date) -> list[TimelineEvent]:
    condition = rule.shape.conditie
    return condition.evidence(view, sinds.toordinal()) if condition is not None else []


class Memo(dict[object, tuple[int, str | None, "Candidate | None"]]):
    """What each start (or episode) of one rule gave, for the live worker.

    Keyed by the start's identity (an episode's first and last day): ``(horizon, sleutel,
    candidate)``. ``sleutel`` is ``None`` when the start does not qualify; ``candidate`` is
    ``None`` when it qualifies but no signal exists. ``horizon`` is the last day whose facts
    the outcome depends on — the ``termijn`` when no signal exists, the day it is resolved on,
    ``INF`` while it is not — so the outcome stays exact as long as nothing the rule reads
    changes on or before that day (:meth:`keep_before`).
    """

    def keep_before(self, day: int) -> None:
        """Forget every outcome that may depend on the facts of ``day`` or later."""
        for key in [k for k, (horizon, _sleutel, _found) in self.items() if horizon >= day]:
            del self[key]


def _horizon(found: Candidate | None, termijn: int) -> int:
    if found is None:
        return termijn
    return found.opgelost_op.toordinal() if found.opgelost_op is not None else iv.INF


def _episodes(
    rule: Rule, shape: EpisodeShape, view: FactView, memo: Memo | None
) -> list[Candidate]:
    assert rule.termijn is not None  # guaranteed by the loader for this shape
    period = rule.termijn.period
    out: list[Candidate] = []
    for first, last in shape.conditie.intervals(view):
        kept = memo.get((first, last)) if memo is not None else None
        if kept is None:
            sinds = date.fromordinal(first)
            deadline = period.deadline(sinds)
            found = None
            if last >= deadline.toordinal():
                facts = SignalFacts(sinds, deadline, period)
                found = _candidate(rule, view, sinds.isoformat(), facts, last)
            kept = (_horizon(found, deadline.toordinal()), None, found)
            if memo is not None:
                memo[(first, last)] = kept
        if kept[2] is not None:
            out.append(kept[2])
    return out


def _starts(shape: EventShape, view: FactView) -> Sequence[TimelineEvent]:
    events = view.of(shape.start.type)
    if shape.sleutel is None:
        return events
    first: dict[str, TimelineEvent] = {}
    for event in events:
        first.setdefault(str(event.data.get(shape.sleutel)), event)
    return list(first.values())


def _preceding(shape: EventShape, view: FactView, start: TimelineEvent) -> TimelineEvent | None:
    """The event matching ``vorige`` right before ``start`` among its types, if it qualifies."""
    vorige = shape.vorige
    assert vorige is not None
    among = tuple(sorted(vorige.among))

    def keyed() -> tuple[Sequence[TimelineEvent], list[tuple[object, ...]]]:
        events = view.of(*among)
        return events, [e.sort_key for e in events]

    events, keys = view.cached(("vorige", among), keyed)
    # the last event strictly before ``start`` in timeline order (sort keys are unique)
    at = bisect.bisect_left(keys, start.sort_key)
    previous = events[at - 1] if at > 0 else None
    if previous is None or not vorige.match.matches(previous):
        return None
    if not 0 <= (start.datum - previous.datum).days <= vorige.max_days:
        return None
    return previous


def _event_starts(
    rule: Rule, shape: EventShape, view: FactView, memo: Memo | None
) -> list[Candidate]:
    condition = shape.conditie.intervals(view) if shape.conditie is not None else None
    out: list[Candidate] = []
    keys: set[str] = set()
    for start in _starts(shape, view):
        kept = memo.get(start.identity) if memo is not None else None
        if kept is None:
            kept = _event_start(rule, shape, view, start, condition)
            if memo is not None:
                memo[start.identity] = kept
        found = kept[2]
        # one signal per sleutel (per day without one): the first start that gives one; a
        # start giving none (followed up in time, or its own shorter term) leaves the day to
        # a later start of it — with a key field only the first event per value starts at all
        if found is None or found.sleutel in keys:
            continue
        keys.add(found.sleutel)
        out.append(found)
    return out


def _event_start(
    rule: Rule,
    shape: EventShape,
    view: FactView,
    start: TimelineEvent,
    condition: iv.Intervals | None,
) -> tuple[int, str | None, Candidate | None]:
    """What one start gives: ``(horizon, sleutel, candidate)`` as in :class:`Memo`."""
    assert rule.termijn is not None  # guaranteed by the loader for this shape
    sinds = start.datum
    if not shape.start.matches(start):
        return sinds.toordinal(), None, None
    previous = _preceding(shape, view, start) if shape.vorige is not None else None
    if shape.vorige is not None and previous is None:
        return sinds.toordinal(), None, None
    period = rule.termijn.period_for(start)
    deadline = period.deadline(sinds).toordinal()
    run_end = iv.INF
    if shape.opent is not None:
        own = opened_by(view, shape.opent, start)
        if own is None or own.end < deadline:
            return deadline, None, None
        run_end = own.end
    if condition is not None:
        run = iv.find(condition, sinds.toordinal())
        if run is None or run[1] < deadline:
            return deadline, None, None
        run_end = min(run_end, run[1])
    key = str(start.data.get(shape.sleutel)) if shape.sleutel else sinds.isoformat()
    facts = SignalFacts(sinds, period.deadline(sinds), period, start=start, vorige=previous)
    found = _candidate(rule, view, key, facts, run_end)
    return _horizon(found, deadline), key, found


def _last_within(
    events: Sequence[TimelineEvent], low: date, high: date, other_than: TimelineEvent | None = None
) -> TimelineEvent | None:
    """The last event dated in ``[low, high]`` that is not ``other_than``."""
    found = None
    for event in events:
        if low <= event.datum <= high and event is not other_than:
            found = event
    return found


def _pair_on(
    firsts: Sequence[TimelineEvent],
    seconds: Sequence[TimelineEvent],
    sinds: date,
    window: timedelta,
) -> tuple[TimelineEvent, TimelineEvent] | None:
    """The (latest) pair whose later date is ``sinds``; two distinct events, in timeline order
    when both are of the same kind."""
    low = sinds - window
    eerste = _last_within(firsts, low, sinds)
    tweede = _last_within(seconds, low, sinds, other_than=eerste)
    if tweede is None:
        tweede = _last_within(seconds, low, sinds)
        eerste = _last_within(firsts, low, sinds, other_than=tweede)
    if eerste is None or tweede is None or max(eerste.datum, tweede.datum) != sinds:
        return None
    if eerste.type == tweede.type and tweede.sort_key < eerste.sort_key:
        eerste, tweede = tweede, eerste
    return eerste, tweede


def _pairs(rule: Rule, shape: PairShape, view: FactView) -> list[Candidate]:
    firsts = [e for e in view.of(shape.eerste.type) if shape.eerste.matches(e)]
    seconds = [e for e in view.of(shape.tweede.type) if shape.tweede.matches(e)]
    window = timedelta(days=shape.binnen_dagen)
    days = sorted({e.datum for e in (*firsts, *seconds)})
    condition = shape.conditie.intervals(view) if shape.conditie is not None else None
    out: list[Candidate] = []
    for sinds in days:
        pair = _pair_on(firsts, seconds, sinds, window)
        if pair is None:
            continue
        day = sinds.toordinal()
        run_end = iv.INF
        if condition is not None:
            run = iv.find(condition, day)
            if run is None:
                continue
            run_end = run[1]
        if shape.niet_opnieuw_zolang_open and any(
            c.opgelost_op is None or c.opgelost_op > sinds for c in out
        ):
            continue
        eerste, tweede = pair
        opgelost_op: date | None = None
        reden: Reden | None = None
        if run_end < iv.INF:
            opgelost_op = date.fromordinal(run_end + 1)
            reden = partial(_condition_reden, rule, view, run_end + 1)
        evidence = [eerste, tweede, *_condition_evidence(rule, view, sinds)]
        facts = SignalFacts(sinds, None, None, eerste=eerste, tweede=tweede)
        out.append(
            Candidate(
                sinds.isoformat(), sinds, None, opgelost_op, reden, _evidence(evidence), facts
            )
        )
    return out


def candidates(rule: Rule, view: FactView, memo: Memo | None = None) -> list[Candidate]:
    """Every signal of ``rule`` that exists given the facts in ``view``, known or not yet.
    None without a visible fact: every shape needs one (a condition holds from the first
    known fact on, a start or a pair is an event), so the work is skipped.

    ``memo`` (the live worker's): the outcomes of starts and episodes computed before, still
    exact for ``view`` (the caller forgets the others: :meth:`Memo.keep_before`); reused, and
    the new ones added. A pair rule does not use it."""
    if not view.events:
        return []
    shape = rule.shape
    if isinstance(shape, EpisodeShape):
        return _episodes(rule, shape, view, memo)
    if isinstance(shape, EventShape):
        return _event_starts(rule, shape, view, memo)
    return _pairs(rule, shape, view)


class RuleSet:
    """The active rules, evaluated together on one citizen's events."""

    def __init__(self, rules: Sequence[Rule], disabled: Sequence[str] = ()) -> None:
        ids = [r.id for r in rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate rule ids in {ids}")
        self.rules: tuple[Rule, ...] = tuple(rules)
        """The active rules, built-ins first (R1–R6 order), then added rules by file name."""
        self.disabled: tuple[str, ...] = tuple(disabled)
        """Ids of rules switched off with ``actief: false``."""
        self.types: frozenset[str] = frozenset().union(*(r.leest for r in self.rules))
        """Every event type some active rule reads."""
        self._by_id = {r.id: r for r in self.rules}

    def get(self, rule_id: str) -> Rule:
        """The active rule with this id (``KeyError`` if absent or disabled)."""
        return self._by_id[rule_id]

    def _visible(self, events: Iterable[TimelineEvent], clock: date) -> list[TimelineEvent]:
        return _order(e for e in events if e.datum <= clock and e.type in self.types)

    def candidates(
        self, events: Iterable[TimelineEvent], clock: date
    ) -> list[tuple[Rule, FactView, Candidate]]:
        """Every existing signal of every rule given the facts dated up to ``clock``."""
        index = TypeIndex(self._visible(events, clock))
        out: list[tuple[Rule, FactView, Candidate]] = []
        shared: dict[object, Any] = {}
        for rule in self.rules:
            view = FactView(index, rule.leest, shared)
            out += [(rule, view, c) for c in candidates(rule, view)]
        return out

    def evaluate(self, subject: str, events: Sequence[TimelineEvent], clock: date) -> list[Signal]:
        """The definitive, known signals of one citizen at ``clock`` (``rules.md``).

        Guarantees: the result depends only on the *set* of events (by ``(source, id)``) and the
        clock, never on their order; events dated after ``clock`` are ignored; each rule sees
        only its declared types; every signal has status ``open`` or ``opgelost``; signals are
        ordered by rule (the order of :attr:`rules`), then ``sinds``, then ``sleutel``.
        """
        return self._signals(subject, self.candidates(events, clock), clock)

    def next_due(self, events: Sequence[TimelineEvent], clock: date) -> date | None:
        """The earliest day ``D > clock`` on which :meth:`evaluate` could differ from its result
        at ``clock`` without any new event; ``None`` if the clock alone changes nothing.

        Exact for the facts dated up to ``clock`` (a pending ``termijn`` + 1, a projected
        resolution such as a future ``einddatum`` + 1); an event dated after ``clock`` is due
        on its own date.
        """
        return self._due(events, self.candidates(events, clock), clock)

    def assess(
        self, subject: str, events: Sequence[TimelineEvent], clock: date
    ) -> tuple[list[Signal], date | None]:
        """:meth:`evaluate` and :meth:`next_due` together, computing the candidates once."""
        found = self.candidates(events, clock)
        return self._signals(subject, found, clock), self._due(events, found, clock)

    def assess_changed(
        self,
        subject: str,
        events: Sequence[TimelineEvent],
        clock: date,
        cache: MutableMapping[str, Any],
        changed: frozenset[str] | None,
        *,
        added: Sequence[TimelineEvent] | None = None,
    ) -> tuple[list[Signal], date | None]:
        """:meth:`assess`, recomputing only the rules whose facts may have changed since the
        previous call for the same citizen: see :func:`streams.rules.incremental.assess_changed`
        for the contract."""
        from streams.rules.incremental import assess_changed

        return assess_changed(
            self, subject, events, clock, cache=cache, changed=changed, added=added
        )

    @staticmethod
    def signal(
        subject: str, rule: Rule, found: Candidate, clock: date, *, uitleg: str, reden: str | None
    ) -> Signal:
        resolved = found.opgelost_op is not None and found.opgelost_op <= clock
        return Signal(
            regel=rule.id,
            subject=subject,
            sleutel=found.sleutel,
            sinds=found.sinds,
            termijn=found.termijn,
            status="opgelost" if resolved else "open",
            opgelost_op=found.opgelost_op if resolved else None,
            bewijs=found.bewijs,
            uitleg=uitleg,
            reden=reden if resolved else None,
        )

    def sorted(self, signals: list[Signal]) -> list[Signal]:
        order = {r.id: i for i, r in enumerate(self.rules)}
        signals.sort(key=lambda s: (order[s.regel], s.sinds, s.sleutel))
        return signals

    def _signals(
        self, subject: str, found_all: list[tuple[Rule, FactView, Candidate]], clock: date
    ) -> list[Signal]:
        signals: list[Signal] = []
        for rule, view, found in found_all:
            if not found.known(clock):
                continue
            resolved = found.opgelost_op is not None and found.opgelost_op <= clock
            uitleg = explain(rule, view, found.facts)
            reden = found.reden if resolved else None
            signals.append(self.signal(subject, rule, found, clock, uitleg=uitleg, reden=reden))
        return self.sorted(signals)

    def _due(
        self,
        events: Sequence[TimelineEvent],
        found_all: list[tuple[Rule, FactView, Candidate]],
        clock: date,
    ) -> date | None:
        due: list[date] = [e.datum for e in events if e.datum > clock and e.type in self.types]
        for _rule, _view, found in found_all:
            if found.termijn is not None and found.termijn >= clock:
                due.append(found.termijn + timedelta(days=1))
            if found.opgelost_op is not None and found.opgelost_op > clock:
                due.append(found.opgelost_op)
        return min(due, default=None)
