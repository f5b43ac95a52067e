"""The state of one citizen and what happens to it — pure functions, no Faust, no Kafka.

A :class:`CitizenState` holds the accepted events (each with the exact wire bytes it arrived
as, so the state can be stored and restored losslessly), the citizen's clock and the signals
told to the world so far. :func:`apply_event` and :func:`advance_clock` are the only ways it
changes; both return the signal changes to emit (see :mod:`streams.signals`).
:func:`close_replay` is the batch path's single assessment; :func:`erase` is the right to
erasure.

**Erasure marker.** ``schakel forget`` does not delete a citizen to nothing: the state becomes
an empty one holding only ``vergeten_tot``, the Kafka timestamp of the erasure record. An input
event whose Kafka record timestamp (when it was registered) is at or before the marker belongs
to what was erased and is dropped, whenever it is read — before or after the erasure record,
before or after a restart (the marker is on the table changelog). A later event is new
processing: it starts a new timeline next to the marker. The marker is a pseudonym and a time,
no personal data in clear; it is what keeps an erasure from being undone by a backlog.

**History limit** (``SCHAKEL_HISTORY_LIMIT``). The definitive signals are defined on a
citizen's *whole* accepted history (``rules.md``), so an accepted event is never dropped or
summarised away: a late fact may be dated anywhere in the past and change what older facts
mean (a later ``toegewezen`` replaces dates, "the latest assessment so far", "the preceding
uitkering event"), and every emitted signal must be recomputed identically. The limit instead
bounds what is *accepted*: a new event for a citizen who already has ``limit`` accepted events
is refused with :class:`HistoryLimitError` — dead-lettered and counted by the caller — and
leaves the state, and so every signal, exactly as it was. Every accepted (``source``, ``id``)
stays on the timeline, so a redelivery is always recognised as a duplicate, also after a
restart. A refused event uses up no id: after raising the limit it can be re-published.

**Record versions** (``events.md``, "Corrections and deletions"). ``events`` holds every
accepted version of every source record; :attr:`CitizenState.timeline` (what the rules see)
uses only the current versions (:mod:`streams.versions`) — the clock's latest ``datum`` every
version, so it never goes back (:meth:`CitizenState.latest_datum`) — and a correction or
deletion is a late fact like any other: the signals are recomputed and
:func:`streams.signals.diff_signals` emits ``ingetrokken`` / ``opgelost`` / a new
``gesignaleerd``. Every version counts towards the history limit.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from schemas.wire import VERWIJDERD
from streams.ingest import IngestError
from streams.model import Signal, TimelineEvent
from streams.signals import EmittedSignal, SignalChange, diff_signals
from streams.versions import current_versions, is_versioned, timeline_of


def _sort_key(event: TimelineEvent) -> tuple[date, int, float, str, str]:
    return event.sort_key


class HistoryLimitError(IngestError):
    """A new event for a citizen whose timeline already holds ``limit`` accepted events.

    Permanent for this record while the limit stands; the record is dead-lettered (stage
    ``accept``, reason ``history-limit``) and the state is unchanged."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"SCHAKEL_HISTORY_LIMIT: the citizen's timeline already holds {limit} accepted "
            "events; this new event is refused, not accepted (no event is ever dropped to make "
            "room). Raise the limit and re-publish the record from the dead-letter topic",
            stage="accept",
            reason="history-limit",
        )
        self.limit = limit


