"""Issue 13 item 3: every record Schakel writes is a binary-mode CloudEvent (Kafka protocol
binding), read by the official ``cloudevents`` SDK with no Schakel code.

A ``schakel replay`` on the embedded broker (``--bootstrap``, a namespace of its own, topics
kept) over the sample sources, one rejected row (a quarantine record) and one JSON line with
the NL GOV extensions ``sequence`` / ``dataref``; then a worker on that namespace gets an
undecodable record (a streams dead letter) and answers one API read (an audit record), and
``schakel forget`` erases one citizen (an erasure request and tombstones), and ``schakel dlq
replay`` re-publishes the dead letter (and records that it did). Then the SDK's
``from_binary`` reads every record of every topic of the namespace; the worker table's
changelog is Faust's own and not among them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from cloudevents.v1.kafka import KafkaMessage, from_binary

from schakel.broker import EmbeddedBroker
from schemas.binding import DEADLETTER_TYPE
from schemas.pseudonym import holds_bsn, pseudonym
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer
from schemas.wire import CHANGELOG, Wire
from tests.cli import ROOT, run_cli
from tests.integration.streams.helpers import WorkerProcess, consume

SAMPLES = ROOT / "samples"
NAMESPACE = "ce-wire"
KEY = "cloudevents-test-key-0123456789abcdef"
BSN = "999990093"  # a citizen of samples/wijkteam/events.jsonl
CROWDED_BSN = "999990019"


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update(
        {
            "SCHAKEL_DATA_DIR": str(data_dir),
            "SCHAKEL_PSEUDONYM_KEY": KEY,
            "SCHAKEL_PROFILE": "embedded",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def extension_event() -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": "wt-ext-1",
        "source": "urn:nld:oin:00000001234567890000:systeem:wijkteam",
        "type": "nl.wijkteams.casussen.geopend",
        "time": "2026-02-01T10:00:00+01:00",
        "sequence": "00000002",
        "dataref": "https://wijkteam.example.nl/casussen/W-2026-900",
        "data": {"bsn": BSN, "datum": "2026-02-01", "casus_id": "W-2026-900"},
    }


def wgs_event() -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": "wgs-1",
        "source": "urn:nld:oin:00000001234567890000:systeem:schuldhulp",
        "type": "nl.wgs.trajecten.gestart",
        "data": {"bsn": BSN, "datum": "2026-02-02"},
    }


def crowded_history() -> list[dict[str, Any]]:
    """11 events of one citizen: with SCHAKEL_HISTORY_LIMIT=10 the worker refuses one (a
    streams dead letter)."""
    return [
        {
            "specversion": "1.0",
            "id": f"wt-vol-{n}",
            "source": "urn:nld:oin:00000001234567890000:systeem:wijkteam",
            "type": "nl.wijkteams.casussen.geopend",
            "data": {"bsn": CROWDED_BSN, "datum": f"2026-03-{n + 1:02d}", "casus_id": f"V-{n}"},
        }
        for n in range(11)
    ]


def test_the_cloudevents_sdk_reads_every_record_of_every_topic(tmp_path: Path) -> None:
    extensions = tmp_path / "extensions.jsonl"
    lines = [extension_event(), wgs_event(), *crowded_history()]
    extensions.write_text("".join(json.dumps(e) + "\n" for e in lines), encoding="utf-8")
    wire = Wire(NAMESPACE)
    subject = pseudonym(BSN, KEY)
    with EmbeddedBroker() as broker:
        bootstrap = broker.bootstrap
        replay = run_cli(
            "replay",
            "--bootstrap",
            bootstrap,
            "--namespace",
            NAMESPACE,
            "--keep-topics",
            str(extensions),
            "--from",
            f"iwmo:{SAMPLES / 'iwmo'}",
            "--from",
            f"wijkteam:{SAMPLES / 'wijkteam' / 'events.jsonl'}",
            "--from",
            f"sociale-dienst:{SAMPLES / 'sociale-dienst' / 'export.csv'}",
            "--from",
            f"sociale-dienst:{SAMPLES / 'bad' / 'sociale-dienst' / 'bad-bsn.csv'}",
            "--until",
            "2026-06-30",
            env=clean_env(tmp_path / "replay", SCHAKEL_HISTORY_LIMIT="10"),
            timeout=300,
        )
        # 5, not 3 (the rejected rows): the worker dead-lettered what passed the history limit
        assert replay.returncode == 5, replay.stderr[-3000:]
        assert "(stage accept, reason HistoryLimitError/history-limit)" in replay.stderr

        worker = WorkerProcess(bootstrap, tmp_path / "worker", wire=wire).start()
        try:
            headers = {"Authorization": "Bearer token-anna", "X-Doel": "cloudevents-test"}
            status, _ = worker.get("/api/v1/signalen", headers)
            assert status == 200
            bsn_file = tmp_path / "bsn.txt"
            bsn_file.write_text(BSN + "\n", encoding="utf-8")
            forget = run_cli(
                "forget",
                "--bsn-file",
                str(bsn_file),
                env=clean_env(
                    tmp_path / "forget",
                    SCHAKEL_KAFKA_BOOTSTRAP=bootstrap,
                    SCHAKEL_NAMESPACE=NAMESPACE,
                ),
            )
            assert forget.returncode == 0, forget.stderr[-2000:]
            deadline = time.monotonic() + 30
            while not consume(bootstrap, wire.inzage) and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            worker.stop()
        # the dead letter re-published (its original's headers restored) and the replay
        # recorded on schakel.deadletter.herhaald
        dlq = run_cli(
            "dlq",
            "replay",
            env=clean_env(
                tmp_path / "dlq", SCHAKEL_KAFKA_BOOTSTRAP=bootstrap, SCHAKEL_NAMESPACE=NAMESPACE
            ),
        )
        assert dlq.returncode == 0, dlq.stderr[-2000:]
        assert "re-published, 0 already" in dlq.stdout and " 0 re-published" not in dlq.stdout

        deserializer = RecordDeserializer(LocalRegistry())
        counts: dict[str, int] = {}
        for topic, spec in wire.topics().items():
            if spec is CHANGELOG:
                continue
            records = consume(bootstrap, topic)
            assert records, f"{topic} has no records"
            for record in records:
                names = [name for name, _ in record.headers]
                assert len(names) == len(set(names)), (topic, names)
                for name, value in record.headers:
                    assert not holds_bsn(value.decode("utf-8", "replace")), (topic, name)
                event = from_binary(
                    KafkaMessage(dict(record.headers), record.key, record.value),
                    data_unmarshaller=lambda data: data,
                )
                assert event["specversion"] == "1.0"
                assert event["id"] and event["source"] and event["type"], topic
                if spec.value == "avro" and record.value is not None:
                    assert event["datacontenttype"] == "application/avro", topic
                    name, decoded = deserializer.decode(record.value)
                    assert event["type"] == decoded.get("type", name), topic
                    if "id" in decoded and "type" in decoded:  # a catalogue event
                        assert event["id"] == decoded["id"], topic
                        assert event["source"] == decoded["source"], topic
                if spec.key == "pseudonym" and record.key is not None:
                    assert event["subject"] == record.key.decode(), topic
            counts[spec.name] = len(records)
        assert set(counts) == {s.name for s in wire.topics().values() if s is not CHANGELOG}
        assert len(counts) == 11

        wijkteam_topic = wire.topic_for("nl.wijkteams.casussen.geopend")
        dead = consume(bootstrap, wire.deadletter_streams)
        crowded = pseudonym(CROWDED_BSN, KEY).encode()
        mine = [h for h in map(dict, (r.headers for r in dead)) if h["ce_subject"] == crowded]
        assert mine, [dict(r.headers).get("schakel.fout.melding") for r in dead]
        heads = mine[0]
        assert heads["ce_type"] == DEADLETTER_TYPE.encode()
        assert heads["content-type"] == b"application/octet-stream"
        assert heads["schakel.bron.topic"] == wijkteam_topic.encode()
        assert heads["schakel.bron.ce_type"] == b"nl.wijkteams.casussen.geopend"

        wijkteam = consume(bootstrap, wijkteam_topic)
        heads_of = [dict(r.headers) for r in wijkteam]
        with_extensions = [h for h in heads_of if h["ce_id"] == b"wt-ext-1"]
        assert len(with_extensions) == 1
        assert with_extensions[0]["ce_sequence"] == b"00000002"
        assert with_extensions[0]["ce_dataref"].startswith(b"https://wijkteam.example.nl/")

        tombstones = [r for r in consume(bootstrap, wire.tijdlijnen) if r.value is None]
        assert tombstones and all(
            dict(r.headers)["ce_subject"] == subject.encode() for r in tombstones
        )
