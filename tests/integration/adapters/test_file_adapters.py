"""Each file adapter publishes the samples to the real (embedded) broker: the decoded Avro
events equal the validated source events, keys are pseudonyms, no BSN anywhere, bad input
lands on the dead-letter topic, and a second run publishes nothing new."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Source
from adapters.registry import open_source
from schakel.adapter_cmd import build_runner
from schemas.envelope import Event, validate_input
from schemas.exceptions import InvalidEvent
from schemas.pseudonym import Pseudonymiser, pseudonym
from schemas.settings import Settings
from schemas.wire import DEFAULT_WIRE
from tests.integration.adapters.conftest import KEY, assert_no_bsn, events_of, read_topic

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "samples"
BAD = SAMPLES / "bad"


def expected_events(source: Source) -> tuple[dict[str, Event], set[str]]:
    """The validated events of a source by id, and the BSNs they carry."""
    pseudonymiser = Pseudonymiser(KEY)
    out: dict[str, Event] = {}
    bsns: set[str] = set()
    for record in source.records({}):
        if record.event is None:
            continue
        try:
            out[record.event["id"]] = validate_input(record.event, pseudonymiser)
        except InvalidEvent:
            continue
        bsns.add(record.event["data"]["bsn"])
    return out, bsns


def with_source(path: Path, target: Path, source: str) -> Path:
    """A copy of a JSON-lines sample with every event's ``source`` replaced."""
    lines = []
    for line in path.read_text().splitlines():
        value: dict[str, Any] = json.loads(line)
        event = value.get("event", value)
        event["source"] = source
        lines.append(json.dumps(value))
    target.write_text("\n".join(lines) + "\n")
    return target


CASES: dict[str, tuple[str, Callable[[Path], str], int]] = {
    "iwmo": ("schakel.wmo.events", lambda tmp: str(SAMPLES / "iwmo"), 8),
    "sociale-dienst": (
        "schakel.participatiewet.events",
        lambda tmp: str(SAMPLES / "sociale-dienst" / "export.csv"),
        11,
    ),
    "vroegsignalering": (
        "schakel.wgs.events",
        lambda tmp: ",".join(
            str(SAMPLES / "vroegsignalering" / f) for f in ("signalen.csv", "acties.csv")
        ),
        6,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_file_adapter_publishes_the_samples(
    name: str, adapter_settings: Settings, tmp_path: Path
) -> None:
    topic, spec_of, count = CASES[name]
    spec = spec_of(tmp_path)
    bootstrap = adapter_settings.kafka_bootstrap or ""
    runner = build_runner(name, spec, adapter_settings, bootstrap=bootstrap)
    try:
        stats = runner.run_once()
        again = runner.run_once()
    finally:
        runner.publisher.close()
        runner.close()
    assert (stats.published, stats.rejected) == (count, 0)
    assert again.read == 0
    prefix = f"urn:nld:oin:{adapter_settings.oin}:"
    messages = events_of(bootstrap, topic, prefix)
    expected, bsns = expected_events(
        open_source(name, spec, adapter_settings, pseudonymiser=Pseudonymiser(KEY))
    )
    assert len(messages) == count
    assert {m.record["id"]: Event.from_record(m.record) for m in messages} == expected
    for m in messages:
        assert m.key == m.record["subject"].encode()
        assert m.record["subject"] in {pseudonym(b, KEY) for b in bsns}
        assert dict(m.headers)["content-type"] == b"application/avro"
    assert_no_bsn(messages, bsns)


def test_wijkteam_bulk_load(adapter_settings: Settings, tmp_path: Path) -> None:
    source = f"urn:nld:oin:{adapter_settings.oin}:systeem:wijkteam"
    path = with_source(SAMPLES / "wijkteam" / "events.jsonl", tmp_path / "events.jsonl", source)
    bootstrap = adapter_settings.kafka_bootstrap or ""
    runner = build_runner("wijkteam", str(path), adapter_settings, bootstrap=bootstrap)
    try:
        stats = runner.run_once()
    finally:
        runner.publisher.close()
        runner.close()
    assert (stats.published, stats.rejected) == (7, 0)
    messages = events_of(bootstrap, "schakel.wijkteam.events", source)
    expected, bsns = expected_events(
        open_source("wijkteam", str(path), adapter_settings, pseudonymiser=Pseudonymiser(KEY))
    )
    assert {m.record["id"]: Event.from_record(m.record) for m in messages} == expected
    assert_no_bsn(messages, bsns)


def test_bad_input_goes_to_the_dead_letter_topic_without_personal_data(
    adapter_settings: Settings, tmp_path: Path
) -> None:
    inputs = tmp_path / "bad-iwmo"
    shutil.copytree(BAD / "iwmo", inputs)
    bootstrap = adapter_settings.kafka_bootstrap or ""
    runner = build_runner("iwmo", str(inputs), adapter_settings, bootstrap=bootstrap)
    try:
        stats = runner.run_once()
    finally:
        runner.publisher.close()
        runner.close()
    assert stats.published == 2  # the good products of missing-element.xml
    letters = [
        m
        for m in read_topic(bootstrap, DEFAULT_WIRE.deadletter_adapters)
        if str(inputs) in m.record["locatie"]
    ]
    assert len(letters) == stats.rejected == 17
    assert {m.key for m in letters} == {b"iwmo"}
    assert {m.record["reden"] for m in letters} == set(stats.by_reason)
    assert {
        "dtd-forbidden",
        "malformed",
        "wrong-version",
        "missing-field",
        "bsn",
        "bad-date",
    } <= set(stats.by_reason)
    assert_no_bsn(letters, {"999990111", "999990112"})
    for m in letters:
        assert "Testpersoon" not in json.dumps(m.record)
    local = (adapter_settings.data_dir / "quarantaine" / "iwmo.jsonl").read_text().splitlines()
    assert len(local) == 17
