"""The wire map (schemas/wire.py): every schema has exactly one topic, the names follow the
spec and the namespace rule, and nothing else spells a topic name or imports the Faust app to
learn one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from schakel.topics import new_topics
from schemas.catalogue import AVRO_DIR, catalogue
from schemas.exceptions import SettingsError
from schemas.settings import load_settings
from schemas.wire import (
    CHANGELOG,
    DEADLETTER_HEADERS,
    DEADLETTER_REPLAYED,
    DEADLETTER_STREAMS,
    DEFAULT_WIRE,
    DOMAINS,
    EVENT_TOPICS,
    GROUP,
    MAX_ERROR_MESSAGE,
    PER_CITIZEN_COMPACTED,
    TOPICS,
    VERWIJDERD,
    Wire,
    carrier,
    deadletter_headers,
    domain_topic,
    min_insync_replicas,
    reason_code,
)

BSN_TEXT = "111222333"
ROOT = Path(__file__).resolve().parents[3]
SPEC_NAMES = {  # events.md "Storage on Kafka", api.md (audit), operations.md
    "schakel.participatiewet.events",
    "schakel.wmo.events",
    "schakel.wijkteam.events",
    "schakel.wgs.events",
    "schakel.inzage",
    "schakel.signalen",
    "schakel.tijdlijnen",
    "schakel.klok",
    "schakel.deadletter.streams",
    "schakel.deadletter.adapters",
    "schakel.deadletter.herhaald",  # docs/operations.md, `dlq replay`
    "schakel-worker-burgers-changelog",
}


def test_every_avsc_is_carried_by_exactly_one_declared_topic_but_verwijderd() -> None:
    """One topic per schema; ``nl.schakel.bron.verwijderd`` travels on the event topic of the
    domain of the record it withdraws (events.md), so every event topic carries it, and
    :func:`carrier` refuses to pick one without the domain."""
    names = {path.parent.name for path in AVRO_DIR.glob("*/v*.avsc")}
    assert names == set(catalogue().names) and len(names) > 20
    for name in sorted(names - {VERWIJDERD}):
        carriers = [spec.name for spec in TOPICS if spec.carries_schema(name)]
        assert len(carriers) == 1, f"{name} is carried by {carriers or 'no topic'}"
        assert carrier(name).name == carriers[0]
    assert [s.name for s in TOPICS if s.carries_schema(VERWIJDERD)] == [
        s.name for s in EVENT_TOPICS
    ]
    with pytest.raises(KeyError, match="name the domain"):
        carrier(VERWIJDERD)
    for domain, spec in zip(DOMAINS, EVENT_TOPICS, strict=True):
        assert domain_topic(domain) is spec
        assert DEFAULT_WIRE.topic_for(VERWIJDERD, domain) == spec.name
    assert DEFAULT_WIRE.topics_for(VERWIJDERD) == DEFAULT_WIRE.event_topics
    for spec in TOPICS:  # no declaration names a schema that does not exist
        for pattern in spec.carries:
            assert any(spec.carries_schema(n) for n in names), f"{spec.name}: {pattern}"
    assert DEADLETTER_STREAMS.carries == () and DEADLETTER_STREAMS.value == "raw"
    with pytest.raises(KeyError, match="no topic carries"):
        carrier("nl.schakel.intern.onbekend")


def test_input_events_travel_on_their_domain_topic_and_avro_topics_carry_a_schema() -> None:
    domain_topic = {
        "participatiewet": "schakel.participatiewet.events",
        "wmo": "schakel.wmo.events",
        "wijkteams": "schakel.wijkteam.events",
        "wgs": "schakel.wgs.events",
    }
    for name in catalogue().names:
        domain = name.split(".")[1]
        if domain in domain_topic:
            assert DEFAULT_WIRE.topic_for(name) == domain_topic[domain]
    assert {t.name for t in EVENT_TOPICS} == set(domain_topic.values())
    assert all(spec.carries for spec in TOPICS if spec.value == "avro")


def test_default_names_are_the_names_of_the_spec() -> None:
    assert set(DEFAULT_WIRE.topics()) == SPEC_NAMES
    assert DEFAULT_WIRE.group_id == GROUP == "schakel-worker"
    assert DEFAULT_WIRE.changelog == CHANGELOG.name == f"{GROUP}-burgers-changelog"
    assert load_settings().wire() == DEFAULT_WIRE  # the default setting keeps today's names


def test_a_namespace_prefixes_every_topic_the_changelog_and_the_group() -> None:
    a, b = Wire("gemeente-a"), Wire("gemeente-b")
    for wire in (a, b):
        names = [*wire.topics(), wire.group_id, wire.changelog]
        assert all(n.startswith(f"{wire.namespace}.") for n in names)
        assert {n.removeprefix(f"{wire.namespace}.") for n in wire.topics()} == SPEC_NAMES
    assert a.klok == "gemeente-a.schakel.klok"
    assert a.group_id == "gemeente-a.schakel-worker"
    assert a.changelog == "gemeente-a.schakel-worker-burgers-changelog"
    assert a.topic_for("nl.wmo.meldingen.ontvangen") == "gemeente-a.schakel.wmo.events"
    assert a.event_topics == tuple(f"gemeente-a.{t.name}" for t in EVENT_TOPICS)
    everything = [
        {*w.topics(), w.group_id, w.changelog} for w in (DEFAULT_WIRE, a, b, Wire("schakel"))
    ]
    for i, one in enumerate(everything):
        for other in everything[i + 1 :]:
            assert not one & other, "two namespaces share a name"


@pytest.mark.parametrize(
    "bad", ["Gemeente", "gemeente.a", "gemeente_a", "-gemeente", "gemeente-", "a" * 41, "a b", "é"]
)
def test_a_bad_namespace_is_refused_naming_the_setting_not_the_value(bad: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Wire(bad)
    assert "SCHAKEL_NAMESPACE" in str(caught.value) and bad not in str(caught.value)
    with pytest.raises(SettingsError) as from_env:
        load_settings(namespace=bad)
    assert "SCHAKEL_NAMESPACE" in str(from_env.value) and bad not in str(from_env.value)


def test_the_namespace_setting_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCHAKEL_NAMESPACE", "gemeente-a")
    assert load_settings().wire() == Wire("gemeente-a")
    assert Wire("a" * 40).namespace == "a" * 40


def test_topics_are_created_as_declared() -> None:
    wire = Wire("gemeente-a")
    for replication in (1, 3):
        created = new_topics(wire, partitions=6, replication_factor=replication)
        assert set(created) == set(wire.topics())
        for name, spec in wire.topics().items():
            topic = created[name]
            assert topic["num_partitions"] == (6 if spec.co_partitioned else 1)
            assert topic["replication_factor"] == replication
            assert topic["configs"] == spec.configs(replication)
            assert topic["configs"]["cleanup.policy"] == spec.cleanup_policy
            assert "retention.ms" not in topic["configs"]  # the broker's: the policy
    assert min_insync_replicas(1) == 1 and min_insync_replicas(3) == 2
    assert {name for name, spec in wire.topics().items() if spec.cleanup_policy == "compact"} == {
        "gemeente-a.schakel.tijdlijnen",
        "gemeente-a.schakel.deadletter.herhaald",
        "gemeente-a.schakel-worker-burgers-changelog",
    }


def test_deadletter_headers_say_where_and_why_without_a_bsn() -> None:
    error = ValueError("bsn 111222333 " + "x" * 2000)
    headers = deadletter_headers(
        "gemeente-a.schakel.wmo.events",
        3,
        41,
        "decode",
        error,
        reason="ValueError",
        timestamp=1764547200123,
    )
    assert tuple(k for k, _ in headers) == DEADLETTER_HEADERS
    values = dict(headers)
    assert values["schakel.bron.topic"] == b"gemeente-a.schakel.wmo.events"
    assert values["schakel.bron.partitie"] == b"3" and values["schakel.bron.offset"] == b"41"
    assert values["schakel.bron.tijdstip"] == b"1764547200123"  # when it was registered
    assert values["schakel.fase"] == b"decode" and values["schakel.fout.klasse"] == b"ValueError"
    assert values["schakel.fout.reden"] == b"ValueError"
    message = values["schakel.fout.melding"]
    assert b"111222333" not in message and len(message) == MAX_ERROR_MESSAGE
    # a record without a timestamp: the rest, without schakel.bron.tijdstip
    untimed = deadletter_headers(
        "gemeente-a.schakel.wmo.events", 3, 41, "decode", error, reason="ValueError"
    )
    assert tuple(k for k, _ in untimed) == tuple(
        k for k in DEADLETTER_HEADERS if k != "schakel.bron.tijdstip"
    )


@pytest.mark.parametrize(
    ("reason", "written"),
    [
        ("wrong-type", "wrong-type"),
        ("history-limit", "history-limit"),
        ("ForeignSchema", "ForeignSchema"),
        ("personal-data-in-identifier", "personal-data-in-identifier"),
        # never anything but a code: a message, a value, a possible BSN, too long, empty
        ("type: does not match", "?"),
        ("bsn-111222333", "?"),
        ("x" * 65, "?"),
        ("", "?"),
        ("wrong-type\n", "?"),
    ],
)
def test_the_reason_header_holds_a_code_and_nothing_else(reason: str, written: str) -> None:
    error = ValueError(f"the message, not the reason {BSN_TEXT}")
    headers = dict(deadletter_headers("t", 0, 1, "validate", error, reason=reason))
    assert headers["schakel.fout.reden"] == written.encode()
    assert reason_code(reason) == written


# --- nothing else declares the wire ----------------------------------------------------------

PRODUCT = ["adapters", "streams", "schakel", "deploy", "benchmarks", "schemas"]
_LITERAL_NAME = re.compile(
    r"[\"'](" + "|".join(re.escape(n) for n in sorted(SPEC_NAMES | {GROUP})) + r")[\"']"
)


def _python_files(*dirs: str) -> list[Path]:
    return [
        p for d in dirs for p in sorted((ROOT / d).rglob("*.py")) if "__pycache__" not in p.parts
    ]


def test_no_module_but_the_wire_map_spells_a_topic_or_group_name() -> None:
    wire_module = ROOT / "schemas" / "wire.py"
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in _python_files(*PRODUCT)
        if path != wire_module
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _LITERAL_NAME.search(line)
    ]
    assert not offenders, f"topic or group names outside schemas/wire.py: {offenders}"


def test_the_cli_deploy_and_benchmarks_do_not_import_the_faust_app_for_names() -> None:
    allowed = {ROOT / "schakel" / "worker_cmd.py"}  # it runs the app
    offenders = []
    for path in _python_files("schakel", "deploy", "benchmarks"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if (module == "streams.app" or "streams.app" in names) and path not in allowed:
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


def test_forget_tombstones_every_compacted_topic_keyed_by_pseudonym_and_no_other() -> None:
    """``schakel forget`` writes a tombstone per citizen on :data:`PER_CITIZEN_COMPACTED`:
    every compacted topic but the one keyed by dead-letter id."""
    compacted = {spec for spec in TOPICS if spec.cleanup_policy == "compact"}
    assert set(PER_CITIZEN_COMPACTED) == compacted - {DEADLETTER_REPLAYED}
    assert all(spec.carries for spec in PER_CITIZEN_COMPACTED)  # a schema for the tombstone