class Engine(Protocol):
    """What the state needs of the rules (:class:`streams.rules.RuleSet` satisfies it)."""

    @property
    def types(self) -> frozenset[str]:
        """Every event type some rule reads."""
        ...

    def assess(
        self, subject: str, events: Sequence[TimelineEvent], clock: date
    ) -> tuple[list[Signal], date | None]:
        """The known signals at ``clock`` and the next day the clock alone changes them."""
        ...

    def assess_changed(
        self,
        subject: str,
        events: Sequence[TimelineEvent],
        clock: date,
        cache: dict[str, Any],
        changed: frozenset[str] | None,
        *,
        added: Sequence[TimelineEvent] | None = None,
    ) -> tuple[list[Signal], date | None]:
        """:meth:`assess` recomputing only the rules that read a type in ``changed`` since
        the call that filled ``cache`` (``None``: all); ``added``: the events inserted since,
        when nothing was removed (``None``: not known); see
        :meth:`streams.rules.RuleSet.assess_changed` for the contract."""
        ...


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An accepted event and the Confluent wire-format bytes it was received as."""

    event: TimelineEvent
    payload: bytes


@dataclass(frozen=True)
class Savepoint:
    """A citizen's state before one step (:meth:`CitizenState.savepoint`): how many events it
    held, and copies of its clock tick, signals told, revisions and remembered outputs."""

    events: int
    klok: date | None
    signalen: dict[tuple[str, str], EmittedSignal]
    revisies: dict[str, int]
    uitvoer: dict[str, list[bytes]]


@dataclass
class CitizenState:
    """Everything the worker keeps about one citizen (keyed by pseudonym)."""

    subject: str
    events: list[StoredEvent] = field(default_factory=list)
    klok: date | None = None
    """Highest clock tick received (live timer or end of replay); events move it implicitly."""
    signalen: dict[tuple[str, str], EmittedSignal] = field(default_factory=dict)
    revisies: dict[str, int] = field(default_factory=dict)
    uitvoer: dict[str, list[bytes]] = field(default_factory=dict)
    """Signal events sent for the last few records that emitted any (oldest first), so that a
    record delivered again after a crash re-sends them (see :mod:`streams.processor`)."""
    vergeten_tot: int | None = None
    """Erasure marker: Kafka timestamp (ms since the epoch) of the latest erasure, or None."""
    _seen: set[tuple[str, str]] = field(default_factory=set, repr=False)
    _keys: list[tuple[object, ...]] = field(default_factory=list, repr=False)
    _versioned: int = field(default=0, repr=False)
    """How many accepted events carry a ``bronsleutel`` (0: the timeline is ``events``)."""
    _versions: dict[tuple[str, str], int] | None = field(default=None, repr=False)
    _shadowing: int | None = field(default=None, repr=False)
    """Derived from ``events`` while ``_versioned`` (None: not counted; :meth:`_shadows`):
    the versions accepted per source record, and how many versions hide one another or are
    deletions — 0: every version is the only one of its record, so the timeline is
    ``events`` as without versions (a sociale-dienst row, most iWmo records)."""
    _payload_bytes: int = field(default=0, repr=False)
    """The wire bytes of ``events``, summed (:attr:`payload_bytes`)."""
    _timeline: list[TimelineEvent] | None = field(default=None, repr=False)
    _latest: date | None = field(default=None, repr=False)
    """Derived from ``events`` (None: not computed): the timeline and the latest ``datum``."""
    _rules: dict[str, Any] = field(default_factory=dict, repr=False)
    _changed: set[str] | None = field(default=None, repr=False)
    """The rules' results of the last assessment and the event types added to or removed
    from the timeline since (None: unknown, every rule is recomputed); derived, never stored
    (see :meth:`drop_derived`)."""
    _added: list[TimelineEvent] | None = field(default_factory=list, repr=False)
    """The events inserted into the timeline since the last assessment, while that is all
    that happened to it (None: not known — a version changed which events of its record
    count); meaningful only while ``_changed`` is not None."""

    def __post_init__(self) -> None:
        self.events.sort(key=lambda s: s.event.sort_key)
        self._seen = {s.event.identity for s in self.events}
        self._keys = [s.event.sort_key for s in self.events]
        self._versioned = sum(1 for s in self.events if is_versioned(s.event))
        self._payload_bytes = sum(len(s.payload) for s in self.events)

    def _shadows(self) -> int:
        """How many accepted versions hide one another or are deletions (0: the timeline is
        ``events``); counted once, then kept in step by :meth:`_counted_version`."""
        if not self._versioned:
            return 0
        if self._shadowing is None or self._versions is None:
            versions: dict[tuple[str, str], int] = {}
            deletions = 0
            for stored in self.events:
                if is_versioned(stored.event):
                    record = stored.event.record
                    versions[record] = versions.get(record, 0) + 1
                    deletions += stored.event.type == VERWIJDERD
            self._versions = versions
            self._shadowing = deletions + sum(n for n in versions.values() if n > 1)
        return self._shadowing

    def _counted_version(self, event: TimelineEvent) -> bool:
        """Count the version ``event``, just inserted into ``events``; return whether it only
        adds to the timeline: not a deletion, and the only version of its record."""
        if self._shadowing is None or self._versions is None:
            self._shadows()  # counts every version, this one included
        else:
            record = event.record
            count = self._versions[record] = self._versions.get(record, 0) + 1
            self._shadowing += (event.type == VERWIJDERD) + (2 if count == 2 else count > 2)
        return self.only_added(event)

    def _in_step(self) -> bool:
        """Whether the timeline is ``events`` itself (no version hides another)."""
        return not self._versioned or self._shadows() == 0

    def only_added(self, event: TimelineEvent) -> bool:
        """Whether inserting ``event`` (accepted) only added it to the timeline: it is its own
        record, or the first version of its record and not a deletion."""
        if not is_versioned(event):
            return True
        self._shadows()
        assert self._versions is not None
        return event.type != VERWIJDERD and self._versions.get(event.record) == 1

    def _derive(self) -> tuple[list[TimelineEvent], date | None]:
        if self._timeline is None:
            events = [s.event for s in self.events]
            # the latest datum of every accepted version: it only grows (latest_datum)
            self._latest = max((e.datum for e in events), default=None)
            if not self._in_step():
                self._timeline = timeline_of(current_versions(events))
            else:  # every event is its own record and none is a deletion
                self._timeline = events
        return self._timeline, self._latest

    @property
    def timeline(self) -> list[TimelineEvent]:
        """The facts the rules see: the current version of each source record, deletions
        left out (:mod:`streams.versions`); every accepted version stays in ``events``.
        Kept between calls: read it, do not change it."""
        return self._derive()[0]

    def drop_derived(self) -> None:
        """Forget the rules' results kept for the next assessment (memory: the worker keeps
        them only for citizens changed since its last flush); the next one recomputes all."""
        self._rules = {}
        self._changed = None
        self._added = []
        self._versions = self._shadowing = None

    @property
    def blank(self) -> bool:
        """Nothing to keep: no event and no erasure marker — a citizen new with a record that
        was undone (the worker deletes its table entry rather than store it)."""
        return not self.events and self.vergeten_tot is None

    def erased(self, registered: int | None) -> bool:
        """Whether an input event registered at ``registered`` (its Kafka record timestamp, ms;
        ``None``: not known) was erased: registered at or before the erasure marker."""
        return (
            self.vergeten_tot is not None
            and registered is not None
            and registered <= self.vergeten_tot
        )

    @property
    def payload_bytes(self) -> int:
        """The wire bytes of every accepted event, summed: kept up to date by :meth:`insert`
        and :meth:`restore` (what the size check of :mod:`streams.sizes` reads per event
        without a pass over the history)."""
        return self._payload_bytes

    def has(self, event: TimelineEvent) -> bool:
        return event.identity in self._seen

    def latest_datum(self) -> date | None:
        """The latest ``datum`` of every accepted event — every version, superseded ones and
        deletions included — so it only grows as events are accepted: the replay clock never
        goes back (``rules.md``: a signal once known is withdrawn only when facts show it never
        existed, and a replay never emits a second ``gesignaleerd`` for one identity; a
        correction to an earlier date leaves the clock where the sources had brought it:
        docs/rules.md, interpretation 16). A function of the set of accepted events, as the
        timeline is: the streaming and batch paths agree."""
        return self._derive()[1]

    def insert(self, stored: StoredEvent, history_limit: int) -> bool:
        """Insert in timeline order; False (and nothing changes) if (source, id) is known.

        Raises :class:`HistoryLimitError` (and nothing changes) for a new event when the
        timeline already holds ``history_limit`` events; nothing is ever dropped."""
        identity = stored.event.identity
        if identity in self._seen:
            return False
        if len(self.events) >= history_limit:
            raise HistoryLimitError(history_limit)
        key = stored.event.sort_key
        index = bisect.bisect_right(self._keys, key)
        self._keys.insert(index, key)
        self.events.insert(index, stored)
        self._seen.add(identity)
        self._payload_bytes += len(stored.payload)
        event = stored.event
        if is_versioned(event):
            self._versioned += 1
            if not self._counted_version(event):  # changes which versions of its record count
                self._timeline = self._latest = None
                if self._changed is not None:  # only events of its record may come or go
                    self._changed.update(self._types_of(event.record))
                    self._added = None
                return True
        # the event is current and hides nothing: it is only added to the timeline
        timeline = self._timeline
        if timeline is not None:
            if self._in_step():  # the timeline is ``events``, in step
                timeline.insert(index, event)
            else:  # derived from the versions: its own place in timeline order
                timeline.insert(bisect.bisect_right(timeline, key, key=_sort_key), event)
            if self._latest is None or event.datum > self._latest:
                self._latest = event.datum
        if self._changed is not None:
            self._changed.add(event.type)
            if self._added is not None:
                self._added.append(event)
        return True

    def _types_of(self, record: tuple[str, str]) -> set[str]:
        """The types of every accepted version of ``record``: the only events a new version
        of it can add to or take from the timeline."""
        return {s.event.type for s in self.events if s.event.record == record}

    def savepoint(self) -> Savepoint:
        """What :meth:`restore` needs to undo one step (an event applied, a clock tick)."""
        return Savepoint(
            len(self.events),
            self.klok,
            dict(self.signalen),
            dict(self.revisies),
            dict(self.uitvoer),
        )

    def restore(self, saved: Savepoint, event: TimelineEvent | None = None) -> None:
        """Undo the step since ``saved`` that failed before its outputs left (the record is
        dead-lettered, or retried after an outage): ``event`` leaves the timeline if that
        step inserted it, and the clock tick, the signals told and the outputs remembered are
        as they were; the rules' kept results are dropped (the next assessment does all)."""
        if event is not None and len(self.events) == saved.events + 1 and self.has(event):
            at = bisect.bisect_left(self._keys, event.sort_key)
            if self.events[at].event.identity == event.identity:
                self._payload_bytes -= len(self.events[at].payload)
                del self.events[at], self._keys[at]
                self._seen.discard(event.identity)
                if is_versioned(event):
                    self._versioned -= 1
                    self._versions = self._shadowing = None
                self._timeline = self._latest = None
        self.klok = saved.klok
        self.signalen, self.revisies, self.uitvoer = saved.signalen, saved.revisies, saved.uitvoer
        self.drop_derived()

    def remember_output(self, trigger: str, payloads: list[bytes], keep: int = 8) -> None:
        """Remember what ``trigger`` emitted; keep the last ``keep`` triggers."""
        self.uitvoer.pop(trigger, None)
        self.uitvoer[trigger] = payloads
        while len(self.uitvoer) > keep:
            del self.uitvoer[next(iter(self.uitvoer))]

    def clock(self, today: date | None) -> date | None:
        """The citizen's clock: latest ``datum``, the highest tick, and (live) today."""
        candidates = [d for d in (self.latest_datum(), self.klok, today) if d is not None]
        return max(candidates) if candidates else None


