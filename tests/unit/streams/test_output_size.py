"""An event that would make its citizen's state or timeline snapshot larger than an output
record may be is refused — dead-lettered (stage ``accept``, reason ``too-large``), the state
as it was — by the worker and by the batch path's ingest, so no output is ever refused by
Kafka for its size (streams/sizes.py; on Apache Kafka: tests/integration/streams/
test_output_size.py).

Before: the event was accepted and the oversized output handed to the producer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from streams.sizes import (
    BROKER_DEFAULT_MAX_MESSAGE_BYTES,
    PRODUCER_MAX_REQUEST_BYTES,
    RECORD_OVERHEAD,
    OutputTooLarge,
    check_outputs,
    output_limit,
)
from streams.state import CitizenState, StoredEvent

from .records import OTHER_BSN, BatchIngest, Worker, message, raw

LIMIT = 6_000
"""The output limit of these tests: a citizen's state and snapshot pass it with the third
large event (each about 2.2 KB of wire bytes, its ``dataschema`` 2,000 characters long)."""
WIJKTEAM = "nl.wijkteams.casussen.geopend"


def large(n: int, bsn: str | None = None) -> dict[str, Any]:
    event = raw(f"wt-{n}", WIJKTEAM, datum="2026-01-10", casus_id=f"W-{n}")
    if bsn is not None:
        event["data"]["bsn"] = bsn
    event["dataschema"] = "https://schemas.example/" + "s" * 2000
    return event


def small(n: int, bsn: str | None = None) -> dict[str, Any]:
    event = raw(f"klein-{n}", WIJKTEAM, datum="2026-01-11", casus_id=f"K-{n}")
    if bsn is not None:
        event["data"]["bsn"] = bsn
    return event


def _dead(headers: list[tuple[str, bytes]]) -> tuple[bytes, bytes, bytes]:
    found = dict(headers)
    return found["schakel.fase"], found["schakel.fout.klasse"], found["schakel.bron.offset"]


def test_the_worker_dead_letters_the_event_that_would_make_an_output_too_large() -> None:
    worker = Worker()
    worker.processor.max_output_bytes = LIMIT
    messages = [message(e, n) for n, e in enumerate([large(1), large(2), large(3), small(4)])]
    messages.append(message(small(5, OTHER_BSN), 5))
    asyncio.run(worker.handle(*messages))

    (dead,) = worker.deadletters.sent
    assert _dead(dead["headers"]) == (b"accept", b"OutputTooLarge", b"2")
    message_text = dict(dead["headers"])["schakel.fout.melding"].decode()
    assert f"more than the {LIMIT} an output record may have" in message_text
    counted = worker.metrics.deadlettered.labels("accept", "too-large")._value.get()
    assert counted == 1
    # the citizen goes on without it (a small event after it is accepted), and so does another
    (citizen,) = [s for s in worker.table.values() if s.events and len(s.events) > 1]
    assert sorted(s.event.id for s in citizen.events) == ["klein-4", "wt-1", "wt-2"]
    assert len(worker.table) == 2
    # every snapshot written stays within the limit
    assert all(len(s["value"]) <= LIMIT for s in worker.snapshots.sent)


def test_the_batch_path_dead_letters_the_event_that_would_make_an_output_too_large() -> None:
    batch = BatchIngest()
    batch.rebuild.max_output_bytes = LIMIT
    batch.ingest(*[message(e, n) for n, e in enumerate([large(1), large(2), large(3), small(4)])])

    (dead,) = batch.producer.sent
    assert _dead(dead["headers"]) == (b"accept", b"OutputTooLarge", b"2")
    assert (batch.stats.accepted, batch.stats.deadlettered) == (3, 1)
    (state,) = batch.states.values()
    assert sorted(s.event.id for s in state.events) == ["klein-4", "wt-1", "wt-2"]
    assert not state.has(message_event(large(3)))


def message_event(event: dict[str, Any]) -> Any:
    """The timeline event of ``event`` as the batch path decodes it."""
    batch = BatchIngest()
    record = message(event, 0)
    return batch.rebuild.fast.decode(record.value, record.topic)[1]


def test_nothing_is_encoded_while_the_wire_bytes_are_far_below_the_limit() -> None:
    def never() -> int:
        raise AssertionError("encoded")

    check_outputs(249, 1000, state=never, snapshot=never)  # 249 * 4 < 1000
    sizes = iter([900, 1001])
    with pytest.raises(OutputTooLarge) as refused:
        check_outputs(250, 1000, state=lambda: next(sizes), snapshot=lambda: next(sizes))
    assert (refused.value.output, refused.value.size, refused.value.limit) == (
        "timeline snapshot",
        1001,
        1000,
    )


def test_the_limit_is_the_smallest_of_the_producer_and_the_topics() -> None:
    assert output_limit([None, None]) == PRODUCER_MAX_REQUEST_BYTES - RECORD_OVERHEAD
    assert output_limit([900, None]) == 900 - RECORD_OVERHEAD
    assert BROKER_DEFAULT_MAX_MESSAGE_BYTES > PRODUCER_MAX_REQUEST_BYTES


def test_the_wire_bytes_summed_stay_true_through_inserts_and_undos() -> None:
    """The size check reads ``payload_bytes`` per event instead of summing the history: it
    stays the sum of the events' wire bytes whatever is inserted, refused or undone."""
    batch = BatchIngest()
    records = [message(e, n) for n, e in enumerate([large(1), small(2), large(3), small(4)])]
    state = CitizenState(subject="s" * 32)
    for n, record in enumerate(records):
        event = batch.rebuild.fast.decode(record.value, record.topic)[1]
        saved = state.savepoint()
        assert state.insert(StoredEvent(event, record.value), history_limit=3)
        assert not state.insert(StoredEvent(event, record.value), history_limit=3)  # duplicate
        if n == 1:
            state.restore(saved, event)  # undone: as if never inserted
        assert state.payload_bytes == sum(len(s.payload) for s in state.events)
    assert [s.event.id for s in state.events] == ["wt-1", "wt-3", "klein-4"]
    # a state read back from its changelog record starts from the sum of its events
    copy = CitizenState(subject=state.subject, events=list(state.events))
    assert copy.payload_bytes == state.payload_bytes > 0
