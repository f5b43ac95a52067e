"""The batch path writes a citizen's state to the changelog only after the outputs of the
run so far were acknowledged (``BatchRebuild._finish``, ``_erase``).

Reproduction (Apache Kafka: tests/integration/streams/test_batch_redo.py): a state on the
changelog is what tells the next run that a record was done. A run whose signal events failed
(an outage past the producer's delivery timeout) while the states landed failed with
``BatchDeliveryError``, and the next run found every record a duplicate and never wrote those
signals; an erasure marker that landed without its snapshot tombstone left the forgotten
citizen's timeline on the snapshot topic for good."""

from __future__ import annotations

from schemas.wire import DEFAULT_WIRE

from .records import OTHER_BSN, BatchIngest, message, raw

WIRE = DEFAULT_WIRE


def ingested() -> BatchIngest:
    """Two citizens, one with a signal (a Wmo application and a Participatiewet application
    both refused: tussen-wal-en-schip)."""
    batch = BatchIngest()
    events = [
        raw("wmo-1", "nl.wmo.aanvragen.afgewezen", datum="2026-02-01", reden="werk-passender"),
        raw(
            "pw-1",
            "nl.participatiewet.aanvragen.afgewezen",
            datum="2026-02-10",
            regeling="bijstand",
            reden="zorg-passender",
        ),
        raw(
            "wt-1", "nl.wijkteams.casussen.geopend", bsn=OTHER_BSN, datum="2026-01-03", casus_id="C"
        ),
    ]
    batch.ingest(*[message(e, n) for n, e in enumerate(events)])
    return batch


def test_states_are_written_after_the_outputs_are_acknowledged() -> None:
    batch = ingested()
    batch.finish()
    topics = [record["topic"] for record in batch.producer.sent]
    assert topics.count(WIRE.signalen) >= 1  # the signal of the first citizen
    assert topics.count(WIRE.tijdlijnen) == 2 and topics.count(WIRE.changelog) == 2
    (flushed,) = batch.producer.flushed
    assert set(topics[:flushed]) == {WIRE.signalen, WIRE.tijdlijnen}
    assert set(topics[flushed:]) == {WIRE.changelog}


def test_an_erasure_marker_is_written_after_its_tombstone_is_acknowledged() -> None:
    batch = ingested()
    (subject, *_) = sorted(batch.states)
    batch.rebuild._erase(batch.states, [(subject, 10**13)], batch.producer)
    sent = batch.producer.sent
    assert [(r["topic"], r["value"] is None) for r in sent] == [
        (WIRE.tijdlijnen, True),
        (WIRE.changelog, False),
    ]
    assert batch.producer.flushed == [1]
    assert all(r["key"] == subject.encode() for r in sent)


def test_nothing_is_flushed_when_nothing_was_written() -> None:
    batch = BatchIngest()
    batch.rebuild._erase(batch.states, [], batch.producer)
    batch.finish(subjects=set())
    assert (batch.producer.sent, batch.producer.flushed) == ([], [])
