"""``schakel forget`` writes its tombstones, and has them acknowledged, before it sends any
erasure record: the worker answers an erasure record with an erasure marker on the changelog,
and a tombstone landing after that marker would wipe it at the next table rebuild."""

from __future__ import annotations

from typing import Any

import pytest
from kafka import KafkaProducer

from schakel import forget as forget_cmd
from schakel.broker import EmbeddedBroker
from schemas.settings import ForgetSettings, load_process_settings
from schemas.wire import DEFAULT_WIRE
from tests.conftest import TEST_KEY

BSNS = ["111222333", "123456782"]


def test_tombstones_are_acknowledged_before_any_erasure_record(
    broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []

    class SpyProducer(KafkaProducer):  # type: ignore[misc]  # kafka-python is untyped
        """The real producer, recording the order of sends and flushes."""

        def send(self, topic: str, *args: Any, **kwargs: Any) -> Any:
            calls.append(("send", topic))
            return super().send(topic, *args, **kwargs)

        def flush(self, *args: Any, **kwargs: Any) -> None:
            calls.append(("flush", ""))
            super().flush(*args, **kwargs)

    monkeypatch.setattr(forget_cmd, "KafkaProducer", SpyProducer)
    settings = load_process_settings(ForgetSettings, pseudonym_key=TEST_KEY)
    subjects = forget_cmd.forget(settings, BSNS, broker.bootstrap)

    assert len(subjects) == 2
    klok = DEFAULT_WIRE.klok
    first_klok = next(i for i, (kind, topic) in enumerate(calls) if topic == klok)
    tombstones = [i for i, (kind, topic) in enumerate(calls) if kind == "send" and topic != klok]
    assert len(tombstones) == 2 * len({t for _, t in calls if t and t != klok})
    assert tombstones, "no tombstone was written"
    assert max(tombstones) < first_klok, calls
    assert ("flush", "") in calls[max(tombstones) : first_klok], calls
    assert sum(1 for _, topic in calls if topic == klok) == len(BSNS)
