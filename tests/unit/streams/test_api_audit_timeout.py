"""No audit record within the audit timeout, no answer — and no stalled worker
(docs/operations.md, "Audit guarantee"): the first record looks its schema id up in the
registry, a blocking HTTP request that the registry client retries for far longer than the
timeout. It runs beside the event loop, which also runs the web server, the stream and the
consumer's heartbeats: with a registry that accepts connections but never answers, the API
answers 503 after about the audit timeout while other requests and coroutines go on, and the
requests meanwhile share the one lookup instead of each starting another."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Mapping
from typing import Any

from schemas.registry_client import ConfluentRegistry, RegistryConnection
from schemas.serde import RecordSerializer
from streams.audit import AuditTrail

from .api_harness import REGISSEUR, serve

AUDIT_TIMEOUT_S = 0.5
REGISTRY_TIMEOUT_S = 30.0
"""How long the registry client waits for an answer: a loop blocked by the lookup would
stand still this long, far beyond every bound below (generous for a loaded machine)."""


class CountedRegistry(ConfluentRegistry):
    """Counts the lookups started and ended (in the thread that runs them)."""

    def __init__(self, connection: RegistryConnection) -> None:
        super().__init__(connection)
        self.started = 0
        self.ended = threading.Event()

    def lookup(self, subject: str, schema: Mapping[str, Any]) -> int:
        self.started += 1
        try:
            return super().lookup(subject, schema)
        finally:
            self.ended.set()


def test_a_registry_that_does_not_answer_costs_a_request_the_timeout_not_the_worker() -> None:
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(16)  # the kernel accepts connections; nobody reads or answers them
    registry = CountedRegistry(
        RegistryConnection(
            url=f"http://127.0.0.1:{hole.getsockname()[1]}", retries=0, timeout_s=REGISTRY_TIMEOUT_S
        )
    )
    trail = AuditTrail(
        "127.0.0.1:1",
        "schakel.inzage",
        RecordSerializer(registry),
        "urn:schakel:test",
        timeout_s=AUDIT_TIMEOUT_S,
    )

    async def run() -> None:
        loop = asyncio.get_running_loop()
        gaps: list[float] = []
        done: list[str] = []

        async def tick() -> None:  # another coroutine on the loop, like the stream's
            last = loop.time()
            while True:
                await asyncio.sleep(0.05)
                gaps.append(loop.time() - last)
                last = loop.time()

        async with serve(trail=trail) as api:

            async def read(name: str) -> Any:
                started = loop.time()
                response = await api.client.get("/api/v1/signalen", headers=REGISSEUR)
                done.append(name)
                return response, loop.time() - started

            async def health() -> int:
                await asyncio.sleep(0.1)  # asked while the audit record waits
                response = await api.client.get("/health")
                done.append("health")
                return response.status

            ticker = asyncio.create_task(tick())
            (first, took), status = await asyncio.gather(read("api"), health())
            assert status == 200 and done == ["health", "api"]
            assert first.status == 503 and first.headers["Retry-After"] == "5"
            assert await first.json() == {
                "fout": "inzage: het auditrecord kon niet worden vastgelegd"
            }
            assert took < 10
            # the next request waits for the same lookup (still hanging), starts no other
            second, took = await read("again")
            assert second.status == 503 and took < 10
            assert registry.started == 1 and not registry.ended.is_set()
            ticker.cancel()
            assert gaps and max(gaps) < 5
            hole.close()  # the connection waiting there is reset: the lookup ends
            assert await asyncio.to_thread(registry.ended.wait, REGISTRY_TIMEOUT_S)
            await asyncio.sleep(0.1)  # the lookup's task sees its thread's end

    try:
        asyncio.run(run())
    finally:
        hole.close()
        registry.close()
