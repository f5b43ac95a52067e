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

from kafka import KafkaConsumer, TopicPartition

from streams.offsets import true_end_offsets


def use_true_highwaters(bootstrap: str) -> None:
    """Patch Faust's aiokafka consumer thread to report true end offsets (idempotent)."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    if getattr(AIOKafkaConsumerThread, "_schakel_true_highwaters", False):
        return

    async def _highwaters(self: Any, partitions: Sequence[Any]) -> Mapping[Any, int]:
        probe = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            client_id="schakel-highwater",
        )
        try:
            ends = true_end_offsets(
                probe, [TopicPartition(tp.topic, tp.partition) for tp in partitions]
            )
        finally:
            probe.close()
        return {tp: ends[TopicPartition(tp.topic, tp.partition)] for tp in partitions}

    AIOKafkaConsumerThread._highwaters = _highwaters
    AIOKafkaConsumerThread._schakel_true_highwaters = True
