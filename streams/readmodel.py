"""The read model: the latest timeline snapshot of every citizen, folded from the compacted
topic ``schakel.tijdlijnen`` (all partitions, from the beginning).

Every worker runs one in a background thread to answer the signal list of the API for *all*
citizens (the timeline of one citizen is answered by the worker that owns it); ``schakel
replay`` uses the same fold to print the definitive signals."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Mapping

from kafka import KafkaConsumer, TopicPartition

from schemas import kafka_client
from schemas.serde import RecordDeserializer
from schemas.wire import Wire
from streams.codec import SNAPSHOT_SCHEMA, signal_from_record
from streams.offsets import EndOffsetsUnconfirmed, end_offsets
from streams.signals import EmittedSignal

log = logging.getLogger("schakel.streams")


class ReadModel:
    """Signals per citizen, as in each citizen's latest snapshot on the timeline topic of
    ``wire``."""

    def __init__(
        self,
        bootstrap: str,
        deserializer: RecordDeserializer,
        wire: Wire,
        *,
        embedded: bool = True,
    ) -> None:
        """``embedded``: the broker is the embedded one, whose end offsets need correcting
        (:mod:`streams.offsets`); False on Apache Kafka."""
        self._bootstrap = bootstrap
        self._embedded = embedded
        self._topic = wire.tijdlijnen
        self._deserializer = deserializer
        self._signals: dict[str, list[EmittedSignal]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.caught_up = threading.Event()

    def _consumer(self, timeout: float = 30.0) -> tuple[KafkaConsumer, list[TopicPartition]]:
        consumer = KafkaConsumer(
            bootstrap_servers=self._bootstrap,
            enable_auto_commit=False,
            group_id=None,
            client_id="schakel-readmodel",
            # on Apache Kafka the worker writes snapshots inside transactions: an aborted one
            # must never be answered (the embedded broker has no usable transactions)
            isolation_level="read_uncommitted" if self._embedded else "read_committed",
            **kafka_client.current().kafka_python(),
        )
        # partitions_for_topic answers None until the first metadata response has arrived
        deadline = time.monotonic() + timeout
        partitions = consumer.partitions_for_topic(self._topic)
        while not partitions and time.monotonic() < deadline:
            time.sleep(0.1)
            partitions = consumer.partitions_for_topic(self._topic)
        if not partitions:
            consumer.close()
            raise RuntimeError(f"topic {self._topic} has no partitions (not created?)")
        tps = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        return consumer, tps

    def apply(self, payload: bytes | None, key: bytes | None = None) -> None:
        if payload is None:  # tombstone: the citizen was forgotten
            if key is not None:
                with self._lock:
                    self._signals.pop(key.decode("ascii", "replace"), None)
            return
        name, record = self._deserializer.decode(payload)
        if name != SNAPSHOT_SCHEMA:
            return
        signals = [signal_from_record(r) for r in record["signalen"]]
        with self._lock:
            self._signals[record["subject"]] = signals

    def _poll(self, consumer: KafkaConsumer) -> int:
        count = 0
        for records in consumer.poll(timeout_ms=500, max_records=5000).values():
            for message in records:
                try:
                    self.apply(message.value, message.key)
                except Exception:  # a bad snapshot must not stop the read model
                    log.exception(
                        "readmodel.bad_snapshot",
                        extra={"partition": message.partition, "offset": message.offset},
                    )
                count += 1
        return count

    def _end(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        probe = KafkaConsumer(
            bootstrap_servers=self._bootstrap,
            enable_auto_commit=False,
            group_id=None,
            client_id="schakel-readmodel-end",
            # the last stable offset, which a read_committed reader can reach
            isolation_level="read_uncommitted" if self._embedded else "read_committed",
            **kafka_client.current().kafka_python(),
        )
        try:
            return end_offsets(probe, tps, embedded=self._embedded)
        finally:
            probe.close()

    def catch_up(self, timeout: float = 60.0) -> int:
        """Read everything on the topic now (blocking); return how many snapshots. Ends the
        embedded broker does not confirm (:class:`~streams.offsets.EndOffsetsUnconfirmed`: it
        stalled) are asked again for up to ``timeout`` seconds, then raised."""
        consumer, tps = self._consumer()
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    end = self._end(tps)
                    break
                except EndOffsetsUnconfirmed:
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(0.5)
            total = 0
            while any(consumer.position(tp) < end[tp] for tp in tps):
                total += self._poll(consumer)
            return total
        finally:
            consumer.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception:  # the API must keep a read model: log, wait, reconnect
                log.exception("readmodel.failed")
                self._stop.wait(1.0)

    def _follow(self) -> None:
        consumer, tps = self._consumer()
        try:
            end = self._end(tps)
            while not self._stop.is_set():
                self._poll(consumer)
                if not self.caught_up.is_set() and all(
                    consumer.position(tp) >= end[tp] for tp in tps
                ):
                    self.caught_up.set()
        finally:
            consumer.close()

    def start(self) -> None:
        """Start folding in the background (idempotent). Started lazily by the API, so a
        worker nobody asks for signals (a replay) spends nothing on it."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="schakel-readmodel", daemon=True)
            self._thread.start()

    @property
    def started(self) -> bool:
        return self._thread is not None

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def signals(self) -> list[tuple[str, EmittedSignal]]:
        """Every citizen's signals (starts the background fold if it was not running)."""
        self.start()
        with self._lock:
            return [(subject, s) for subject, sigs in self._signals.items() for s in sigs]

    def open_per_rule(self) -> Mapping[str, int]:
        """Open signals per rule; empty while the fold has not been started."""
        if not self.started:
            return {}
        return Counter(s.regel for _, s in self.signals() if s.status == "open")
