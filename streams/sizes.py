"""How large an output record of the stream core may be, and the check that keeps every
citizen's whole-citizen outputs — the state on the table changelog and the timeline snapshot —
under it.

Kafka refuses a record larger than the producer's request limit (the worker's aiokafka
producer: :data:`PRODUCER_MAX_REQUEST_BYTES`; librdkafka's ``message.max.bytes`` on the batch
path: the same) or than its topic's ``max.message.bytes`` (the broker's default
:data:`BROKER_DEFAULT_MAX_MESSAGE_BYTES`). Neither path survives such a refusal: the worker's
producer buffer task dies on the producer's own refusal (the worker stalls while ``/ready``
says 200), and a refusal by the broker is dropped with a warning, the transaction committed
without the record, and every later record of that producer on the same output partition
fails with ``OutOfOrderSequenceNumber`` (also dropped); the batch path stops on the producer's
refusal and reports the broker's as an outage (docs/operations.md, "Output records too large").

So a refusal is never let happen: the producers' batches are kept within the limit
(:func:`batch_bytes`), and an event that would make its citizen's state or snapshot
larger than :func:`output_limit` allows is refused *before* anything of it is written, like an
event beyond the history limit (:class:`OutputTooLarge`: dead-lettered, stage ``accept``,
reason ``too-large``, the state and every signal as they were). Both the state (every accepted
event's wire bytes) and the snapshot grow with the history: at the default history limit of
2,000 events a citizen's state is about 0.3 MB with ordinary events, but 7.4 MB with events
whose attributes are as long as the adapters allow (ASCII; 28.6 MB in 4-byte UTF-8), which
passes 1 MB after about 285 (73) such events.

A dead letter carries a whole input record, which another producer may have written nearly as
large as the event topics take (1,048,588 bytes by default): with the dead-letter headers it
can pass the limit too. :func:`schemas.binding.deadletter_record` then writes it without the
original's value (header ``schakel.bron.weggelaten``: its size), under the same limit, which
therefore includes the dead-letter topic's ``max.message.bytes`` (:func:`sized_outputs`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from schemas import kafka_client
from schemas.wire import Wire
from streams.ingest import IngestError

log = logging.getLogger("schakel.streams")

PRODUCER_MAX_REQUEST_BYTES = 1_000_000
"""The producers' request limit (Faust's ``producer_max_request_size``, librdkafka's
``message.max.bytes``, both 1,000,000 by default, set explicitly): a larger record is refused
before it is sent."""
BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
"""Kafka's default ``message.max.bytes`` (a topic without ``max.message.bytes`` of its own)."""
RECORD_OVERHEAD = 512
"""Bytes allowed for what Kafka adds to a record's key, value and headers: the record batch
header (61), the record's framing (varints) and slack."""
PRODUCER_BATCH_BYTES = 16_384
"""The worker's producer batch size (Faust's ``producer_max_batch_size`` default)."""
EXACT_FROM = 4
"""The sizes are computed exactly (by encoding) only once the wire bytes of a citizen's
events reach a quarter of the limit: below, neither output comes near it (the state is those
bytes plus a few per event and the signals; the snapshot holds less of each event)."""


class OutputTooLarge(IngestError):
    """An event that would make its citizen's state or timeline snapshot larger than Kafka
    accepts (:func:`output_limit`). Permanent for this record while the limit stands: it is
    dead-lettered (stage ``accept``, reason ``too-large``) and leaves the state as it was."""

    def __init__(self, output: str, size: int, limit: int) -> None:
        super().__init__(
            f"with this event the citizen's {output} would be {size} bytes, more than the "
            f"{limit} an output record may have (the producer's request limit and the "
            "max.message.bytes of the output topics): the event is refused, not accepted",
            stage="accept",
            reason="too-large",
        )
        self.output, self.size, self.limit = output, size, limit


class TickTooLarge(IngestError):
    """A clock tick that would make the state or timeline snapshot of some of the citizens it
    reaches larger than an output record may be. It is not applied to them — their state,
    clock and signals stay as before the tick — and is applied to every other citizen it
    reaches (a broadcast reaches a whole partition): raised once the others are done, so the
    tick is dead-lettered once (stage ``accept``, reason ``too-large``), naming them.
    ``refused``: (pseudonym, :class:`OutputTooLarge`) per citizen left as it was."""

    SHOWN = 5
    """How many of the citizens left as they were the message names (then how many more)."""

    def __init__(self, tot: date, refused: list[tuple[str, OutputTooLarge]], limit: int) -> None:
        named = ", ".join(
            f"{subject} ({exc.output} {exc.size} bytes)" for subject, exc in refused[: self.SHOWN]
        )
        more = len(refused) - self.SHOWN
        super().__init__(
            f"the clock tick to {tot.isoformat()} would make the state or timeline snapshot of "
            f"{len(refused)} citizen(s) larger than the {limit} bytes an output record may have "
            "(the producer's request limit and the max.message.bytes of the output topics): "
            "not applied to them, their state, clock and signals as before the tick; applied "
            f"to every other citizen: {named}" + (f" and {more} more" if more > 0 else ""),
            stage="accept",
            reason="too-large",
        )
        self.tot, self.refused, self.limit = tot, refused, limit


