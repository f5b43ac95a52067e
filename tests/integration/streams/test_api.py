"""The worker's HTTP API and metrics against a real broker and worker (live clock), on the
embedded broker and on Apache Kafka (fixture ``live_on_both``)."""

from __future__ import annotations

import time
import urllib.parse
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer
from schemas.wire import WMO
from tests.brokers import TestBroker
from tests.integration.streams.helpers import AUTH, WorkerProcess, consume
from tests.integration.streams.test_replay import CITIZEN_A, CITIZEN_B

Live = tuple[TestBroker, WorkerProcess]


def test_missing_or_bad_token_is_401(live_on_both: Live) -> None:
    _, worker = live_on_both
    for headers in (
        {},
        {"Authorization": "Bearer nope", "X-Doel": "x"},
        {"Authorization": "Basic abc", "X-Doel": "x"},
    ):
        status, body = worker.get("/api/v1/signalen", headers)
        assert status == 401
        assert set(body) == {"fout"}
        assert "Traceback" not in str(body)


def test_missing_purpose_is_400(live_on_both: Live) -> None:
    _, worker = live_on_both
    status, body = worker.get("/api/v1/signalen", {"Authorization": "Bearer token-anna"})
    assert status == 400
    assert "doel" in body["fout"]
    status, _ = worker.get(
        "/api/v1/signalen?doel=casusoverleg", {"Authorization": "Bearer token-anna"}
    )
    assert status == 200


def test_signal_list_filters_and_pages(live_on_both: Live) -> None:
    _, worker = live_on_both
    status, body = worker.get("/api/v1/signalen", AUTH)
    assert status == 200
    # live clock (today is after every termijn): the three signals of the scenario
    assert {(s["regel"], s["subject"]) for s in body["signalen"]} == {
        ("tussen-wal-en-schip", CITIZEN_B),
        ("vroegsignaal-zonder-opvolging", CITIZEN_A),
        ("werkpotentieel-zonder-verwijzing", CITIZEN_A),
    }
    sinds = [s["sinds"] for s in body["signalen"]]
    assert sinds == sorted(sinds, reverse=True)  # newest first
    _, body = worker.get("/api/v1/signalen?status=opgelost", AUTH)
    assert [s["regel"] for s in body["signalen"]] == ["vroegsignaal-zonder-opvolging"]
    _, body = worker.get("/api/v1/signalen?regel=tussen-wal-en-schip", AUTH)
    assert [s["subject"] for s in body["signalen"]] == [CITIZEN_B]
    _, body = worker.get("/api/v1/signalen?per_pagina=1&pagina=2", AUTH)
    assert (body["totaal"], len(body["signalen"]), body["pagina"]) == (3, 1, 2)
    status, body = worker.get("/api/v1/signalen?status=weg", AUTH)
    assert status == 400


def test_timeline_of_a_citizen(live_on_both: Live) -> None:
    _, worker = live_on_both
    status, body = worker.get(f"/api/v1/burgers/{CITIZEN_A}/tijdlijn", AUTH)
    assert status == 200
    assert body["subject"] == CITIZEN_A
    assert [e["id"] for e in body["tijdlijn"]] == ["wmo-2", "wmo-1", "wgs-1", "wgs-2"]
    assert [e["datum"] for e in body["tijdlijn"]] == sorted(e["datum"] for e in body["tijdlijn"])
    assert body["tijdlijn"][1]["data"]["productcategorie"] == "02"
    # data fields keep their JSON types; on the live clock the citizen's clock is today
    assert body["tijdlijn"][0]["data"] == {"werkwens": True, "arbeidspotentieel": "gedeeltelijk"}
    assert body["tijdlijn"][2]["data"]["bedrag_cent"] == 123456
    # today in the Netherlands (SCHAKEL_TIMEZONE's default), not in UTC
    assert body["klok"] == datetime.now(ZoneInfo("Europe/Amsterdam")).date().isoformat()
    names = {p["naam"] for p in body["toestand"]}
    assert {"voorziening", "werkpotentieel", "vroegsignaal"} <= names
    assert [s["regel"] for s in body["signalen"]] == ["werkpotentieel-zonder-verwijzing"]
    assert "111222333" not in str(body)


def test_unknown_pseudonym_is_404(live_on_both: Live) -> None:
    _, worker = live_on_both
    assert worker.get(f"/api/v1/burgers/{'0' * 32}/tijdlijn", AUTH)[0] == 404
    status, body = worker.get("/api/v1/burgers/111222333/tijdlijn", AUTH)
    assert status == 404
    assert "111222333" not in str(body)


