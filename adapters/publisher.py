"""The one publishing path to Kafka: kafka-python, idempotent producer, acks=all.

``send`` only queues; ``flush`` waits for the broker's acknowledgement of everything queued
and raises :class:`PublishError` if any record failed — the caller checkpoints only after a
successful flush."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from adapters.exceptions import PublishError
from schemas.envelope import Event
from schemas.serde import RecordSerializer
from schemas.topics import topic_for

Headers = Sequence[tuple[str, bytes]]


class Publisher:
    """Publishes catalogue events keyed by pseudonym, and raw records (dead letters)."""

    def __init__(self, bootstrap: str, serializer: RecordSerializer, *, client_id: str) -> None:
        self._serializer = serializer
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=bootstrap,
                client_id=client_id,
                acks="all",
                enable_idempotence=True,
                linger_ms=10,
                batch_size=256 * 1024,
                max_in_flight_requests_per_connection=5,
                retries=10,
            )
        except KafkaError as exc:
            raise PublishError(f"cannot connect to Kafka at {bootstrap}: {exc}") from exc
        self._pending: list[Any] = []

    @property
    def serializer(self) -> RecordSerializer:
        return self._serializer

    def send(self, event: Event) -> Any:
        """Queue a catalogue event on its domain topic, keyed by its pseudonym."""
        topic = topic_for(event.type).name
        value = self._serializer(event, topic)
        key = event.subject.encode("ascii") if event.subject else None
        return self.send_raw(topic, key, value, [("content-type", b"application/avro")])

    def send_raw(self, topic: str, key: bytes | None, value: bytes, headers: Headers = ()) -> Any:
        future = self._producer.send(topic, key=key, value=value, headers=list(headers))
        self._pending.append(future)
        return future

    def flush(self, timeout: float = 60.0) -> int:
        """Wait for the acknowledgement of everything queued; return how many were acked."""
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
