"""The broker a benchmark run uses: a fresh embedded broker (Tansu) or a fresh one-node
Apache Kafka (KRaft, :class:`schakel.kafka_cluster.KafkaCluster`), each on free local ports
and stopped at the end of the ``with`` block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from schakel.broker import EmbeddedBroker
from schakel.kafka_cluster import LIBS, KafkaCluster, KafkaStartError, kafka_classpath

KINDS = ("embedded", "kafka")


@dataclass(frozen=True)
class Broker:
    """Where the contenders connect, and the ``SCHAKEL_PROFILE`` a Schakel process gets."""

    kind: str
    bootstrap: str

    @property
    def profile(self) -> str:
        return self.kind


def kafka_available() -> bool:
    """Whether the Apache Kafka jars are there (``make kafka-libs``)."""
    try:
        kafka_classpath(LIBS)
    except KafkaStartError:
        return False
    return True


@contextmanager
def running(kind: str) -> Iterator[Broker]:
    """A fresh broker of ``kind`` (:data:`KINDS`) for the duration of the block."""
    if kind == "embedded":
        with EmbeddedBroker() as embedded:
            yield Broker(kind, embedded.bootstrap)
    elif kind == "kafka":
        with KafkaCluster(nodes=1) as cluster:
            yield Broker(kind, cluster.bootstrap)
    else:
        raise ValueError(f"broker: one of {', '.join(KINDS)}")
