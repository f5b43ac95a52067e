"""The one publishing path to Kafka: kafka-python, idempotent producer, acks=all.

``send`` only queues; ``flush`` waits for the broker's acknowledgement of everything queued.
Two kinds of failure, kept apart (:mod:`adapters.exceptions`):

- an **outage** — the broker unreachable, a timeout, any other error of the client or the
  broker — is a :class:`PublishError` (transient): nothing is acknowledged, the caller stores
  no checkpoint and sends the same records again once the broker is back;
- a record **refused for its size** — by the producer (larger than
  :data:`MAX_REQUEST_BYTES`, raised by ``send``) or by the broker (larger than the topic's
  ``max.message.bytes``, reported by ``flush``) — is a :class:`RecordTooLarge` (permanent):
  sending it again gets the same answer, so the caller quarantines that record and goes on.

kafka-python (3.0) takes the broker's refusal as fatal for its idempotent producer: from then
on it fails *every* record with the same ``MessageSizeTooLargeError``. So a size error of a
record is not taken at its word: the producer is replaced by a new one and the record sent
again alone; only if the broker refuses it again is it too large — the others are published
(:meth:`Publisher._refused_alone`).

kafka-python's idempotent producer can also stay stuck after an **outage**: once the outage
expired a batch it had sent (its delivery timeout, 120 s), it drops its producer id and, with
the broker back, never asks for a new one — it sends nothing again (measured with kafka-python
3.0.12). So a producer that met an outage is not used again: the next ``send`` replaces it by a
new one (:meth:`Publisher._current`), which fails as an outage while the broker is still away.

A publisher made with ``wait=True`` (a continuous adapter, the webhook) does not give up when
the broker is away at its start: it starts without a producer (:attr:`Publisher.unconnected`
says why) and makes one at the first send or :meth:`Publisher.check`, which fails as an outage
while the broker is still away — so the caller waits it out as any other outage. Without
``wait`` (``--once``, ``publish``, the other commands) the constructor raises the
:class:`PublishError`: "run again later".

``send_and_wait`` (push sources) waits for the acknowledgement of one event. All methods are
thread-safe."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from kafka import KafkaProducer
from kafka.errors import (
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
)

from adapters.exceptions import PublishError, RecordTooLarge
from schemas import kafka_client
from schemas.binding import event_headers
from schemas.envelope import Event
from schemas.serde import RecordSerializer
from schemas.wire import Wire

log = logging.getLogger("schakel.adapters")

Headers = Sequence[tuple[str, bytes]]

MAX_REQUEST_BYTES = 1_048_576
"""The producer's ``max_request_size`` (kafka-python's default, stated): a record larger than
this with its key and headers is refused before it is sent."""

SIZE_ERRORS = (MessageSizeTooLargeError, RecordListTooLargeError)
"""The kafka-python errors that refuse one record for its size. The producer raises
``MessageSizeTooLargeError`` itself for a record over ``max_request_size``; the broker answers
``MESSAGE_TOO_LARGE`` (or ``RECORD_LIST_TOO_LARGE``) for a batch over the topic's limit, which
kafka-python splits and sends again until the batch is the one record it refuses."""

RENEW_BOOTSTRAP_MS = 5_000
"""How long making a producer to replace one that met an outage — or, with ``wait``, the
first one — waits for the broker: the new producer fetches the cluster's metadata before it is
used, so while the broker is still away making it fails (an outage) after this long, not after
kafka-python's 30 s."""

FLUSH_SLICE_S = 0.5
"""How often a :meth:`Publisher.flush` looks at its ``cancel`` event while it waits."""

BROKER_REFUSED = (
    "the broker refused the encoded event as too large (larger than the topic's "
    "max.message.bytes): make the event smaller"
)


class RawRecord(NamedTuple):
    """A record as handed to the producer."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def record_size(key: bytes | None, value: bytes, headers: Headers) -> int:
    """Bytes of a record's key, value and headers (what its size limits count, less the
    record's fixed overhead)."""
    return len(key or b"") + len(value) + sum(len(k) + len(v) for k, v in headers)


