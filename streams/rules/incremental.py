"""The live worker's assessment of one citizen after a small change — pure, like the engine.

:meth:`RuleSet.assess <streams.rules.engine.RuleSet.assess>` evaluates every rule over the
whole timeline. After one new event most of that is the same as last time: a rule's
candidates depend only on the events of the types it declares (:mod:`streams.rules.engine`),
and a derived state (voorziening, casus, …) only on the events of the types it reads
(:meth:`~streams.rules.states.FactView.shared`). :func:`assess_changed` keeps both between
calls and recomputes only what reads a changed type; the clock's part (known or not yet,
open or resolved, the next due day) is cheap and redone for every rule. Rendered ``uitleg``
and ``reden`` texts are kept with their candidates.

A rule with a long history also keeps the outcome of each start and episode
(:class:`~streams.rules.engine.Memo`) and, when events were only added, recomputes just the
outcomes that may depend on a day from which its facts changed (:func:`_changed_from`): so a
record's cost does not grow with the citizen's history.

The result is exactly :meth:`RuleSet.assess`'s; ``tests/unit/streams/test_incremental.py``
checks that after every event and clock tick, in any arrival order, with corrections and
deletions, and ``tests/unit/streams/test_memo.py`` with the memo on from the first event.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from streams.model import Signal, TimelineEvent
from streams.rules.definitions import EventShape, Rule
from streams.rules.engine import Candidate, Memo, candidates
from streams.rules.explain import explain, rule_conditions
from streams.rules.index import TypeIndex, first_day
from streams.rules.intervals import INF
from streams.rules.states import FactView, Input, SharedCache, first_difference, state_input

if TYPE_CHECKING:
    from streams.rules.engine import RuleSet

_SHARED = "\x00shared"
"""The key of the derived states in the cache (no rule id can be this)."""
_INDEX = "\x00index"
"""The key of the citizen's :class:`~streams.rules.index.TypeIndex` in the cache."""
_MISSING = object()

MEMO_FROM = 64
"""A rule keeps its starts' and episodes' outcomes (:class:`~streams.rules.engine.Memo`) from
this many visible events of its types on. Below it recomputing them all is as cheap, and the
memo's objects would cost the collector more than they save (the pure core, 10 events per
citizen, all citizens kept: −13 % with a memo for every rule)."""


@dataclass(slots=True)
class RuleResult:
    """One rule's candidates given its visible facts, with the texts rendered so far."""

    view: FactView
    candidates: list[Candidate]
    uitleg: dict[int, str]
    """Rendered ``uitleg`` by ``id`` of a candidate in :attr:`candidates` (the view and the
    candidate's facts fix it; a candidate reused from :attr:`memo` keeps its text)."""
    reden: dict[int, str | None]
    """Rendered ``reden`` by ``id`` of a candidate in :attr:`candidates`."""
    memo: Memo | None
    """The outcome of each start or episode, reused while it stays exact (``None`` below
    :data:`MEMO_FROM` visible events)."""
    derived: Derived | None
    """The derived states the rule read, to tell from which day on they changed."""


class Derived(dict[object, object]):
    """The derived states one rule reads (:func:`inputs`), by cache key, as they were at the
    rule's last assessment; a state missing is not known (nothing computed it then).

    The live worker keeps one per rule and citizen next to the rule's :class:`Memo`: after
    events of some types were added, :meth:`changed_from` says from which day on a state
    the rule reads may differ.
    """

    def __init__(self, rule: Rule) -> None:
        super().__init__()
        self.rule = rule

    def changed_from(self, view: FactView, changed: frozenset[str]) -> int:
        """The first day on which an input that reads a type in ``changed`` differs in
        ``view`` (``INF``: none does; ``-INF``: one was not known); the kept values become
        the ones of ``view``."""
        first = INF
        for item in inputs(self.rule):
            if item.reads & changed:
                old = self.get(item.key, _MISSING)
                new = self[item.key] = item.value(view)
                first = -INF if old is _MISSING else min(first, first_difference(old, new))
        return first

    def forget(self, changed: frozenset[str]) -> None:
        """Forget the inputs that read a type in ``changed`` (no outcome is kept that could
        depend on them)."""
        for item in inputs(self.rule):
            if item.reads & changed:
                self.pop(item.key, None)

    def keep(self, shared: SharedCache) -> None:
        """Take the value of every input not known yet that ``shared`` holds (what the rule's
        assessment, or another rule's, computed); an input no one computed stays unknown."""
        every = inputs(self.rule)
        if len(self) == len(every):
            return
        for item in every:
            if item.key not in self:
                value = shared.get(item.key, _MISSING)
                if value is not _MISSING:
                    self[item.key] = value


@lru_cache(maxsize=256)
def inputs(rule: Rule) -> tuple[Input, ...]:
    """Every derived state ``rule`` can read: the atoms of its conditions (their segments
    include those of the states they unite) and the state its start opens."""
    found = {a.input.key: a.input for c in rule_conditions(rule) for a in c.atoms()}
    shape = rule.shape
    if isinstance(shape, EventShape) and shape.opent is not None:
        opened = state_input(shape.opent)
        found[opened.key] = opened
    return tuple(found.values())


def _changed_from(
    rule: Rule,
    view: FactView,
    derived: Derived,
    changed: frozenset[str],
    added: Sequence[TimelineEvent],
) -> int:
    """The first day on which anything ``rule`` reads may differ after ``added`` (events of
    ``changed`` types, nothing removed): an added event's ``datum`` (or ``ingangsdatum``,
    which moves the origin of a negated condition), or a changed derived state."""
    day = derived.changed_from(view, changed)
    for event in added:
        if event.type in rule.leest:
            day = min(day, first_day(event))
    return day


