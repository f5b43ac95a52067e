"""The batch path with worker processes (``BatchRebuild(jobs=2)``): when one worker process
fails — its work raises for one partition number, or the broker did not acknowledge an output
it wrote — the run raises, commits no offset of the group and leaves no process behind;
nothing is lost: the next run reads everything again and gives the result of a run that never
failed. The failures are injected by patching a method here; the worker processes are forked,
so they inherit the patch."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from schakel.sandbox import delete_namespace
from schakel.topics import ensure_topics
from schemas.exceptions import TransientError
from schemas.wire import Wire
from streams.batch import BatchRebuild
from streams.batch_jobs import BatchJobFailed
from streams.batch_kafka import BatchDeliveryError, BulkProducer, PartitionReader, Span
from streams.state import CitizenState
from tests.brokers import PARTITIONS, TestBroker
from tests.integration.streams.helpers import publish
from tests.integration.streams.test_batch_equality import batch_rebuild, municipality, snapshots

BROKEN = 2
"""The partition number whose worker process fails."""


def _committed(bootstrap: str, wire: Wire) -> dict[TopicPartition, int]:
    """The group's committed offsets on the event topics of ``wire``."""
    group = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=wire.group_id, enable_auto_commit=False
    )
    try:
        tps = [
            TopicPartition(topic, p)
            for topic in wire.event_topics
            for p in sorted(group.partitions_for_topic(topic) or ())
        ]
        found = {tp: group.committed(tp) for tp in tps}
        return {tp: offset for tp, offset in found.items() if offset is not None}
    finally:
        group.close()


def _raise_in_partition(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker process of partition :data:`BROKEN` raises when it reads its changelog."""
    states: Callable[..., dict[str, CitizenState]] = BatchRebuild._states

    def broken(
        self: BatchRebuild,
        reader: PartitionReader,
        spans: list[Span],
        only: set[str] | None = None,
    ) -> dict[str, CitizenState]:
        if any(span.partition == BROKEN for span in spans):
            raise RuntimeError(f"injected failure in partition {BROKEN}")
        return states(self, reader, spans, only)

    monkeypatch.setattr(BatchRebuild, "_states", broken)


def _unacknowledged_in_children(monkeypatch: pytest.MonkeyPatch) -> None:
    """The producer of every worker process reports an output the broker did not
    acknowledge (the parent's flushes as usual)."""
    flush = BulkProducer.flush
    parent = os.getpid()

    def unacknowledged(self: BulkProducer, timeout: float = 300.0) -> None:
        flush(self, timeout)
        if os.getpid() != parent:
            raise BatchDeliveryError("1 output record(s) failed and 0 unacknowledged: injected")

    monkeypatch.setattr(BulkProducer, "flush", unacknowledged)


FAILURES: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], str, bool]] = {
    "raises": (_raise_in_partition, f"RuntimeError: injected failure in partition {BROKEN}", False),
    "unacknowledged": (_unacknowledged_in_children, "BatchDeliveryError: 1 output", True),
}
"""Per failure: how to inject it, what the run's error says, whether it is transient."""


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failing_worker_process_fails_the_run_and_commits_no_offset(
    kafka_broker: TestBroker, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    broker = kafka_broker
    failing, clean = (Wire(f"{broker.namespace or 'jobs'}-{n}") for n in ("fail", "clean"))
    events, until = municipality()
    events = events[:600]
    try:
        for wire in (failing, clean):
            ensure_topics(broker.bootstrap, partitions=PARTITIONS, wire=wire)
            publish(broker.bootstrap, events, wire=wire)
        inject, message, transient = FAILURES[failure]
        inject(monkeypatch)
        with pytest.raises(BatchJobFailed) as failed:
            batch_rebuild(broker, failing, jobs=2).run(until)
        assert message in str(failed.value)
        assert isinstance(failed.value, TransientError) is transient
        assert _committed(broker.bootstrap, failing) == {}
        assert multiprocessing.active_children() == []
        monkeypatch.undo()

        again = batch_rebuild(broker, failing, jobs=2).run(until)
        assert again.read == len(events)  # nothing was committed: everything is read again
        assert again.accepted + again.duplicates == len(events)
        assert sum(_committed(broker.bootstrap, failing).values()) == len(events)
        batch_rebuild(broker, clean).run(until)
        expected: dict[str, Any] = snapshots(broker.bootstrap, clean)
        assert len(expected) > 10
        assert snapshots(broker.bootstrap, failing) == expected
    finally:
        for wire in (failing, clean):
            delete_namespace(broker.bootstrap, wire)
