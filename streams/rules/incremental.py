"""The live worker's assessment of one citizen after a small change — pure, like the engine.

:meth:`RuleSet.assess <streams.rules.engine.RuleSet.assess>` evaluates every rule over the
whole timeline. After one new event most of that is the same as last time: a rule's
candidates depend only on the events of the types it declares (:mod:`streams.rules.engine`),
and a derived state (voorziening, casus, …) only on the events of the types it reads
(:meth:`~streams.rules.states.FactView.shared`). :func:`assess_changed` keeps both between
calls and recomputes only what reads a changed type; the clock's part (known or not yet,
open or resolved, the next due day) is cheap and redone for every rule. Rendered ``uitleg``
and ``reden`` texts are kept with their candidates.

The result is exactly :meth:`RuleSet.assess`'s; ``tests/unit/streams/test_incremental.py``
checks that after every event and clock tick, in any arrival order, with corrections and
deletions.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from streams.model import Signal, TimelineEvent
from streams.rules.engine import Candidate, candidates
from streams.rules.explain import explain
from streams.rules.index import TypeIndex
from streams.rules.states import FactView, SharedCache

if TYPE_CHECKING:
    from streams.rules.engine import RuleSet

_SHARED = "\x00shared"
"""The key of the derived states in the cache (no rule id can be this)."""
_INDEX = "\x00index"
"""The key of the citizen's :class:`~streams.rules.index.TypeIndex` in the cache."""


@dataclass(slots=True)
class RuleResult:
    """One rule's candidates given its visible facts, with the texts rendered so far."""

    view: FactView
    candidates: list[Candidate]
    uitleg: dict[int, str]
    """Rendered ``uitleg`` by candidate index (the view and the candidate's facts fix it)."""
    reden: dict[int, str | None]
    """Rendered ``reden`` by candidate index."""


def _refresh(
    rules: RuleSet,
    events: Sequence[TimelineEvent],
    cache: MutableMapping[str, Any],
    changed: frozenset[str] | None,
    added: Sequence[TimelineEvent] | None,
) -> None:
    """Recompute the candidates of every rule that reads a type in ``changed`` (all when
    ``None``), and of every rule not in ``cache``; drop the derived states that read one."""
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
        if rule.id in cache and not (changed and rule.leest & changed):
            continue
        view = FactView(index, rule.leest, shared)
        cache[rule.id] = RuleResult(view, candidates(rule, view), {}, {})


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
        for index, found in enumerate(result.candidates):
            if found.termijn is not None and found.termijn >= clock:
                due.append(found.termijn + timedelta(days=1))
            if found.opgelost_op is not None and found.opgelost_op > clock:
                due.append(found.opgelost_op)
            if not found.known(clock):
                continue
            uitleg = result.uitleg.get(index)
            if uitleg is None:
                uitleg = result.uitleg[index] = explain(rule, result.view, found.facts)
            reden = None
            if found.opgelost_op is not None and found.opgelost_op <= clock:
                if index not in result.reden:
                    result.reden[index] = found.reden
                reden = result.reden[index]
            signals.append(rules.signal(subject, rule, found, clock, uitleg=uitleg, reden=reden))
    return rules.sorted(signals), min(due, default=None)
