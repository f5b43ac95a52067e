"""``schakel dlq`` (issue 13 item 9) on the embedded broker: a worker refuses an event (the
history limit: a cause an operator can fix), ``dlq list`` / ``show`` describe the dead letter
without its content or a BSN, the cause is fixed (the limit raised), ``dlq replay`` re-publishes
it once and the worker takes it in; a second ``dlq replay`` sends nothing, also from another
machine (the replay is recorded on ``schakel.deadletter.herhaald``)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from schakel.broker import EmbeddedBroker
from schakel.topics import ensure_topics
from schemas.binding import deadletter_record
from schemas.pseudonym import pseudonym
from schemas.wire import DEFAULT_WIRE as WIRE
from tests.cli import run_cli
from tests.integration.streams.helpers import KEY, WorkerProcess, consume, publish

BSN = "999990019"
SOURCE = "urn:nld:oin:00000001234567890000:systeem:wijkteam"
AUTH = {"Authorization": "Bearer token-anna", "X-Doel": "dlq-test"}


def events() -> list[dict[str, Any]]:
    return [
        {
            "specversion": "1.0",
            "id": f"wt-vol-{n}",
            "source": SOURCE,
            "type": "nl.wijkteams.casussen.geopend",
            "data": {"bsn": BSN, "datum": f"2026-03-{n + 1:02d}", "casus_id": f"V-{n}"},
        }
        for n in range(11)
    ]


def cli_env(data_dir: Path, bootstrap: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update(
        {
            "SCHAKEL_KAFKA_BOOTSTRAP": bootstrap,
            "SCHAKEL_DATA_DIR": str(data_dir),
            "SCHAKEL_PROFILE": "embedded",
        }
    )
    return env


def write_dead_letter(
    bootstrap: str,
    *,
    key: bytes | None,
    value: bytes,
    topic: str,
    partition: int,
    offset: int,
    limit: int = 100_000,
    stage: str = "accept",
) -> Any:
    """A streams dead letter of the record at ``topic``/``partition``/``offset``, written as
    the worker writes one (:func:`schemas.binding.deadletter_record`); returns it."""
    letter = deadletter_record(
        [("h", b"v")],
        key=key,
        value=value,
        limit=limit,
        topic=topic,
        partition=partition,
        offset=offset,
        stage=stage,
        error=ValueError("a cause"),
        reason="ValueError",
        source="urn:schakel:test",
        time=None,
        timestamp=1764547200123,
    )
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    producer.send(WIRE.deadletter_streams, **letter._asdict()).get(30)
    producer.close()
    return letter


def test_a_dead_letter_is_listed_shown_and_replayed_once(
    fresh_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    bootstrap = fresh_broker.bootstrap
    subject = pseudonym(BSN, KEY)
    publish(bootstrap, events())
    worker = WorkerProcess(bootstrap, tmp_path / "w1", extra_env={"SCHAKEL_HISTORY_LIMIT": "10"})
    worker.start()
    try:
        worker.drain(WIRE.event_topics)
    finally:
        worker.stop()
    assert len(consume(bootstrap, WIRE.deadletter_streams)) == 1

    env = cli_env(tmp_path / "cli", bootstrap)
    listed = run_cli("dlq", "list", env=env)
    assert listed.returncode == 0, listed.stderr[-2000:]
    (line,) = listed.stdout.splitlines()
    ident = line.split()[0]
    assert re.fullmatch(r"[0-9a-f]{32}", ident)
    assert "streams" in line and f"{WIRE.topic_for('nl.wijkteams.casussen.geopend')}/" in line
    shown = run_cli("dlq", "show", ident, env=env)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "HistoryLimit" in shown.stdout or "history" in shown.stdout.lower(), shown.stdout
    for output in (listed.stdout + listed.stderr, shown.stdout + shown.stderr):
        assert BSN not in output and "wt-vol-" not in output and "V-10" not in output
    unknown = run_cli("dlq", "show", "0" * 32, env=env)
    assert unknown.returncode == 2 and len(unknown.stderr.strip().splitlines()) == 1

    worker = WorkerProcess(bootstrap, tmp_path / "w2")  # the cause fixed: the default limit
    worker.start()
    try:
        first = run_cli("dlq", "replay", env=env)
        assert first.returncode == 0, first.stderr[-2000:]
        assert "dlq replay: 1 re-published, 0 already replayed" in first.stdout
        worker.drain(WIRE.event_topics)
        # from another machine (another data directory: a fresh pod, another operator's
        # laptop): the replay is recorded on Kafka, not where the first one ran
        elsewhere = cli_env(tmp_path / "another-machine", bootstrap)
        shown = run_cli("dlq", "show", ident, env=elsewhere)
        assert shown.returncode == 0, shown.stderr[-2000:]
        assert re.search(r"^replayed\s+yes$", shown.stdout, re.MULTILINE), shown.stdout
        second = run_cli("dlq", "replay", env=elsewhere)
        assert second.returncode == 0, second.stderr[-2000:]
        assert "dlq replay: 0 re-published, 1 already replayed" in second.stdout
        worker.drain(WIRE.event_topics)
        status, body = worker.get(f"/api/v1/burgers/{subject}/tijdlijn", AUTH)
        assert status == 200, body
        ids = [e["id"] for e in body["tijdlijn"]]
        assert sorted(ids) == sorted(f"wt-vol-{n}" for n in range(11))  # taken in, once
    finally:
        worker.stop()
    topic = WIRE.topic_for("nl.wijkteams.casussen.geopend")
    assert len(consume(bootstrap, topic)) == 12  # 11 published + 1 re-published, not 13
    assert len(consume(bootstrap, WIRE.deadletter_streams)) == 1  # no new dead letter


def test_a_dead_letter_replayed_after_forget_does_not_bring_the_citizen_back(
    fresh_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """The erasure drops every event registered before it, a dead letter replayed later
    included: ``dlq replay`` re-publishes with the original's timestamp."""
    bootstrap = fresh_broker.bootstrap
    subject = pseudonym(BSN, KEY)
    publish(bootstrap, events())
    worker = WorkerProcess(bootstrap, tmp_path / "w1", extra_env={"SCHAKEL_HISTORY_LIMIT": "10"})
    worker.start()
    try:
        worker.drain(WIRE.event_topics)
        assert len(consume(bootstrap, WIRE.deadletter_streams)) == 1
        env = {**cli_env(tmp_path / "cli", bootstrap), "SCHAKEL_PSEUDONYM_KEY": KEY}
        bsn_file = tmp_path / "vergeet.txt"
        bsn_file.write_text(f"{BSN}\n")
        forgotten = run_cli("forget", "--bsn-file", str(bsn_file), env=env)
        assert forgotten.returncode == 0, forgotten.stderr[-2000:]
        worker.drain([WIRE.klok])
        assert worker.get(f"/api/v1/burgers/{subject}/tijdlijn", AUTH)[0] == 404
    finally:
        worker.stop()
    worker = WorkerProcess(bootstrap, tmp_path / "w2")  # the cause fixed: the default limit
    worker.start()
    try:
        replayed = run_cli("dlq", "replay", env=env)
        assert replayed.returncode == 0, replayed.stderr[-2000:]
        assert "dlq replay: 1 re-published, 0 already replayed" in replayed.stdout
        worker.drain(WIRE.event_topics)
        status, body = worker.get(f"/api/v1/burgers/{subject}/tijdlijn", AUTH)
        assert status == 404, body  # still forgotten: the replayed event was dropped
    finally:
        worker.stop()
    topic = WIRE.topic_for("nl.wijkteams.casussen.geopend")
    assert len(consume(bootstrap, topic)) == 12  # it was re-published, and dropped


