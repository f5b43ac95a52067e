"""The role matrix of the API (docs/operations.md "API roles"), endpoint by endpoint and role by
role, and the endpoints of the beheerder and the auditor."""

from __future__ import annotations

import time
import urllib.request

import pytest
from kafka import KafkaProducer

from schakel.broker import EmbeddedBroker
from tests.integration.streams.helpers import KEY, WorkerProcess, consume
from tests.integration.streams.test_replay import CITIZEN_A

TOKENS = {"regisseur": "token-anna", "beheerder": "token-bert", "auditor": "token-carla"}
ENDPOINTS = {
    "signalen": "/api/v1/signalen",
    "tijdlijn": f"/api/v1/burgers/{CITIZEN_A}/tijdlijn",
    "deadletters": "/api/v1/deadletters",
    "configuratie": "/api/v1/configuratie",
    "inzage": "/api/v1/inzage",
}
ALLOWED = {
    ("signalen", "regisseur"),
    ("tijdlijn", "regisseur"),
    ("deadletters", "beheerder"),
    ("configuratie", "beheerder"),
    ("inzage", "auditor"),
}
"""The matrix as api.md states it: citizens' data for the regisseur only, operational data for
the beheerder only, the audit trail for the auditor only."""


def headers(role: str, doel: str = "controle van de toegang") -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}", "X-Doel": doel}


def audit_count(broker: EmbeddedBroker) -> int:
    return len(consume(broker.bootstrap, "schakel.inzage"))


@pytest.mark.parametrize("role", sorted(TOKENS))
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_every_endpoint_against_every_role(
    live: tuple[EmbeddedBroker, WorkerProcess], endpoint: str, role: str
) -> None:
    broker, worker = live
    before = audit_count(broker)
    status, body = worker.get(ENDPOINTS[endpoint], headers(role))
    if (endpoint, role) in ALLOWED:
        assert status == 200, body
        assert audit_count(broker) == before + 1  # answered, so audited
    else:
        assert status == 403, body
        assert set(body) == {"fout"}
        assert role in body["fout"] and endpoint in body["fout"]
        assert CITIZEN_A not in str(body)
        assert audit_count(broker) == before  # refused: nothing read, nothing recorded


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_every_endpoint_needs_a_token(
    live: tuple[EmbeddedBroker, WorkerProcess], endpoint: str
) -> None:
    _, worker = live
    for auth in ({}, {"Authorization": "Bearer token-onbekend", "X-Doel": "controle"}):
        status, body = worker.get(ENDPOINTS[endpoint], auth)
        assert status == 401, body
        assert set(body) == {"fout"}


def test_the_auditor_reads_the_audit_trail_newest_first(
    live: tuple[EmbeddedBroker, WorkerProcess],
) -> None:
    _, worker = live
    doel = f"controle {time.time_ns()} met BSN 111222333"
    request = urllib.request.Request(
        worker.url + ENDPOINTS["tijdlijn"], headers=headers("regisseur", doel)
    )
    with urllib.request.urlopen(request, timeout=10) as answered:
        audit_id = answered.headers["X-Inzage-Id"]
    status, body = worker.get("/api/v1/inzage?per_pagina=2", headers("auditor", "audit"))
    assert status == 200
    assert (body["pagina"], body["per_pagina"]) == (1, 2)
    assert len(body["inzage"]) == 2 and body["totaal"] >= 2
    last_read = body["inzage"][0]
    assert last_read["id"] == audit_id
    assert last_read["wie"] == "anna" and last_read["rol"] == "regisseur"
    assert last_read["subject"] == CITIZEN_A
    assert last_read["wat"] == f"GET /api/v1/burgers/{CITIZEN_A}/tijdlijn"
    assert last_read["doel"] == doel.replace("111222333", "*********")
    # the auditor's own read is audited too: the next page-1 read sees it first
    _, again = worker.get("/api/v1/inzage?per_pagina=1", headers("auditor", "audit"))
    assert again["inzage"][0]["wie"] == "carla"
    assert again["inzage"][0]["wat"].startswith("GET /api/v1/inzage")
    assert again["totaal"] == body["totaal"] + 1
    _, deep = worker.get(f"/api/v1/inzage?pagina={body['totaal'] + 5}", headers("auditor"))
    assert deep["inzage"] == []


def test_the_beheerder_reads_operations_but_no_secrets(
    live: tuple[EmbeddedBroker, WorkerProcess],
) -> None:
    broker, worker = live
    status, config = worker.get("/api/v1/configuratie", headers("beheerder"))
    assert status == 200
    assert config["klok"] == "live" and config["partities"] == 4
    assert config["kafka_beveiliging"] == "PLAINTEXT"
    assert config["tijdzone"] == "Europe/Amsterdam"  # the default SCHAKEL_TIMEZONE
    assert "tussen-wal-en-schip" in config["regels"]["actief"]
    assert {"naam": "carla", "rol": "auditor"} in config["api_clients"]
    assert not any(secret in str(config) for secret in (*TOKENS.values(), KEY))
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    # no possible BSN in it: the dead letter keeps the value (the API still never shows it);
    # one with a BSN is withheld (test below)
    producer.send("schakel.wmo.events", key=b"k", value=b"\x07geen avro van de bron")
    producer.flush()
    producer.close()
    worker.drain(["schakel.wmo.events"])
    status, dead = worker.get("/api/v1/deadletters?per_pagina=1", headers("beheerder"))
    assert status == 200
    assert (dead["pagina"], dead["per_pagina"]) == (1, 1) and dead["totaal"] >= 1
    [newest] = dead["deadletters"]
    assert set(newest) == {
        "tijd",
        "offset",
        "bron",
        "fase",
        "klasse",
        "reden",
        "weggelaten",
        "weggelaten_overig",
        "achtergehouden",
    }
    assert newest["bron"]["topic"] == "schakel.wmo.events"
    assert (newest["fase"], newest["klasse"]) == ("decode", "IngestError")
    assert newest["reden"] == "UnknownMagicByte"  # the metric's label, not only the class
    assert (newest["weggelaten"], newest["weggelaten_overig"]) == (None, None)  # has its value
    assert newest["achtergehouden"] is False
    assert "geen avro" not in str(dead)


def test_a_dead_letter_written_without_its_value_is_listed_with_the_size_only(
    live: tuple[EmbeddedBroker, WorkerProcess],
) -> None:
    """A record too large for its dead letter to keep it (the producer's 1,000,000 bytes with
    the dead-letter headers: schemas/binding.py ``deadletter_record``) is listed with
    ``weggelaten``, its size, as ``schakel dlq list`` shows it — and still not its content.
    This one holds a possible BSN too: withheld, so not even its key and headers are kept
    (and the worker must be able to write a dead letter with neither key nor value of the
    original: its agent crashed on one)."""
    broker, worker = live
    value = b"\x07" + b"111222333 " * 99_980  # 999,801 bytes, a "BSN" all along
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, max_request_size=1_048_000)
    producer.send("schakel.wmo.events", key=b"k", value=value).get(30)
    producer.close()
    worker.drain(["schakel.wmo.events"])
    status, dead = worker.get("/api/v1/deadletters?per_pagina=1", headers("beheerder"))
    assert status == 200
    [newest] = dead["deadletters"]
    assert newest["bron"]["topic"] == "schakel.wmo.events"
    assert (newest["fase"], newest["klasse"]) == ("decode", "IngestError")
    assert newest["weggelaten"] == len(value) and newest["weggelaten_overig"] >= 1
    assert newest["achtergehouden"] is True
    assert "111222333" not in str(dead)
