"""The outbox adapter against a real PostgreSQL 15 and the real broker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.exceptions import AdapterError, SourceUnavailable
from adapters.outbox import OutboxSource
from schakel.adapter_cmd import build_runner
from schakel.broker import free_port
from schemas.exceptions import TransientError
from schemas.pseudonym import Pseudonymiser, pseudonym
from schemas.settings import Settings
from tests.integration.adapters.conftest import KEY, assert_no_bsn, events_of, insert_rows

PSEUDONYMISER = Pseudonymiser(KEY)

ROOT = Path(__file__).resolve().parents[3]
ROWS = ROOT / "samples" / "outbox" / "rows.jsonl"


def sample_events(source: str) -> list[dict[str, Any]]:
    out = []
    for line in ROWS.read_text().splitlines():
        event = json.loads(line)["event"]
        event["source"] = source
        out.append(event)
    return out


def melding(source: str, n: int, bsn: str = "999990020") -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"m-{n}",
        "source": source,
        "type": "nl.wmo.meldingen.ontvangen",
        "data": {"bsn": bsn, "datum": "2026-01-20"},
    }


def test_outbox_publishes_in_id_order_and_checkpoints_the_last_id(
    outbox_db: str, adapter_settings: Settings
) -> None:
    source = f"urn:nld:oin:{adapter_settings.oin}:systeem:wmo-zaaksysteem"
    rows = sample_events(source)
    insert_rows(outbox_db, rows)
    bootstrap = adapter_settings.kafka_bootstrap or ""
    runner = build_runner("outbox", outbox_db, adapter_settings, bootstrap=bootstrap, batch_size=2)
    try:
        stats = runner.run_once()
        assert (stats.published, stats.rejected) == (4, 0)
        assert runner.checkpoint.load() == {"last_id": 4}
        insert_rows(
            outbox_db,
            [melding(source, 5), {"not": "an event"}, melding(source, 7, bsn="999990021")],
        )
        stats = runner.run_once()
        assert (stats.read, stats.published, stats.by_reason) == (
            3,
            1,
            {"missing-field": 1, "bsn": 1},
        )
        assert runner.checkpoint.load() == {"last_id": 7}
        assert runner.run_once().read == 0
    finally:
        runner.publisher.close()
        runner.close()
    messages = events_of(bootstrap, "schakel.wmo.events", source)
    assert sorted(m.record["id"] for m in messages) == sorted([e["id"] for e in rows] + ["m-5"])
    by_id = {m.record["id"]: m for m in messages}
    assert by_id["zs-afwijzing-7002"].record["data"]["reden"] == "werk-passender"
    assert by_id["zs-onderzoek-7001"].record["data"]["werkwens"] is True
    assert by_id["m-5"].key == pseudonym("999990020", KEY).encode()
    assert_no_bsn(messages, {"999990020", "999990068"})
    quarantine = (adapter_settings.data_dir / "quarantaine" / "outbox.jsonl").read_text()
    assert "schakel_outbox id=6" in quarantine
    assert "schakel_outbox id=7" in quarantine
    assert "999990021" not in quarantine


def test_rows_are_read_in_id_order_in_batches(outbox_db: str) -> None:
    insert_rows(outbox_db, [melding("urn:x", n) for n in range(25)])
    source = OutboxSource(outbox_db, batch_size=7, pseudonymiser=PSEUDONYMISER)
    try:
        ids = [r.cursor["last_id"] for r in source.records({"last_id": 3})]
    finally:
        source.close()
    assert ids == list(range(4, 26))


def test_a_gap_of_an_open_transaction_is_waited_for(outbox_db: str) -> None:
    source = OutboxSource(outbox_db, gap_grace_s=3600, pseudonymiser=PSEUDONYMISER)
    slow = psycopg.connect(outbox_db)
    try:
        slow.execute(
            "INSERT INTO schakel_outbox (event) VALUES (%s)", [json.dumps(melding("urn:x", 1))]
        )
        insert_rows(outbox_db, [melding("urn:x", 2)])  # id 2 commits first
        assert list(source.records({})) == []  # id 1 may still commit: do not pass it
        slow.commit()
        assert [r.cursor["last_id"] for r in source.records({})] == [1, 2]
        # a rolled-back id leaves a permanent gap: passed once no writer is in flight
        slow.execute(
            "INSERT INTO schakel_outbox (event) VALUES (%s)", [json.dumps(melding("urn:x", 3))]
        )
        slow.rollback()
        insert_rows(outbox_db, [melding("urn:x", 4)])
        assert [r.cursor["last_id"] for r in source.records({"last_id": 2})] == [4]
    finally:
        slow.close()
        source.close()


def _read(source: OutboxSource, cursor: dict[str, Any]) -> tuple[list[int], dict[str, Any]]:
    """The ids one run yields and the cursor after it (``cursor`` when it yields nothing)."""
    records = list(source.records(cursor))
    ids = [int(str(r.location.path).removeprefix("id=")) for r in records]
    return ids, (dict(records[-1].cursor) if records else cursor)


def test_a_row_that_commits_after_its_gap_was_passed_is_read_late(outbox_db: str) -> None:
    """The review's case: a transaction open longer than the grace period (here 0 s) commits
    its row below the cursor; ``WHERE id > last_id`` never saw it again. Its gap is watched:
    the next run reads it."""
    source = OutboxSource(outbox_db, gap_grace_s=0, pseudonymiser=PSEUDONYMISER)
    slow = psycopg.connect(outbox_db)
    try:
        slow.execute(
            "INSERT INTO schakel_outbox (event) VALUES (%s)", [json.dumps(melding("urn:x", 1))]
        )
        insert_rows(outbox_db, [melding("urn:x", 2)])
        ids, cursor = _read(source, {})
        assert ids == [2]
        assert cursor["last_id"] == 2
        assert [gap[:2] for gap in cursor["gaps"]] == [[1, 1]]
        assert _read(source, cursor)[0] == []  # still open: nothing, the gap still watched
        slow.commit()
        insert_rows(outbox_db, [melding("urn:x", 3)])
        ids, cursor = _read(source, cursor)
        assert ids == [1, 3]  # the late row first
        assert cursor == {"last_id": 3}
        assert _read(source, cursor)[0] == []
    finally:
        slow.close()
        source.close()


def test_an_id_taken_before_its_insert_is_not_lost(outbox_db: str) -> None:
    """The review's second case: an id taken with ``nextval()`` before the ``INSERT`` (an ORM
    allocating ids ahead) holds no lock, so the gap looks settled at once."""
    source = OutboxSource(outbox_db, gap_grace_s=3600, pseudonymiser=PSEUDONYMISER)
    orm = psycopg.connect(outbox_db)
    try:
        row = orm.execute(
            "SELECT nextval(pg_get_serial_sequence('schakel_outbox', 'id'))"
        ).fetchone()
        assert row is not None
        taken = int(row[0])
        insert_rows(outbox_db, [melding("urn:x", 2)])
        ids, cursor = _read(source, {})
        assert ids == [taken + 1]  # passed at once: no writer held a lock
        orm.execute(
            "INSERT INTO schakel_outbox (id, event) VALUES (%s, %s)",
            [taken, json.dumps(melding("urn:x", 1))],
        )
        orm.commit()
        ids, cursor = _read(source, cursor)
        assert ids == [taken]
        assert cursor == {"last_id": taken + 1}
    finally:
        orm.close()
        source.close()


def test_connection_problems_are_source_failures(postgres: Any) -> None:
    source = OutboxSource(postgres.dsn("no_such_database"), pseudonymiser=PSEUDONYMISER)
    with pytest.raises(AdapterError, match="cannot connect") as err:
        list(source.records({}))
    assert "password" not in str(err.value)
    assert not isinstance(err.value, SourceUnavailable)  # the server answered: fix the DSN
    source = OutboxSource(postgres.dsn(), pseudonymiser=PSEUDONYMISER)
    with pytest.raises(AdapterError, match="schakel_outbox does not exist") as err:
        list(source.records({}))
    assert not isinstance(err.value, SourceUnavailable)
    source.close()


def test_a_database_that_does_not_answer_is_an_outage() -> None:
    """Reproduction: ``adapter outbox --once`` exited 2 (a permanent error: "fix the
    configuration") when the database was down, and a continuous outbox adapter logged
    ``adapter.run_failed`` instead of waiting the outage out with backoff."""
    dsn = f"host=127.0.0.1 port={free_port()} dbname=x user=x password=geheim connect_timeout=3"
    with pytest.raises(SourceUnavailable, match="cannot connect") as err:
        list(OutboxSource(dsn, pseudonymiser=PSEUDONYMISER).records({}))
    assert isinstance(err.value, TransientError)
    assert "geheim" not in str(err.value)


def test_a_connection_lost_while_reading_is_an_outage(outbox_db: str) -> None:
    insert_rows(outbox_db, [melding("urn:outbox", n) for n in range(3)])
    source = OutboxSource(outbox_db, batch_size=1, pseudonymiser=PSEUDONYMISER)
    rows = source.records({})
    assert next(rows).cursor == {"last_id": 1}
    with psycopg.connect(outbox_db, autocommit=True) as admin:  # the database goes away
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    with pytest.raises(SourceUnavailable, match="reading schakel_outbox failed"):
        list(rows)
    # the next run reconnects and reads on from its cursor
    assert [r.cursor for r in source.records({"last_id": 1})] == [{"last_id": 2}, {"last_id": 3}]
    source.close()


def test_one_bad_row_never_stops_the_outbox(outbox_db: str, adapter_settings: Settings) -> None:
    """Issue 11 item 4 against PostgreSQL: a jsonb number of 5,000 digits (Python's int
    refuses more than 4,300: ValueError) and a BSN in full-width digits (passed the check,
    then crashed on encode('ascii')) stopped the adapter on every run. Now both rows are
    quarantined and the rows after them published."""
    source = f"urn:nld:oin:{adapter_settings.oin}:systeem:wmo-zaaksysteem"
    huge = {**melding(source, 2), "data": {"bsn": "999990020", "datum": "2026-01-20"}}
    with psycopg.connect(outbox_db) as conn:
        conn.execute(
            "INSERT INTO schakel_outbox (event) VALUES (%s), (%s::jsonb), (%s), (%s)",
            (
                json.dumps(melding(source, 1)),
                json.dumps(huge).replace('"2026-01-20"}', '"2026-01-20", "x": ' + "7" * 5000 + "}"),
                json.dumps(melding(source, 3, bsn="９９９９９００２０"), ensure_ascii=False),
                json.dumps(melding(source, 4)),
            ),
        )
    bootstrap = adapter_settings.kafka_bootstrap or ""
    runner = build_runner("outbox", outbox_db, adapter_settings, bootstrap=bootstrap)
    try:
        stats = runner.run_once()
        assert (stats.read, stats.published, stats.by_reason) == (
            4,
            2,
            {"malformed": 1, "bsn": 1},
        )
        assert runner.checkpoint.load() == {"last_id": 4}
    finally:
        runner.publisher.close()
        runner.close()
    messages = events_of(bootstrap, "schakel.wmo.events", source)
    assert sorted(m.record["id"] for m in messages) == ["m-1", "m-4"]
