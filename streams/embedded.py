"""Work-around for the embedded broker (Tansu 0.6.0) inside Faust.

Tansu answers ListOffsets(latest) with the base offset of the last record batch + 1 (see
:mod:`streams.offsets`). Faust's table recovery reads a changelog partition up to that
"highwater" and stops: the records of the last batch after its first one are never applied,
so a restarted worker would miss state it had written (and re-emit signals). In the embedded
profile, :func:`use_true_highwaters` makes Faust ask for the true end offsets instead. It is
never applied against Apache Kafka (``SCHAKEL_PROFILE=kafka`` or ``production``), where end
offsets are right."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from streams.offsets import probe_ends, true_end_offsets

RECOVERY_PATIENCE_S = 30.0
"""How long the worker's table recovery waits for the embedded broker to deliver a partition's
last batch before its end counts as unconfirmed."""


def use_true_highwaters(bootstrap: str) -> None:
    """Patch Faust's aiokafka consumer thread to report true end offsets (idempotent)."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    if getattr(AIOKafkaConsumerThread, "_schakel_true_highwaters", False):
        return

    async def _highwaters(self: Any, partitions: Sequence[Any]) -> Mapping[Any, int]:
        # a stall of the broker under load is waited for longer than a command's 5 s: an
        # unconfirmed end here stops the worker's recovery (EndOffsetsUnconfirmed)
        return probe_ends(bootstrap, partitions, _patient_ends)

    def _patient_ends(consumer: Any, tps: Sequence[Any]) -> dict[Any, int]:
        return true_end_offsets(consumer, tps, timeout=RECOVERY_PATIENCE_S)

    AIOKafkaConsumerThread._highwaters = _highwaters
    AIOKafkaConsumerThread._schakel_true_highwaters = True
