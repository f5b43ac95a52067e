"""The dead letters of one run (``schakel replay``, :func:`schakel.dlq.streams_dead_letters`
with the offsets :func:`schakel.dlq.ends` took at its start): those written before the run
do not count, copies of one dead letter count once. A replay's namespace is fresh anyway (a
new embedded broker, or one the sandbox found unused), so through the command line nothing
can be there before; this is the guard that keeps the count right if one were."""

from __future__ import annotations

from kafka import KafkaProducer

from schakel.broker import EmbeddedBroker
from schakel.dlq import ends, streams_dead_letters
from schemas.wire import DEFAULT_WIRE as WIRE
from schemas.wire import Wire
from tests.unit.streams.test_api_deadletters import dead_letter


def write(bootstrap: str, offsets: list[int]) -> None:
    """The dead letters of the records at ``offsets`` of ``schakel.wmo.events``, in one batch
    (the embedded broker reports the end of a batch as its base offset + 1: :func:`ends`
    must not)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=50)
    for offset in offsets:
        record = dead_letter(offset, 100_000)
        producer.send(
            WIRE.deadletter_streams, key=record.key, value=record.value, headers=record.headers
        )
    producer.flush()
    producer.close()


def test_only_the_dead_letters_written_after_the_start_count(fresh_broker: EmbeddedBroker) -> None:
    bootstrap = fresh_broker.bootstrap
    assert ends(bootstrap, WIRE.deadletter_streams) == {0: 0}
    write(bootstrap, [1, 2, 3])  # before the run
    since = ends(bootstrap, WIRE.deadletter_streams)
    assert since == {0: 3}
    write(bootstrap, [4, 5, 5])  # the run: the dead letter of offset 5 twice (a redelivery)
    run = streams_dead_letters(bootstrap, WIRE, since)
    assert [d.location for d in run] == ["schakel.wmo.events/0/4", "schakel.wmo.events/0/5"]
    everything = streams_dead_letters(bootstrap, WIRE)
    assert [d.location.rsplit("/", 1)[1] for d in everything] == ["1", "2", "3", "4", "5"]
    # a namespace without the topic: nothing, and no topic created by asking
    other = Wire("nergens")
    assert ends(bootstrap, other.deadletter_streams) == {}
    assert streams_dead_letters(bootstrap, other, {}) == []
