"""The wijkteam webhook over real HTTP against the real broker: 202 only with the event on the
topic, 400/401/403/413, both content modes, safe retries, /metrics."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.webhook import STRUCTURED, WebhookApp, WebhookInbox
from adapters.webhook_server import WebhookServer
from schakel.adapter_cmd import build_runner
from schemas.pseudonym import pseudonym
from schemas.settings import Settings
from schemas.wire import DEFAULT_WIRE
from tests.integration.adapters.conftest import KEY, assert_no_bsn, events_of, read_topic

TOKEN = "wijkteam-token-for-tests"
BSN = "999990093"


@dataclass
class Endpoint:
    host: str
    port: int
    source: str
    bootstrap: str

    def post(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request("POST", "/events", body=body, headers=dict(headers))
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            conn.close()

    def structured(
        self, event: Mapping[str, Any], token: str = TOKEN
    ) -> tuple[int, dict[str, Any]]:
        return self.post(
            json.dumps(event).encode(),
            {"Content-Type": "application/cloudevents+json", "Authorization": f"Bearer {token}"},
        )


@pytest.fixture
def endpoint(adapter_settings: Settings) -> Iterator[Endpoint]:
    source = f"urn:nld:oin:{adapter_settings.oin}:systeem:wijkteam"
    other = f"urn:nld:oin:{adapter_settings.oin}:systeem:ander"
    bootstrap = adapter_settings.kafka_bootstrap or ""
    runner = build_runner(
        "wijkteam", "", adapter_settings, bootstrap=bootstrap, source=WebhookInbox()
    )
    app = WebhookApp(runner, {TOKEN: source, "other-token": other}, max_bytes=2048)
    server = WebhookServer(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.address
    try:
        yield Endpoint(host, port, source, bootstrap)
    finally:
        server.shutdown()
        thread.join(10)
        runner.publisher.close()
        runner.close()


def event(endpoint: Endpoint, event_id: str, **data: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": endpoint.source,
        "type": "nl.wijkteams.casussen.geopend",
        "data": {"bsn": BSN, "datum": "2026-01-10", "casus_id": "W-1", **data},
    }


def test_structured_and_binary_mode_are_on_the_topic_when_202(endpoint: Endpoint) -> None:
    status, body = endpoint.structured(event(endpoint, "wt-1"))
    assert (status, body) == (202, {"status": "accepted", "duplicate": False})
    # acknowledged before the answer: the event is readable right away
    (first,) = events_of(endpoint.bootstrap, "schakel.wijkteam.events", endpoint.source)
    assert first.record["id"] == "wt-1"
    status, _ = endpoint.post(
        json.dumps({"bsn": BSN, "datum": "2026-01-11", "rol": "casusregisseur"}).encode(),
        {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {TOKEN}",
            "ce-specversion": "1.0",
            "ce-id": "wt-2",
            "ce-source": endpoint.source,
            "ce-type": "nl.wijkteams.regie.toegewezen",
            "ce-time": "2026-01-11T11:20:00+01:00",
        },
    )
    assert status == 202
    messages = events_of(endpoint.bootstrap, "schakel.wijkteam.events", endpoint.source)
    assert [m.record["id"] for m in messages] == [
        "wt-1",
        "wt-2",
    ]  # same key: same partition, in order
    assert {m.key for m in messages} == {pseudonym(BSN, KEY).encode()}
    assert messages[1].record["time"] == "2026-01-11T11:20:00+01:00"
    assert messages[1].record["data"]["rol"] == "casusregisseur"
    assert_no_bsn(messages, {BSN})


def test_retries_do_not_duplicate(endpoint: Endpoint) -> None:
    for _ in range(3):
        status, _ = endpoint.structured(event(endpoint, "wt-retry"))
        assert status == 202
    messages = events_of(endpoint.bootstrap, "schakel.wijkteam.events", endpoint.source)
    assert [m.record["id"] for m in messages] == ["wt-retry"]


def test_refusals(endpoint: Endpoint) -> None:
    status, body = endpoint.structured(event(endpoint, "wt-bad", datum="2026-02-30"))
    assert (status, body["reason"], body["field"]) == (400, "bad-date", "data.datum")
    assert "2026-02-30" not in json.dumps(body)
    status, body = endpoint.structured(event(endpoint, "wt-bsn", bsn="999990094"))
    assert (status, body["reason"]) == (400, "bsn")
    assert "999990094" not in json.dumps(body)
    assert endpoint.structured(event(endpoint, "wt-x"), token="nope")[0] == 401
    assert (
        endpoint.post(
            json.dumps(event(endpoint, "wt-x")).encode(),
            {"Content-Type": "application/cloudevents+json"},
        )[0]
        == 401
    )
    assert endpoint.structured(event(endpoint, "wt-x"), token="other-token")[0] == 403
    status, body = endpoint.structured(event(endpoint, "wt-big", casus_id="x" * 5000))
    assert (status, body["reason"]) == (413, "too-large")
    assert events_of(endpoint.bootstrap, "schakel.wijkteam.events", endpoint.source) == []
    letters = [
        m
        for m in read_topic(endpoint.bootstrap, DEFAULT_WIRE.deadletter_adapters)
        if m.record["adapter"] == "wijkteam"
    ]
    oin = endpoint.source.rsplit(":systeem:", 1)[0]
    mine = [m for m in letters if oin in m.record["locatie"]]
    assert [m.record["reden"] for m in mine] == ["bad-date", "bsn", "forbidden-source", "too-large"]
    assert_no_bsn(letters, {BSN, "999990094"})


def test_metrics_on_the_same_server(endpoint: Endpoint) -> None:
    endpoint.structured(event(endpoint, "wt-m"))
    conn = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=10)
    conn.request("GET", "/metrics")
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    assert response.status == 200
    assert "schakel_adapter_records_published_total" in text
    assert BSN not in text


def test_a_flood_of_bad_tokens_is_limited_and_writes_nothing(endpoint: Endpoint) -> None:
    """Issue 11 item 13: 2,000 requests with a bad token wrote 2,000 dead letters in 7 s.
    Now they are counted and, past a burst of 20 per client address, answered 429 with
    Retry-After; nothing reaches the dead-letter topic, and the real sender still gets in."""

    def unauthenticated_letters() -> int:
        return sum(
            1
            for m in read_topic(endpoint.bootstrap, DEFAULT_WIRE.deadletter_adapters)
            if m.record["locatie"] == "webhook unauthenticated"
        )

    before = unauthenticated_letters()
    statuses = []
    retry_after = set()
    for n in range(300):
        conn = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=30)
        try:
            conn.request(
                "POST",
                "/events",
                body=b"{}",
                headers={"Authorization": f"Bearer guess-{n}", "Content-Type": STRUCTURED},
            )
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
            if response.status == 429:
                retry_after.add(response.getheader("Retry-After"))
        finally:
            conn.close()
    assert 20 <= statuses.count(401) <= 30
    assert statuses.count(429) == 300 - statuses.count(401)
    assert retry_after and all(value and int(value) >= 1 for value in retry_after)
    assert endpoint.structured(event(endpoint, "wt-after-flood"))[0] == 202
    assert unauthenticated_letters() == before
