"""The audit trail of the API: one ``nl.schakel.inzage.geregistreerd`` record per answered
``/api/v1`` request on ``schakel.inzage``, acknowledged by the broker before the answer.

Guarantee (docs/operations.md): :meth:`AuditTrail.record` returns only after the broker has
acknowledged the record with ``acks=all`` (every in-sync replica has it). The API answers
after that, so a read that was answered has its audit record, even if the worker is killed
the moment after. If the record cannot be written within :attr:`AuditTrail.timeout_s`
(broker or schema registry unreachable, no partition leader, …) it raises
:class:`AuditUnavailable` and the API answers 503 instead of the data, logged as
``audit.unavailable``: every request meets the outage, so the first at once, then at most a
line a minute with the number left out (:class:`~schemas.log_limits.RefusalLog`). A record
whose write timed out may still reach the topic later: the trail can hold a record of a read
that was not answered, never an answer without a record.

The record's schema id is looked up in the registry once (a blocking HTTP request, retried by
the registry client for much longer than the timeout) in a thread of its own, never on the
event loop that also runs the web server, the stream and the consumer's heartbeats: a registry
that does not answer costs each request at most the timeout, and other traffic keeps flowing.
One lookup at a time: requests meanwhile wait for the same one (each at most the timeout); a
failed one is tried again by the next request.

A registry that refuses the worker (:class:`~schemas.exceptions.RegistryRefused`: its
credentials or certificates, the schema not registered) is no outage: :meth:`AuditTrail.record`
raises the permanent :class:`AuditRefused` (the API answers 502 and logs it at most a line a
minute), logs nothing itself, and the requests of the next :data:`REFUSED_RETRY_S` seconds get
the same refusal without asking the registry; the first request after that asks again (an
operator may have mended it meanwhile).

The records are written by a producer of their own (aiokafka, ``acks=all``), not by the
worker's Faust producer, so the guarantee does not depend on the processing guarantee of
the stream (a transactional producer would make the record visible only at the next commit).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from schemas import kafka_client
from schemas.binding import event_headers
from schemas.envelope import Event
from schemas.exceptions import PermanentError, RegistryError, RegistryRefused, TransientError
from schemas.log_limits import RefusalLog
from schemas.serde import RecordSerializer
from schemas.settings import ApiToken
from streams.exceptions import StreamsError

log = logging.getLogger("schakel.audit")

AUDIT_TYPE = "nl.schakel.inzage.geregistreerd"
AUDIT_FIELDS = ("wie", "rol", "doel", "wat", "tijd")
"""The fields of an audit record's ``data`` (:meth:`AuditTrail.event`)."""
AUDIT_TIMEOUT_S = 5.0
"""Longest wait for the broker's acknowledgement of one audit record before answering 503."""
REFUSED_RETRY_S = 60.0
"""How long a refusal of the record's schema lookup stands before the registry is asked again."""


def _monotonic() -> float:
    return time.monotonic()


class AuditUnavailable(StreamsError, TransientError):
    """Transient: the audit record could not be written (and acknowledged) in time."""


class AuditRefused(StreamsError, PermanentError):
    """Permanent: the schema registry refuses the worker the audit record's schema
    (:attr:`refusal`: its credentials or certificates, the schema not registered), so no
    record can be written until an operator mends the configuration."""

    def __init__(self, refusal: RegistryRefused) -> None:
        super().__init__("inzage: het schemaregister weigert de worker (configuratie)")
        self.refusal = refusal


