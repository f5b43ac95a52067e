"""The one publishing path to Kafka: kafka-python, idempotent producer, acks=all.

``send`` only queues; ``flush`` waits for the broker's acknowledgement of everything queued
and raises :class:`PublishError` if any record failed — the caller checkpoints only after a
successful flush. ``send_and_wait`` (push sources) waits for the acknowledgement of one event.
All methods are thread-safe."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from adapters.exceptions import PublishError
from schemas.binding import event_headers
from schemas.envelope import Event
from schemas.serde import RecordSerializer
from schemas.wire import Wire

Headers = Sequence[tuple[str, bytes]]


class Publisher:
    """Publishes catalogue events keyed by pseudonym, and raw records (dead letters), on the
    topics of ``wire`` (one namespace)."""

    def __init__(
        self,
        bootstrap: str,
        serializer: RecordSerializer,
        *,
        client_id: str,
        wire: Wire,
        linger_ms: int = 20,
    ) -> None:
        self._serializer = serializer
        self.wire = wire
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=bootstrap,
                client_id=client_id,
                acks="all",
                enable_idempotence=True,
                linger_ms=linger_ms,
                batch_size=512 * 1024,
                max_in_flight_requests_per_connection=5,
                retries=10,
            )
        except KafkaError as exc:
            raise PublishError(f"cannot connect to Kafka at {bootstrap}: {exc}") from exc
        self._pending: list[Any] = []
        self._lock = threading.Lock()

    @property
    def serializer(self) -> RecordSerializer:
        return self._serializer

    def _encode(self, event: Event) -> tuple[str, bytes | None, bytes]:
        topic = self.wire.topic_for(event.type, event.domein)
        value = self._serializer(event, topic)
        key = event.subject.encode("ascii") if event.subject else None
        return topic, key, value

    def send(self, event: Event) -> Any:
        """Queue a catalogue event on its domain topic, keyed by its pseudonym, as a
        binary-mode CloudEvent (:func:`schemas.binding.event_headers`)."""
        topic, key, value = self._encode(event)
        return self.send_raw(topic, key, value, event_headers(event))

    def send_raw(self, topic: str, key: bytes | None, value: bytes, headers: Headers = ()) -> Any:
        """Queue a record as is; it is awaited by the next :meth:`flush`."""
        try:
            future = self._producer.send(topic, key=key, value=value, headers=list(headers))
        except KafkaError as exc:
            raise PublishError(f"cannot queue a record: {type(exc).__name__}: {exc}") from exc
        with self._lock:
            self._pending.append(future)
        return future

    def send_and_wait(self, event: Event, timeout: float = 30.0) -> None:
        """Publish one catalogue event and return only after the broker acknowledged it
        (acks=all); raise :class:`PublishError` otherwise. Other queued records are not
        awaited."""
        topic, key, value = self._encode(event)
        try:
            future = self._producer.send(topic, key=key, value=value, headers=event_headers(event))
            future.get(timeout=timeout)  # sent after linger_ms; resolved on the ack
        except KafkaError as exc:
            raise PublishError(f"broker did not acknowledge: {type(exc).__name__}: {exc}") from exc

    def flush(self, timeout: float = 60.0) -> int:
        """Wait for the acknowledgement of everything queued; return how many were acked."""
        with self._lock:
            pending, self._pending = self._pending, []
        try:
            self._producer.flush(timeout=timeout)
            for future in pending:
                future.get(timeout=timeout)
        except KafkaError as exc:
            raise PublishError(f"broker did not acknowledge: {type(exc).__name__}: {exc}") from exc
        return len(pending)

    def close(self) -> None:
        with contextlib.suppress(KafkaError):  # best effort on shutdown
            self._producer.close(timeout=10)
