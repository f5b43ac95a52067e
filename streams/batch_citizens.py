"""What the batch path (:mod:`streams.batch`) writes per citizen and per refused record, and
its redo of a citizen near the output limit with the worker's per-event semantics.

**Output size** (:mod:`streams.sizes`): the batch path writes the signals, dead letters and
states of the streaming path, also at the limit. The worker checks a citizen's state and
snapshot after every event and clock tick, with the signals as that step left them
(withdrawn ones and the signal events remembered included): an event that would make them
too large is undone and dead-lettered, a tick that would is not applied to that citizen.
These checks only measure a citizen whose events' wire bytes reach a quarter of the limit
(:func:`streams.sizes.measured`); below, none can fail, so the batch path inserts such a
citizen's events and assesses it once, with no per-event work.

A citizen at or past it after the inserts is *redone* (:meth:`CitizenWriter.redo`): its state
before this run (read again from the changelog, the run's erasures applied) and its records
of this run (read again from its partition, in offset order per topic partition, the topics
interleaved by record timestamp: :meth:`CitizenWriter.gathered`) are applied one by one with
the worker's pure functions — :func:`~streams.state.apply_event`, the signal events encoded
and remembered, the size check (:meth:`~streams.outputs.CitizenOutputs.check`) — each event
that would make the outputs too large undone and dead-lettered as the worker does (stage
``accept``, class ``OutputTooLarge``, with the record's topic, partition and offset), and
every signal change of every step sent, as the worker sends it. Then, with ``until``, the
end-of-replay tick (:func:`~streams.state.advance_clock`, as the worker applies the
broadcast tick of ``schakel replay``): one that would make the outputs too large is not
applied to that citizen — state, clock and signals as after its last event — logged
(``batch.tick_too_large``) and counted (``too_large``), as the worker's
:class:`~streams.sizes.TickTooLarge`; there is no tick record to dead-letter. A
history-limit refusal of the first pass is dead-lettered at the end of its partition unless
its citizen is redone (the redo decides anew), and a redone citizen's counts are the redo's
(:meth:`CitizenWriter.untally`). Cost: for those citizens the worker's, plus one more read of
their partition.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Protocol

from schemas.binding import event_headers
from schemas.wire import Wire
from streams.batch_decode import FastIngest
from streams.ingest import IngestError
from streams.outputs import CitizenOutputs
from streams.processor import partition_of
from streams.sizes import PRODUCER_MAX_REQUEST_BYTES, RECORD_OVERHEAD, OutputTooLarge
from streams.state import (
    CitizenState,
    Engine,
    Outcome,
    StoredEvent,
    advance_clock,
    apply_event,
)

log = logging.getLogger("schakel.streams")


@dataclass
class BatchStats:
    """The counts of one batch run (or of one of its worker processes)."""

    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    deadlettered: int = 0
    erased: int = 0
    citizens: int = 0
    signal_events: int = 0
    misplaced: int = 0
    """Records found in another partition than their citizen's key (second round)."""
    too_large: int = 0
    """Citizens the end-of-replay tick was not applied to: it would have made their state or
    snapshot too large (:meth:`CitizenWriter.redo`, the worker's ``TickTooLarge``)."""

    def add(self, other: BatchStats) -> None:
        """Add the counts of ``other`` (a worker process's) to these."""
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


class Sender(Protocol):
    """Where outputs go (:class:`~streams.batch_kafka.BulkProducer`)."""

    def send(
        self,
        topic: str,
        *,
        key: bytes | None = None,
        value: bytes | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
        partition: int | None = None,
    ) -> None: ...

    def flush(self) -> None:
        """Return once every record sent was acknowledged; raise if one was not."""


