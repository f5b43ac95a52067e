"""Idempotency scope on the worker and the batch path, as docs/operations.md states it: an
event is accepted once per (``source``, ``id``) *per citizen*; the first accepted copy in
arrival order wins; an invalid copy uses up no id (issue 15, class 5)."""

from __future__ import annotations

import asyncio

from schemas.wire import DEFAULT_WIRE
from streams.processor import Message

from .records import OTHER_BSN, BatchIngest, Worker, message, raw

R2 = "tussen-wal-en-schip"


def afgewezen(event_id: str, datum: str, bsn: str | None = None) -> dict[str, object]:
    extra = {} if bsn is None else {"bsn": bsn}
    return raw(
        event_id, "nl.participatiewet.aanvragen.afgewezen", datum=datum, reden="overig", **extra
    )


def test_one_source_id_for_two_citizens_is_accepted_for_each_on_both_paths() -> None:
    # a source that reuses an id for another citizen: each citizen's copy is accepted
    first = message(afgewezen("pw-1", "2026-02-01"), 0)
    other = message(afgewezen("pw-1", "2026-02-01", bsn=OTHER_BSN), 1)
    again = message(afgewezen("pw-1", "2026-02-01"), 2)  # the first citizen's copy again
    worker = Worker()
    asyncio.run(worker.handle(first, other, again))
    assert sorted(len(s.events) for s in worker.table.values()) == [1, 1]
    assert worker.metrics.duplicates._value.get() == 1
    batch = BatchIngest()
    batch.ingest(first, other, again)
    assert sorted(len(s.events) for s in batch.states.values()) == [1, 1]
    assert (batch.stats.accepted, batch.stats.duplicates) == (2, 1)


def test_the_first_accepted_copy_in_arrival_order_wins_on_both_paths() -> None:
    wmo = message(
        raw("wmo-1", "nl.wmo.aanvragen.afgewezen", datum="2026-02-01", reden="geen-beperking"), 0
    )
    late = message(afgewezen("pw-1", "2026-06-01"), 1)  # arrives first, dated later
    early = message(afgewezen("pw-1", "2026-02-15"), 2)  # same (source, id): a duplicate
    worker = Worker()
    asyncio.run(worker.handle(wmo, late, early))
    batch = BatchIngest()
    batch.ingest(wmo, late, early)
    for states in (worker.table, batch.states):
        (state,) = states.values()
        assert [e.datum.isoformat() for e in state.timeline] == ["2026-02-01", "2026-06-01"]
    # 2026-06-01 is more than 90 days after the Wmo rejection: no R2 (2026-02-15 would be)
    assert worker.signals.sent == []


def test_an_invalid_copy_uses_up_no_id_on_both_paths() -> None:
    valid = message(afgewezen("pw-1", "2026-02-15"), 1)
    # the same event on the wrong topic: decoded (its id is known), invalid, dead-lettered
    misplaced = Message(
        DEFAULT_WIRE.topic_for("nl.wmo.aanvragen.afgewezen"), 0, 0, b"k", valid.value, []
    )
    worker = Worker()
    asyncio.run(worker.handle(misplaced, valid))
    assert [dict(d["headers"])["schakel.fase"] for d in worker.deadletters.sent] == [b"validate"]
    assert [[e.id for e in s.timeline] for s in worker.table.values()] == [["pw-1"]]
    batch = BatchIngest()
    batch.ingest(misplaced, valid)
    assert (batch.stats.deadlettered, batch.stats.accepted) == (1, 1)