def _refresh(
    rules: RuleSet,
    events: Sequence[TimelineEvent],
    cache: MutableMapping[str, Any],
    changed: frozenset[str] | None,
    added: Sequence[TimelineEvent] | None,
) -> None:
    """Recompute the candidates of every rule that reads a type in ``changed`` (all when
    ``None``), and of every rule not in ``cache``; drop the derived states that read one.

    A recomputed rule reuses the outcomes of its starts and episodes that cannot have changed
    (:class:`~streams.rules.engine.Memo`) when only ``added`` happened to the timeline."""
    if changed is None:
        cache.clear()
    shared = cache.get(_SHARED)
    if not isinstance(shared, SharedCache):
        shared = cache[_SHARED] = SharedCache()
    elif changed:
        shared.invalidate(changed)
    index = cache.get(_INDEX)
    if changed is None or not isinstance(index, TypeIndex):
        index = cache[_INDEX] = TypeIndex(events)
    else:
        index.update(events, changed, added)
    for rule in rules.rules:
        old: RuleResult | None = cache.get(rule.id)
        if old is not None and not (changed and rule.leest & changed):
            continue
        view = FactView(index, rule.leest, shared)
        memo, derived = _memo(rule, view, old, changed, added)
        found = candidates(rule, view, memo)
        if derived is not None:
            derived.keep(shared)
        uitleg, reden = _kept_texts(old, found)
        cache[rule.id] = RuleResult(view, found, uitleg, reden, memo, derived)


def _memo(
    rule: Rule,
    view: FactView,
    old: RuleResult | None,
    changed: frozenset[str] | None,
    added: Sequence[TimelineEvent] | None,
) -> tuple[Memo | None, Derived | None]:
    """The memo and derived inputs for ``rule``'s assessment on ``view``: ``old``'s, without
    the outcomes that may have changed, when only ``added`` happened; new ones when not known;
    none below :data:`MEMO_FROM` visible events."""
    if len(view.events) < MEMO_FROM:
        return None, None
    if old is None or old.memo is None or old.derived is None or not changed or added is None:
        return Memo(), Derived(rule)
    memo, derived = old.memo, old.derived
    if memo:
        memo.keep_before(_changed_from(rule, view, derived, changed, added))
    else:  # nothing to keep: no need to know what changed, only what is now
        derived.forget(changed)
    return memo, derived


def _kept_texts(
    old: RuleResult | None, found: list[Candidate]
) -> tuple[dict[int, str], dict[int, str | None]]:
    """The texts ``old`` rendered for the candidates of ``found`` reused from the memo (the
    same objects: ``old`` keeps its candidates alive, so an ``id`` is not a new one's)."""
    uitleg: dict[int, str] = {}
    reden: dict[int, str | None] = {}
    if old is not None:
        for candidate in found:
            key = id(candidate)
            if key in old.uitleg:
                uitleg[key] = old.uitleg[key]
            if key in old.reden:
                reden[key] = old.reden[key]
    return uitleg, reden


def assess_changed(
    rules: RuleSet,
    subject: str,
    events: Sequence[TimelineEvent],
    clock: date,
    *,
    cache: MutableMapping[str, Any],
    changed: frozenset[str] | None,
    added: Sequence[TimelineEvent] | None = None,
) -> tuple[list[Signal], date | None]:
    """:meth:`RuleSet.assess`, recomputing only the rules whose facts may have changed.

    ``cache`` holds each rule's :class:`RuleResult` and the derived states from the previous
    call for the same citizen (empty at first; the caller keeps it and never reads it).
    ``changed`` is the set of event types added to or removed from ``events`` since that call
    (empty: only the clock moved; ``None``: unknown — everything is recomputed). A rule is
    recomputed when it declares one of ``changed`` or has no cached result; the others keep
    their candidates, and only the clock's part is redone for every rule. ``added`` (optional)
    is the events inserted into ``events`` since that call when none was removed: the events
    grouped by type are then updated instead of regrouped by a loop over the whole timeline.
    If this raises, ``cache`` may be half updated: the caller must drop it (as
    :func:`streams.state._recompute` does) before the next call.

    Contract: ``events`` are in timeline order, one per (source, id), and every one is dated
    on or before ``clock`` (as on a citizen's own clock, which is at least their latest
    ``datum``); then the result equals ``rules.assess(subject, events, clock)``.
    """
    _refresh(rules, events, cache, changed, added)
    signals: list[Signal] = []
    due: list[date] = []
    for rule in rules.rules:
        result: RuleResult = cache[rule.id]
        for found in result.candidates:
            key = id(found)
            if found.termijn is not None and found.termijn >= clock:
                due.append(found.termijn + timedelta(days=1))
            if found.opgelost_op is not None and found.opgelost_op > clock:
                due.append(found.opgelost_op)
            if not found.known(clock):
                continue
            uitleg = result.uitleg.get(key)
            if uitleg is None:
                uitleg = result.uitleg[key] = explain(rule, result.view, found.facts)
            reden = None
            if found.opgelost_op is not None and found.opgelost_op <= clock:
                if key not in result.reden:
                    result.reden[key] = found.reden
                reden = result.reden[key]
            signals.append(rules.signal(subject, rule, found, clock, uitleg=uitleg, reden=reden))
    return rules.sorted(signals), min(due, default=None)