@dataclass(frozen=True)
class Outcome:
    """What one step did: whether the event was new, the signal changes to emit, the clock,
    and the next day on which the clock alone could change the signals (``None``: never, or
    nothing was recomputed)."""

    accepted: bool
    changes: list[SignalChange]
    clock: date | None
    due: date | None = None


def _recompute(state: CitizenState, engine: Engine, today: date | None, trigger: str) -> Outcome:
    clock = state.clock(today)
    if clock is None:
        return Outcome(True, [], None)
    # every timeline event is dated on or before the citizen's clock (its latest datum at
    # least), as assess_changed requires; only rules reading a changed type are recomputed
    changed = None if state._changed is None else frozenset(state._changed)
    added = None if changed is None or state._added is None else tuple(state._added)
    try:
        current, due = engine.assess_changed(
            state.subject, state.timeline, clock, state._rules, changed, added=added
        )
    except BaseException:
        state.drop_derived()  # the rules' results may be half updated: all anew next time
        raise
    state._changed = set()
    state._added = []
    changes = diff_signals(
        state.subject,
        state.signalen,
        current,
        clock=clock,
        trigger=trigger,
        revisions=state.revisies,
    )
    return Outcome(True, changes, clock, due)


def apply_event(
    state: CitizenState,
    stored: StoredEvent,
    engine: Engine,
    *,
    today: date | None,
    history_limit: int,
) -> Outcome:
    """Accept one event (once per source+id) and recompute the citizen's signals.

    ``today`` is the live date, or ``None`` on the replay clock. An event of a type no rule
    reads that does not move the clock cannot change any signal: nothing is recomputed.
    Raises :class:`HistoryLimitError`, leaving the state unchanged, when a new event would
    exceed ``history_limit`` (see the module docstring)."""
    before = state.clock(today)
    if not state.insert(stored, history_limit):
        return Outcome(False, [], before)
    event = stored.event
    if (
        event.type not in engine.types
        and state.only_added(event)
        and before is not None
        and state.clock(today) == before
    ):
        return Outcome(True, [], before)
    trigger = f"{event.type} {event.id} ({event.datum.isoformat()})"
    return _recompute(state, engine, today, trigger)