def test_a_dead_letter_without_its_value_is_shown_as_such_and_never_replayed(
    fresh_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """A dead letter too large with the original's value was written without it
    (``schakel.bron.weggelaten``, schemas/binding.py ``deadletter_record``): ``list`` and
    ``show`` say so, with the original's size and where to read it; ``replay`` re-publishes
    no empty value but names the dead letter and that location, and counts it."""
    bootstrap = fresh_broker.bootstrap
    topic = WIRE.topic_for("nl.wijkteams.casussen.geopend")
    letter = write_dead_letter(
        bootstrap,
        key=pseudonym(BSN, KEY).encode(),
        value=b"\x00" + b"x" * 4999,
        limit=2000,
        topic=topic,
        partition=2,
        offset=41,
        stage="decode",
    )
    assert letter.value is None
    location = f"{topic}/2/41"

    env = cli_env(tmp_path / "cli", bootstrap)
    listed = run_cli("dlq", "list", env=env)
    assert listed.returncode == 0, listed.stderr[-2000:]
    (line,) = listed.stdout.splitlines()
    ident = line.split()[0]
    assert location in line and "value omitted (5000 B" in line and "sha256" not in line
    shown = run_cli("dlq", "show", ident, env=env)
    assert shown.returncode == 0, shown.stderr[-2000:]
    (value,) = [v for v in shown.stdout.splitlines() if v.startswith("value ")]
    assert "omitted" in value and "5000 bytes" in value and location in value, shown.stdout
    for _ in range(2):  # not recorded as replayed: the same again
        replayed = run_cli("dlq", "replay", env=env)
        assert replayed.returncode == 0, replayed.stderr[-2000:]
        assert "dlq replay: 0 re-published, 0 already replayed, 1 without value" in (
            replayed.stdout
        )
        (said,) = [x for x in replayed.stderr.splitlines() if x.startswith("dlq replay:")]
        assert ident in said and location in said and "not re-published" in said
    assert consume(bootstrap, topic) == []  # nothing re-published


def test_a_dead_letter_without_a_key_is_replayed_to_the_partition_it_came_from(
    fresh_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """A record without a key — a broadcast clock tick, which is for the citizens of the
    partition it was written to — goes back to the partition it was read from
    (``schakel.bron.partitie``), not to one the producer picks; a keyed record goes where its
    key sends it, as before."""
    bootstrap = fresh_broker.bootstrap
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    partitions = sorted(producer.partitions_for(WIRE.klok))
    producer.close()
    assert len(partitions) > 1
    for partition in partitions:
        write_dead_letter(
            bootstrap,
            key=None,
            value=f"tick of partition {partition}".encode(),
            topic=WIRE.klok,
            partition=partition,
            offset=7,
        )

    replayed = run_cli("dlq", "replay", env=cli_env(tmp_path / "cli", bootstrap))
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    assert f"dlq replay: {len(partitions)} re-published" in replayed.stdout
    landed = sorted((r.partition, r.value) for r in consume(bootstrap, WIRE.klok))
    assert landed == [(p, f"tick of partition {p}".encode()) for p in partitions]


def test_a_replay_without_the_topic_that_records_it_sends_nothing_and_says_so(
    tmp_path: Path,
) -> None:
    """A namespace whose topics an earlier version created has no
    ``schakel.deadletter.herhaald``: ``dlq replay`` re-publishes nothing (it could not record
    it, and every later replay would send it again), one line naming the topic, exit 2; once
    the topics are created, the replay goes through."""
    with EmbeddedBroker() as broker:
        bootstrap = broker.bootstrap
        topic = WIRE.topic_for("nl.wijkteams.casussen.geopend")
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        earlier = (topic, WIRE.deadletter_streams, WIRE.deadletter_adapters)
        admin.create_topics([NewTopic(name, 1, 1) for name in earlier])
        admin.close()
        write_dead_letter(
            bootstrap, key=b"k", value=b"an event", topic=topic, partition=0, offset=3
        )

        env = cli_env(tmp_path / "cli", bootstrap)
        refused = run_cli("dlq", "replay", env=env)
        assert refused.returncode == 2, refused.stdout + refused.stderr[-2000:]
        (line,) = refused.stderr.strip().splitlines()
        assert line.startswith("schakel: DlqError: ") and WIRE.deadletter_replayed in line
        assert "nothing was re-published" in line
        assert consume(bootstrap, topic) == []

        ensure_topics(bootstrap, partitions=1)
        replayed = run_cli("dlq", "replay", env=env)
        assert replayed.returncode == 0, replayed.stderr[-2000:]
        assert "dlq replay: 1 re-published, 0 already replayed" in replayed.stdout
        assert [r.value for r in consume(bootstrap, topic)] == [b"an event"]


def test_replay_id_re_publishes_only_that_dead_letter(
    fresh_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """``dlq replay ID`` re-publishes that dead letter only (review C item 3: it re-published
    every one); an unknown id is exit 2, as for ``show``; ``list`` takes no ID (it ignored
    one); ``replay`` without ID then sends the rest."""
    bootstrap = fresh_broker.bootstrap
    topic = WIRE.topic_for("nl.wijkteams.casussen.geopend")
    for offset in (5, 6):
        write_dead_letter(
            bootstrap, key=b"k", value=b"event %d" % offset, topic=topic, partition=0, offset=offset
        )
    env = cli_env(tmp_path / "cli", bootstrap)
    listed = run_cli("dlq", "list", env=env)
    assert listed.returncode == 0, listed.stderr[-2000:]
    ids = {}  # source offset -> dead letter id
    for line in listed.stdout.splitlines():
        found = re.search(rf"{re.escape(topic)}/0/(\d+)", line)
        assert found, line
        ids[found[1]] = line.split()[0]
    assert sorted(ids) == ["5", "6"]

    only = run_cli("dlq", "replay", ids["6"], env=env)
    assert only.returncode == 0, only.stderr[-2000:]
    assert "dlq replay: 1 re-published, 0 already replayed" in only.stdout
    assert [r.value for r in consume(bootstrap, topic)] == [b"event 6"]
    shown = run_cli("dlq", "show", ids["5"], env=env)
    assert re.search(r"^replayed\s+no$", shown.stdout, re.MULTILINE), shown.stdout

    for wrong in (["replay", "0" * 32], ["list", ids["5"]]):
        refused = run_cli("dlq", *wrong, env=env)
        assert refused.returncode == 2, refused.stdout + refused.stderr[-2000:]
        (line,) = refused.stderr.strip().splitlines()
        assert line.startswith(f"schakel dlq {wrong[0]}: ") and refused.stdout == ""
    assert [r.value for r in consume(bootstrap, topic)] == [b"event 6"]

    rest = run_cli("dlq", "replay", env=env)
    assert rest.returncode == 0, rest.stderr[-2000:]
    assert "dlq replay: 1 re-published, 1 already replayed" in rest.stdout
    assert sorted(r.value for r in consume(bootstrap, topic)) == [b"event 5", b"event 6"]