def sized_outputs(wire: Wire) -> list[str]:
    """The output topics whose ``max.message.bytes`` bound :func:`output_limit`: the timeline
    snapshots and the changelog (a citizen's largest records) and the streams dead-letter topic
    (a dead letter carries a whole input record, which another producer may have made nearly
    as large as the event topics take: :func:`schemas.binding.deadletter_record` leaves its
    value out when it would not fit). One limit for all, as the producer's batch size
    (:func:`batch_bytes`) must suit every topic it writes."""
    return [wire.tijdlijnen, wire.changelog, wire.deadletter_streams]


def output_limit(topic_limits: Iterable[int | None]) -> int:
    """Largest key + value + headers an output record may have: the smallest of the
    producer's request limit and the output topics' ``max.message.bytes`` (``None``: the
    broker's default), less :data:`RECORD_OVERHEAD`."""
    limits = [BROKER_DEFAULT_MAX_MESSAGE_BYTES if x is None else x for x in topic_limits]
    return min([PRODUCER_MAX_REQUEST_BYTES, *limits]) - RECORD_OVERHEAD


def batch_bytes(limit: int, default: int = PRODUCER_BATCH_BYTES) -> int:
    """The producer's batch size for an output limit of ``limit``: ``default`` unless that is
    larger. The broker applies ``max.message.bytes`` to a whole record batch, and neither
    aiokafka nor librdkafka splits a batch it refuses: records that fit one by one must not
    be batched past the limit (a record larger than the batch size goes in a batch alone)."""
    return min(default, limit)


def topic_limits(bootstrap: str, topics: Iterable[str]) -> dict[str, int | None]:
    """``max.message.bytes`` of each of ``topics`` as the broker reports it; ``None`` where it
    reports none (a topic on the broker's default: only values set somewhere are reported) or
    cannot tell (a broker without the API, or not reached: logged as
    ``size.limits_unknown``)."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    names = list(topics)
    found: dict[str, int | None] = dict.fromkeys(names)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            request_timeout_ms=10_000,
            **kafka_client.current().kafka_python(),
        )
        try:
            asked = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
            described = admin.describe_configs(asked)
        finally:
            admin.close()
        for name in names:
            value = _config_value(described, name, "max.message.bytes")
            found[name] = int(value) if value is not None and value.isascii() else None
    except Exception as exc:
        log.warning("size.limits_unknown", extra={"error": f"{type(exc).__name__}: {exc}"})
    return found


def _config_value(described: Any, topic: str, name: str) -> str | None:
    """One configuration value out of kafka-python's ``describe_configs`` answer."""
    topics: Mapping[str, Any] = (described or {}).get("topic", {}) if described else {}
    value = (topics.get(topic) or {}).get(name)
    if isinstance(value, Mapping):
        value = value.get("value")
    return None if value is None else str(value).strip()


def measured(payloads: int, limit: int) -> bool:
    """Whether :func:`check_outputs` measures a citizen whose events have ``payloads`` wire
    bytes: at or past ``limit / EXACT_FROM``. Below, no check of the citizen can fail, so
    the batch path takes the streaming path's per-event semantics only for a citizen for
    whom this is true (:mod:`streams.batch_citizens`, "Output size")."""
    return payloads * EXACT_FROM >= limit


def check_outputs(
    payloads: int, limit: int, *, state: Callable[[], int], snapshot: Callable[[], int]
) -> None:
    """Raise :class:`OutputTooLarge` if the citizen's state (``state()``: its encoded size)
    or snapshot (``snapshot()``) would be larger than ``limit``; ``payloads``: the wire bytes
    of the citizen's events, below ``limit / EXACT_FROM`` of which nothing is encoded
    (:func:`measured`)."""
    if not measured(payloads, limit):
        return
    for output, size in (("state", state), ("timeline snapshot", snapshot)):
        found = size()
        if found > limit:
            raise OutputTooLarge(output, found, limit)