def _outage(exc: KafkaError) -> PublishError:
    return PublishError(f"broker did not acknowledge: {type(exc).__name__}: {exc}")


def discard(producer: Any, timeout: float = 0.0) -> None:
    """Close a kafka-python ``producer``, waiting at most ``timeout`` seconds for what it still
    holds; what it holds after that is failed, not sent.

    kafka-python's own ``close`` first flushes and, when records are still held (the broker
    away), raises and leaves its I/O thread running — to try again, with a traceback, when the
    object is collected or the interpreter exits. Its I/O thread is then stopped by force
    (``force_close``, which fails the records still held), after which ``close`` completes."""
    try:
        producer.close(timeout=timeout)
        return
    except KafkaError:
        pass
    sender = getattr(producer, "_sender", None)  # kafka-python 3.0's I/O thread
    if sender is not None:
        sender.force_close()
        sender.join(5.0)
    with contextlib.suppress(KafkaError):
        producer.close(timeout=0)


def _client_refused(size: int) -> RecordTooLarge:
    return RecordTooLarge(
        f"the encoded event is {size} bytes with its headers, more than Kafka accepts "
        f"(the producer's max_request_size, {MAX_REQUEST_BYTES} bytes): make the event smaller"
    )


class Publisher:
    """Publishes catalogue events keyed by pseudonym, and raw records (dead letters), on the
    topics of ``wire`` (one namespace). ``options`` are further ``KafkaProducer`` options
    (the tests shorten its delivery timeout to cross it quickly).

    The producer is made at once: a broker that does not answer raises
    :class:`PublishError` after kafka-python's bootstrap timeout (30 s) — unless ``wait``:
    then the constructor tries for :data:`RENEW_BOOTSTRAP_MS` and, failing, returns without a
    producer (:attr:`unconnected`); the next send or :meth:`check` tries again."""

    unconnected: PublishError | None = None
    """With ``wait``: the outage that kept the first producer from being made, while none is
    made yet (``None`` once one is)."""

    def __init__(
        self,
        bootstrap: str,
        serializer: RecordSerializer,
        *,
        client_id: str,
        wire: Wire,
        linger_ms: int = 20,
        options: Mapping[str, Any] | None = None,
        wait: bool = False,
    ) -> None:
        self._serializer = serializer
        self.wire = wire
        self._bootstrap = bootstrap
        self._config: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": linger_ms,
            "batch_size": 512 * 1024,
            "max_request_size": MAX_REQUEST_BYTES,
            "max_in_flight_requests_per_connection": 5,
            "retries": 10,
            **kafka_client.current().kafka_python(),
            **(options or {}),
        }
        self._stale: Any = None  # the producer that met an outage: replaced before its next use
        self._pending: list[tuple[Any, Any, RawRecord]] = []
        self._lock = threading.Lock()
        self._renewing = threading.Lock()
        self._producer: Any = None  # None: not made yet (``wait``, the broker away at the start)
        if not wait:
            self._producer = self._new_producer()
            return
        try:
            self._producer = self._new_producer(bootstrap_timeout_ms=RENEW_BOOTSTRAP_MS)
        except PublishError as exc:
            self.unconnected = exc

    def _new_producer(self, **options: Any) -> Any:
        try:
            return KafkaProducer(**{**self._config, **options})
        except KafkaError as exc:
            raise PublishError(f"cannot connect to Kafka at {self._bootstrap}: {exc}") from exc

    def _renew(self, broken: Any) -> None:
        """Replace the producer ``broken`` (unless that was done already) by a new one, and
        close ``broken`` without waiting; ``broken`` ``None``: make the first producer
        (``wait``). Raises :class:`PublishError` if no new producer can be made (the broker
        away; ``broken`` stays, to be replaced on the next attempt), or while another thread
        is replacing it."""
        if not self._renewing.acquire(blocking=False):
            raise PublishError("the producer is being replaced after an outage; try again")
        try:
            if self._producer is not broken:
                return
            fresh = self._new_producer(bootstrap_timeout_ms=RENEW_BOOTSTRAP_MS)
            with self._lock:
                self._producer = fresh
                self.unconnected = None
                if self._stale is broken:
                    self._stale = None
        finally:
            self._renewing.release()
        if broken is not None:
            log.info("adapter.producer_renewed", extra={"client_id": self._config["client_id"]})
            discard(broken)

    def _current(self) -> Any:
        """The producer to send with: one that met an outage is replaced first, and one not
        made yet (``wait``) is made now."""
        stale = self._stale
        if stale is not None or self._producer is None:
            self._renew(stale)
        return self._producer

    def check(self) -> None:
        """Return if the broker answers this publisher, without sending a record; raise
        :class:`PublishError` if not. A producer that met an outage is replaced now, and one not
        made yet (:attr:`unconnected`) is made (the new one asks the broker for the cluster's
        metadata: at most :data:`RENEW_BOOTSTRAP_MS`), so the next send does not wait for
        that; one that met none is not asked (the broker acknowledged what it sent). For a
        readiness probe (the webhook's ``/ready``)."""
        self._current()

    def _met_outage(self, producer: Any) -> None:
        """``producer`` did not get an acknowledgement (an outage): replace it before it is
        used again."""
        with self._lock:
            if self._producer is producer:
                self._stale = producer

    def _refused_alone(self, raw: RawRecord, timeout: float) -> bool:
        """Send ``raw`` — a record that failed with a size error — again, alone, on a working
        producer: ``True`` if the broker refuses it again (it is too large), ``False`` once it
        is acknowledged (it failed because its producer had stopped after another record's
        refusal). Raises :class:`PublishError` for an outage."""
        producer = self._current()
        try:
            producer.send(raw.topic, key=raw.key, value=raw.value, headers=raw.headers).get(
                timeout=timeout
            )
        except SIZE_ERRORS:
            self._renew(producer)
            return True
        except KafkaError as exc:
            self._met_outage(producer)
            raise _outage(exc) from exc
        return False

    @property
    def serializer(self) -> RecordSerializer:
        return self._serializer

    def _encode(self, event: Event) -> RawRecord:
        topic = self.wire.topic_for(event.type, event.domein)
        value = self._serializer(event, topic)
        key = event.subject.encode("ascii") if event.subject else None
        return RawRecord(topic, key, value, event_headers(event))

    def _send(self, raw: RawRecord) -> tuple[Any, Any]:
        """Hand ``raw`` to the producer: (the producer, the record's future)."""
        producer = self._current()
        try:
            future = producer.send(raw.topic, key=raw.key, value=raw.value, headers=raw.headers)
        except SIZE_ERRORS:
            raise _client_refused(record_size(raw.key, raw.value, raw.headers)) from None
        except KafkaError as exc:
            self._met_outage(producer)
            raise PublishError(f"cannot queue a record: {type(exc).__name__}: {exc}") from exc
        return producer, future

    def send(self, event: Event, *, tag: Any = None) -> Any:
        """Queue a catalogue event on its domain topic, keyed by its pseudonym, as a
        binary-mode CloudEvent (:func:`schemas.binding.event_headers`). ``tag`` names the
        event in a :class:`RecordTooLarge` raised by :meth:`flush`. Raises
        :class:`RecordTooLarge` if the producer refuses the event for its size,
        :class:`PublishError` for an outage."""
        topic, key, value, headers = self._encode(event)
        return self.send_raw(topic, key, value, headers, tag=tag)

    def send_raw(
        self, topic: str, key: bytes | None, value: bytes, headers: Headers = (), *, tag: Any = None
    ) -> Any:
        """Queue a record as is; it is awaited by the next :meth:`flush` (``tag`` as for
        :meth:`send`). Raises :class:`RecordTooLarge` or :class:`PublishError` as
        :meth:`send` does."""
        raw = RawRecord(topic, key, value, list(headers))
        _, future = self._send(raw)
        with self._lock:
            self._pending.append((future, tag, raw))
        return future

    def send_and_wait(self, event: Event, timeout: float = 30.0) -> None:
        """Publish one catalogue event and return only after the broker acknowledged it
        (acks=all). Raises :class:`RecordTooLarge` if the producer or the broker refused it for
        its size, :class:`PublishError` if the broker did not acknowledge it (an outage).
        Other queued records are not awaited."""
        raw = self._encode(event)
        producer, future = self._send(raw)
        try:
            future.get(timeout=timeout)  # sent after linger_ms; resolved on the ack
        except SIZE_ERRORS:
            self._renew(producer)
            if self._refused_alone(raw, timeout):
                raise RecordTooLarge(BROKER_REFUSED) from None
        except KafkaError as exc:
            self._met_outage(producer)
            raise _outage(exc) from exc

    def flush(self, timeout: float = 60.0, cancel: threading.Event | None = None) -> int:
        """Wait for the outcome of everything queued; return how many were acknowledged.

        Raises :class:`PublishError` if any record failed for another reason than its size
        (an outage: the caller sends all of them again), also when ``timeout`` passes or
        ``cancel`` is set first (a process told to stop does not wait out the timeout) —
        except with nothing queued, which returns 0 at once.
        Otherwise, if the broker refused records for their size — each confirmed by sending
        it again alone — raises :class:`RecordTooLarge` with their ``tags``: every other
        queued record was then acknowledged. Either way nothing stays queued."""
        with self._lock:
            pending, self._pending = self._pending, []
            producer = self._producer
        if not pending:  # nothing to wait for: no outage, whether told to stop or not
            return 0
        deadline = time.monotonic() + timeout
        try:
            self._await(producer, deadline, cancel)
        except KafkaTimeoutError as exc:
            self._met_outage(producer)
            raise _outage(exc) from exc
        except KafkaError:  # each record's future below says how it ended
            # kafka-python's flush raises UnknownError("Future not done") when it meets a
            # batch it split meanwhile (the broker's MESSAGE_TOO_LARGE)
            pass
        suspects: list[tuple[Any, RawRecord]] = []
        outage: KafkaError | None = None
        for future, tag, raw in pending:
            try:
                future.get(timeout=max(0.0, deadline - time.monotonic()))
            except SIZE_ERRORS:
                suspects.append((tag, raw))
            except KafkaError as exc:
                outage = outage or exc
        if outage is not None:
            self._met_outage(producer)
            raise _outage(outage) from outage
        if suspects:
            self._renew(producer)
        refused = [tag for tag, raw in suspects if self._refused_alone(raw, timeout)]
        if refused:
            raise RecordTooLarge(BROKER_REFUSED, tags=refused)
        return len(pending)

    @staticmethod
    def _await(producer: Any, deadline: float, cancel: threading.Event | None) -> None:
        """``producer.flush`` until ``deadline``, in slices of :data:`FLUSH_SLICE_S` while
        ``cancel`` is given; raises ``KafkaTimeoutError`` at the deadline or once ``cancel``
        is set."""
        while True:
            left = deadline - time.monotonic()
            if cancel is None:
                producer.flush(timeout=max(0.0, left))
                return
            if cancel.is_set() or left <= 0:
                raise KafkaTimeoutError("stopped before the broker acknowledged")
            try:
                producer.flush(timeout=min(FLUSH_SLICE_S, left))
                return
            except KafkaTimeoutError:
                continue

    def close(self, timeout: float = 5.0) -> None:
        """Close the producer, waiting at most ``timeout`` seconds for what it still holds
        (best effort on shutdown: what was not acknowledged is not checkpointed either)."""
        if self._producer is not None:
            discard(self._producer, timeout)