def advance_clock(state: CitizenState, tot: date, engine: Engine, *, today: date | None) -> Outcome:
    """Move the clock to at least ``tot`` (a timer tick or the end of a replay) and recompute."""
    if state.klok is None or tot > state.klok:
        state.klok = tot
    outcome = _recompute(state, engine, today, f"klok {tot.isoformat()}")
    return Outcome(False, outcome.changes, outcome.clock, outcome.due)


def erase(state: CitizenState | None, subject: str, at: int) -> CitizenState:
    """The right to erasure, ``at`` being the erasure record's Kafka timestamp (ms): a state
    with no events, signals or output, holding only the erasure marker (the later of ``at``
    and an earlier marker). Idempotent: erasing again at the same or an earlier time returns
    ``state`` unchanged, so a re-read erasure record never wipes what came after it."""
    if state is not None and state.vergeten_tot is not None and at <= state.vergeten_tot:
        return state
    return CitizenState(subject=subject, vergeten_tot=at)


def close_replay(state: CitizenState, engine: Engine, *, until: date | None) -> Outcome:
    """The batch path's one assessment of a citizen whose events were all inserted.

    The replay clock, exactly as the worker ends a replay: the latest ``datum`` (and any tick
    received before), moved to ``until`` if that is later. Without ``until`` no tick is
    recorded (``klok`` stays what it was), as the worker records none."""
    before = state.klok
    latest = state.latest_datum()
    candidates = [d for d in (until, latest, before) if d is not None]
    if not candidates:
        return Outcome(False, [], None)
    outcome = advance_clock(state, max(candidates), engine, today=None)
    if until is None:
        state.klok = before
    return outcome