class AuditTrail:
    """Writes audit records to ``topic`` on ``bootstrap`` and waits for the acknowledgement.

    The producer starts on the first record (inside the web server's event loop) and again
    after a failed start; :meth:`stop` closes it."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        serializer: RecordSerializer,
        source: str,
        *,
        timeout_s: float = AUDIT_TIMEOUT_S,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.timeout_s = timeout_s
        self._serializer = serializer
        self._source = source
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._schema_id: asyncio.Task[int] | None = None
        """The lookup of the record's schema id (:meth:`_prepared`): running, or done."""
        self._refused_at = 0.0
        """When the last lookup was refused (:func:`_monotonic`)."""
        self._unavailable = RefusalLog(log, "audit.unavailable")
        """The line of a record not written in time: one a minute during an outage, not one a
        request."""

    def event(self, client: ApiToken, doel: str, wat: str, subject: str | None) -> Event:
        """The audit record of ``client`` reading ``wat`` (about ``subject``) for ``doel``
        (already checked and masked: :func:`streams.purpose.clean_purpose`)."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        return Event(
            id=uuid.uuid4().hex,
            source=self._source,
            type=AUDIT_TYPE,
            subject=subject,
            time=now,
            data={"wie": client.name, "rol": client.role, "doel": doel, "wat": wat, "tijd": now},
        )

    async def _prepared(self) -> None:
        """Wait until the serializer knows the schema id of :data:`AUDIT_TYPE` on the topic,
        so that encoding a record needs no registry. The lookup blocks (HTTP, with the
        registry client's retries), so it runs in a thread, one at a time: a caller cancelled
        by its timeout leaves it running for the next caller (``shield``); one that failed is
        started again by the next caller — one the registry refused only after
        :data:`REFUSED_RETRY_S` (until then its refusal is raised again)."""
        lookup = self._schema_id
        refusal = self._standing_refusal(lookup)
        if refusal is not None:  # a new exception each time: the refusal is not raised again
            raise AuditRefused(refusal) from refusal
        if lookup is None or (lookup.done() and (lookup.cancelled() or lookup.exception())):
            lookup = asyncio.ensure_future(self._lookup())
            # retrieved here, so that a failure nobody waits for any more is not logged as
            # "never retrieved"; the caller that waits gets it from the task
            lookup.add_done_callback(lambda task: task.cancelled() or task.exception())
            self._schema_id = lookup
        try:
            await asyncio.shield(lookup)
        except RegistryRefused as exc:
            raise AuditRefused(exc) from exc

    async def _lookup(self) -> int:
        """The schema id of :data:`AUDIT_TYPE` on the topic, looked up in a thread."""
        try:
            return await asyncio.to_thread(self._serializer.prepare, self.topic, AUDIT_TYPE)
        except RegistryRefused:
            self._refused_at = _monotonic()
            raise

    def _standing_refusal(self, lookup: asyncio.Task[int] | None) -> RegistryRefused | None:
        """The registry's refusal of ``lookup`` if it ended so less than
        :data:`REFUSED_RETRY_S` ago, else None."""
        if lookup is None or not lookup.done() or lookup.cancelled():
            return None
        failed = lookup.exception()
        if isinstance(failed, RegistryRefused) and (
            _monotonic() - self._refused_at < REFUSED_RETRY_S
        ):
            return failed
        return None

    async def _started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap,
                    client_id="schakel-inzage",
                    acks="all",
                    request_timeout_ms=int(self.timeout_s * 1000),
                    **kafka_client.current().aiokafka(),
                )
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer

    async def record(self, client: ApiToken, doel: str, wat: str, subject: str | None) -> str:
        """Write the audit record and wait for ``acks=all``; return its id. Raises
        :class:`AuditUnavailable` when that does not succeed within the timeout (logged as
        ``audit.unavailable``, at most a line a minute), :class:`AuditRefused` when the
        registry refuses the record's schema (not logged here: the caller answers and logs
        it)."""
        event = self.event(client, doel, wat, subject)
        try:
            async with asyncio.timeout(self.timeout_s):
                await self._prepared()
                value = self._serializer(event, self.topic)  # the schema id known: no registry
                producer = await self._started()
                await producer.send_and_wait(
                    self.topic,
                    value=value,
                    key=client.name.encode(),
                    headers=event_headers(event),
                )
        except (TimeoutError, KafkaError, OSError, RegistryError) as exc:
            self._unavailable(topic=self.topic, reason=type(exc).__name__)
            raise AuditUnavailable("inzage: het auditrecord kon niet worden vastgelegd") from exc
        return event.id

    async def stop(self) -> None:
        """Close the producer (flushing what it holds)."""
        async with self._lock:
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None
