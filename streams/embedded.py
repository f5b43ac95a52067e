"""Work-around for the embedded broker (Tansu 0.6.0) inside Faust.

Tansu answers ListOffsets(latest) with the base offset of the last record batch + 1 (see
:mod:`streams.offsets`). Faust's table recovery reads a changelog partition up to that
"highwater" and stops: the records of the last batch after its first one are never applied,
so a restarted worker would miss state it had written (and re-emit signals). In the embedded
profile, :func:`use_true_highwaters` makes Faust ask for the true end offsets instead. It is
never applied against Apache Kafka (``SCHAKEL_PROFILE=kafka`` or ``production``), where end
offsets are right."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

from streams.offsets import EndOffsetsUnconfirmed, probe_ends, true_end_offsets

RECOVERY_PATIENCE_S = 45.0
"""How long the worker's table recovery asks again for the ends of partitions whose last batch
the embedded broker did not deliver (each ask waits 5 s): a stall of a loaded machine is
waited out; one longer is an outage and stops the worker. Well under Faust's
``broker_request_timeout`` (90 s), past which Faust stops waiting for the answer without a
word."""

RETRY_PAUSE_S = 1.0


async def highwaters(bootstrap: str, partitions: Sequence[Any]) -> Mapping[Any, int]:
    """The true ends of Faust's ``partitions`` on the embedded broker
    (:func:`streams.offsets.probe_ends`). Each probe runs in a thread of its own, so the
    consumer thread's event loop — and its heartbeats — go on while the broker is slow; an
    unconfirmed end is asked again until :data:`RECOVERY_PATIENCE_S`, then raised."""
    deadline = time.monotonic() + RECOVERY_PATIENCE_S
    while True:
        try:
            return await asyncio.to_thread(probe_ends, bootstrap, partitions, true_end_offsets)
        except EndOffsetsUnconfirmed:
            if time.monotonic() + RETRY_PAUSE_S >= deadline:
                raise
        await asyncio.sleep(RETRY_PAUSE_S)


def use_true_highwaters(bootstrap: str) -> None:
    """Patch Faust's aiokafka consumer thread to report true end offsets (idempotent)."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    if getattr(AIOKafkaConsumerThread, "_schakel_true_highwaters", False):
        return

    async def _highwaters(self: Any, partitions: Sequence[Any]) -> Mapping[Any, int]:
        return await highwaters(bootstrap, partitions)

    AIOKafkaConsumerThread._highwaters = _highwaters
    AIOKafkaConsumerThread._schakel_true_highwaters = True