def test_every_answered_request_is_audited(live_on_both: Live) -> None:
    broker, worker = live_on_both
    before = len(consume(broker.bootstrap, broker.wire.inzage))
    status, _ = worker.get(
        f"/api/v1/burgers/{CITIZEN_B}/tijdlijn",
        {"Authorization": "Bearer token-anna", "X-Doel": "controle"},
    )
    assert status == 200
    worker.get("/api/v1/signalen", {"Authorization": "Bearer token-anna"})  # 400: not answered
    deserialize = RecordDeserializer(LocalRegistry())
    deadline = time.monotonic() + 10
    records: list[Any] = []
    while time.monotonic() < deadline:
        records = consume(broker.bootstrap, broker.wire.inzage)
        if len(records) > before:
            break
        time.sleep(0.2)
    assert len(records) == before + 1
    event = deserialize(records[-1].value)
    assert event.type == "nl.schakel.inzage.geregistreerd"
    assert event.subject == CITIZEN_B
    assert event.data["wie"] == "anna"
    assert event.data["rol"] == "regisseur"
    assert event.data["doel"] == "controle"
    assert event.data["wat"] == f"GET /api/v1/burgers/{CITIZEN_B}/tijdlijn"


def test_health_ready_and_metrics(live_on_both: Live) -> None:
    _, worker = live_on_both
    assert worker.get("/health")[0] == 200
    assert worker.get("/ready")[0] == 200
    status, text = worker.get("/metrics")
    assert status == 200
    for line in (
        'schakel_worker_events_total{type="nl.wmo.voorzieningen.toegewezen"} 1.0',
        'schakel_worker_signals_raised_total{regel="werkpotentieel-zonder-verwijzing"} 1.0',
        'schakel_worker_signals_resolved_total{regel="vroegsignaal-zonder-opvolging"} 1.0',
        'schakel_worker_signals_open{regel="tussen-wal-en-schip"} 1.0',
    ):
        assert line in text
    assert "schakel_worker_processing_seconds_bucket" in text
    assert "schakel_worker_consumer_lag_records" in text
    assert "\nschakel_worker_broker_reachable 1.0" in text
    for family in ("process_resident_memory_bytes", "process_cpu_seconds_total"):
        assert f"\n{family} " in text  # the process's own, for the operator
    assert 'python_gc_collections_total{generation="0"}' in text
    assert CITIZEN_A not in text and CITIZEN_B not in text


def test_undecodable_records_are_dead_lettered(live_on_both: Live, tmp_path: Path) -> None:
    from kafka import KafkaProducer

    broker, worker = live_on_both
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    topic = broker.wire.name(WMO)
    producer.send(topic, key=b"x", value=b"\x07not avro", headers=[("trace", b"1")])
    producer.flush()
    producer.close()
    worker.drain([topic])
    records = consume(broker.bootstrap, broker.wire.deadletter_streams)
    assert records, "nothing dead-lettered"
    record = records[-1]
    headers = dict(record.headers)
    assert record.value == b"\x07not avro"
    assert headers["schakel.bron.topic"] == topic.encode()
    assert headers["schakel.fase"] == b"decode"
    assert headers["schakel.fout.klasse"] == b"IngestError"
    assert b"magic byte" in headers["schakel.fout.melding"]
    assert headers["trace"] == b"1"
    _, text = worker.get("/metrics")
    assert 'schakel_worker_deadlettered_total{reason="UnknownMagicByte",stage="decode"} 1.0' in text


def test_purpose_must_be_real_words(live_on_both: Live) -> None:
    _, worker = live_on_both
    for doel in (".", "...", "x", "\u200b\u200b\u200b", "con\u200btrole", "controle " + "a" * 200):
        status, body = worker.get(
            "/api/v1/signalen?doel=" + urllib.parse.quote(doel),
            {"Authorization": "Bearer token-anna"},
        )
        assert status == 400, doel
        assert set(body) == {"fout"} and body["fout"].startswith("doel: ")
        assert len(body["fout"]) <= 200


def test_purpose_is_stored_masked(live_on_both: Live) -> None:
    broker, worker = live_on_both
    before = len(consume(broker.bootstrap, broker.wire.inzage))
    for doel in ("overleg één: BSN 111222333, geboren 12-03-1985", "dossier 1234.56.782"):
        status, _ = worker.get(
            "/api/v1/signalen", {"Authorization": "Bearer token-anna", "X-Doel": doel}
        )
        assert status == 200
    deserialize = RecordDeserializer(LocalRegistry())
    stored = [
        deserialize(r.value).data["doel"] for r in consume(broker.bootstrap, broker.wire.inzage)
    ]
    assert stored[before:] == ["overleg één: BSN *********, geboren [datum]", "dossier ****.**.***"]