class CitizenWriter:
    """A batch run's writes of signal events and dead letters, and its redo of a citizen near
    the output limit (module docstring), for the topics of ``wire``."""

    def __init__(
        self,
        *,
        wire: Wire,
        engine: Engine,
        outputs: CitizenOutputs,
        fast: FastIngest,
        history_limit: int,
        partitions: int,
    ) -> None:
        self.wire = wire
        self.engine = engine
        self.outputs = outputs
        self.fast = fast
        self.history_limit = history_limit
        self.partitions = partitions
        self.limit = PRODUCER_MAX_REQUEST_BYTES - RECORD_OVERHEAD
        """The largest state or snapshot an event may leave its citizen with, and the largest
        dead letter (the run sets it: :attr:`streams.batch.BatchRebuild.max_output_bytes`)."""

    def send_signals(
        self, key: bytes, sends: list[tuple[Any, bytes]], producer: Sender, stats: BatchStats
    ) -> None:
        """Send one step's signal events (:meth:`CitizenOutputs.signals
        <streams.outputs.CitizenOutputs.signals>`) under the citizen's ``key``."""
        for event, payload in sends:
            producer.send(self.wire.signalen, key=key, value=payload, headers=event_headers(event))
            stats.signal_events += 1

    def deadletter(
        self, record: Any, exc: IngestError, producer: Sender, stats: BatchStats
    ) -> None:
        """Dead-letter ``record`` for ``exc`` as the worker does (its stage, reason and
        headers; the original's topic, partition and offset)."""
        letter = self.outputs.deadletter(
            record, stage=exc.stage, reason=exc.reason, error=exc, limit=self.limit, time=None
        )
        producer.send(
            self.wire.deadletter_streams,
            key=letter.key,
            value=letter.value,
            headers=letter.headers,
        )
        stats.deadlettered += 1

    def gathered(
        self, before: dict[str, CitizenState], wanted: set[str], records: Iterable[Any]
    ) -> dict[str, tuple[CitizenState | None, list[Any]]]:
        """What to redo (:data:`streams.batch.Redo`'s answer): per citizen of ``wanted`` its
        state in ``before`` and its records among ``records`` (those that decode), in offset
        order per topic partition, the topics interleaved by record timestamp (stable: ties
        in topic and partition order), so a redo's order does not depend on how a read
        interleaved them."""
        found: dict[str, dict[tuple[str, int], list[Any]]] = {s: {} for s in wanted}
        for record in records:
            try:
                subject, _ = self.fast.decode(record.value or b"", record.topic)
            except IngestError:
                continue  # dead-lettered by the first pass, whoever's it was
            if subject in found:
                found[subject].setdefault((record.topic, record.partition), []).append(record)
        out: dict[str, tuple[CitizenState | None, list[Any]]] = {}
        for subject, by_place in found.items():
            lists = [by_place[place] for place in sorted(by_place)]
            ordered = list(heapq.merge(*lists, key=lambda r: r.timestamp or 0))
            out[subject] = (before.get(subject), ordered)
        return out

    @staticmethod
    def untally(
        first: CitizenState,
        before: CitizenState | None,
        records: Sequence[Any],
        refused: Sequence[Any],
        stats: BatchStats,
    ) -> None:
        """Take back what the first pass counted for a citizen to be redone from ``before``
        over ``records`` (every record of it the first pass read; ``refused``: those it
        refused for the history limit, not counted yet): its accepted events (those it added
        to the state) and duplicates (the rest but the erased, which the redo does not count
        again: the marker is the same)."""
        accepted = len(first.events) - (0 if before is None else len(before.events))
        erased = 0 if before is None else sum(1 for r in records if before.erased(r.timestamp))
        stats.accepted -= accepted
        stats.duplicates -= len(records) - accepted - erased - len(refused)

    def redo(
        self,
        subject: str,
        before: CitizenState | None,
        records: Sequence[Any],
        *,
        until: date | None,
        producer: Sender,
        stats: BatchStats,
    ) -> CitizenState:
        """The worker's path for one citizen (module docstring): ``records`` applied to
        ``before`` one by one as ``Processor._event`` applies them on the replay clock, then
        the end-of-replay tick to ``until`` as ``Processor._klok`` applies a broadcast tick.
        Each step's signal events are encoded, remembered under its trigger (the record's
        topic, partition and offset; the tick, which is no record:
        ``<klok topic>:<partition>:-1``) and size-checked with the state before they are
        sent; an event that fails is undone and dead-lettered, a tick that fails is undone
        and counted (``too_large``). Returns the citizen's state."""
        state = before if before is not None else CitizenState(subject=subject)
        key = subject.encode()
        for record in records:
            value = record.value or b""
            _, event = self.fast.decode(value, record.topic)  # it decoded in the first pass
            if state.erased(record.timestamp):
                continue  # counted by the first pass
            trigger = f"{record.topic}:{record.partition}:{record.offset}"
            saved = state.savepoint()
            try:
                outcome = apply_event(
                    state,
                    StoredEvent(event, value),
                    self.engine,
                    today=None,
                    history_limit=self.history_limit,
                )
                sends = self._step(state, outcome, trigger) if outcome.accepted else []
            except IngestError as exc:  # the history limit, or the outputs too large
                state.restore(saved, event)
                self.deadletter(record, exc, producer, stats)
                continue
            if not outcome.accepted:
                stats.duplicates += 1
                continue
            stats.accepted += 1
            self.send_signals(key, sends, producer, stats)
        if until is None or not state.events:
            return state
        saved = state.savepoint()
        home = partition_of(subject, self.partitions)
        try:
            outcome = advance_clock(state, until, self.engine, today=None)
            sends = self._step(state, outcome, f"{self.wire.klok}:{home}:-1")
        except OutputTooLarge as exc:  # as the worker: this citizen left as it was
            state.restore(saved)
            stats.too_large += 1
            log.warning(
                "batch.tick_too_large",
                extra={"output": exc.output, "size": exc.size, "limit": exc.limit},
            )
            return state
        self.send_signals(key, sends, producer, stats)
        return state

    def _step(self, state: CitizenState, outcome: Outcome, trigger: str) -> list[tuple[Any, bytes]]:
        """``Processor._record`` without Faust: the step's signal events encoded and
        remembered (``uitvoer``), then the size check; returns what to send."""
        sends = self.outputs.signals(outcome.changes)
        if sends:
            state.remember_output(trigger, [payload for _, payload in sends])
        self.outputs.check(state, outcome.clock, self.limit)
        return sends
