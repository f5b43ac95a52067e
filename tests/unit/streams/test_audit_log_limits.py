"""During a broker outage no audit record can be written, so every API read is answered 503
and meets ``audit.unavailable``. Reproduction: 20 reads in the outage logged 20 WARNING lines
(one a request, at the rate the clients send). Now the first at once, then at most a line a
minute with ``weggelaten`` (:class:`schemas.log_limits.RefusalLog`); every read is still
answered 503 with ``Retry-After`` and counted in the metrics."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

import schemas.log_limits
import streams.audit
from streams.audit import AuditTrail

from .api_harness import REGISSEUR, serve


class _Serializer:
    """Knows the audit record's schema id at once: only the broker is out."""

    def prepare(self, topic: str, name: str) -> int:
        return 1

    def __call__(self, event: Any, topic: str) -> bytes:
        return b"\x00\x00\x00\x00\x01"


class _BrokerDown:
    """An aiokafka producer whose broker cannot be reached."""

    def __init__(self, **config: Any) -> None:
        pass

    async def start(self) -> None:
        raise KafkaConnectionError("broker unreachable (test)")

    async def stop(self) -> None:
        pass


def test_a_broker_outage_is_one_audit_unavailable_line_a_minute_not_one_a_request(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1000.0]
    monkeypatch.setattr(schemas.log_limits, "_monotonic", lambda: now[0])
    monkeypatch.setattr(streams.audit, "AIOKafkaProducer", _BrokerDown)
    serializer: Any = _Serializer()
    trail = AuditTrail("localhost:1", "schakel.inzage", serializer, "urn:x", timeout_s=5.0)

    async def run() -> list[int]:
        statuses = []
        async with serve(trail=trail) as api:
            for n in range(21):
                if n == 20:  # a minute later: the next line, with the 19 left out
                    now[0] += schemas.log_limits.REFUSAL_LOG_INTERVAL_S
                response = await api.client.get("/api/v1/signalen", headers=REGISSEUR)
                assert response.headers["Retry-After"] == "5"
                statuses.append(response.status)
        return statuses

    with caplog.at_level(logging.INFO):
        assert asyncio.run(run()) == [503] * 21
    lines = [r for r in caplog.records if r.getMessage() == "audit.unavailable"]
    assert [(r.topic, r.reason, r.weggelaten) for r in lines] == [  # type: ignore[attr-defined]
        ("schakel.inzage", "KafkaConnectionError", 0),
        ("schakel.inzage", "KafkaConnectionError", 19),
    ]
    assert {r.levelno for r in lines} == {logging.WARNING}
