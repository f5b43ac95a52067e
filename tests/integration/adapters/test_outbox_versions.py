"""Outbox rows as record versions against a real PostgreSQL (issue 12 item 4): an insert, an
update and a delete of one business key become versions whose ``sequence`` is the outbox id,
the delete a ``nl.schakel.bron.verwijderd``; a bad ``operatie`` is rejected, the rest goes on."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from adapters.outbox import OutboxSource
from schemas.pseudonym import Pseudonymiser
from schemas.wire import VERWIJDERD
from tests.integration.adapters.conftest import KEY, insert_rows

PSEUDONYMISER = Pseudonymiser(KEY)


def row(event_id: str, datum: str, **extra: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "urn:nld:oin:00000001234567890000:systeem:participatie",
        "type": "nl.participatiewet.trajecten.gestart",
        "data": {"bsn": "999990020", "datum": datum, "traject_id": "T-1", "soort": "overig"},
        **extra,
    }


def test_insert_update_delete_rows_are_versions_in_outbox_id_order(outbox_db: str) -> None:
    insert_rows(
        outbox_db,
        [
            row("e-1", "2026-02-01", operatie="insert", bronsleutel="traject-T-1"),
            row("e-2", "2026-02-03", operatie="update", bronsleutel="traject-T-1"),
            row("e-3", "2026-02-05", operatie="verplaats", bronsleutel="traject-T-1"),
            row("e-4", "2026-03-01", operatie="delete", bronsleutel="traject-T-1"),
            row("e-5", "2026-03-02"),
        ],
    )
    source = OutboxSource(outbox_db, pseudonymiser=PSEUDONYMISER)
    try:
        records = list(source.records({}))
    finally:
        source.close()
    assert [r.location.path for r in records] == [f"id={n}" for n in range(1, 6)]
    rejected = records[2].rejection
    assert rejected is not None and rejected.reason == "unknown-value"
    events = [r.event for r in records]
    assert [e["sequence"] for e in events[:2] if e] == [
        "00000000000000000001",
        "00000000000000000002",
    ]
    deleted = events[3]
    assert deleted is not None and deleted["type"] == VERWIJDERD
    assert deleted["domein"] == "participatiewet" and deleted["sequence"].endswith("4")
    assert events[4] is not None and "sequence" not in events[4]


def test_created_at_is_the_time_of_an_event_without_one_and_bsn_keys_are_hashed(
    outbox_db: str,
) -> None:
    """Review A2 and A3 against a real PostgreSQL: a row's event without ``time`` gets the
    row's ``created_at`` in UTC (whatever the session's time zone); an event's own ``time`` is
    kept; a ``bronsleutel`` that holds a possible BSN is published as its keyed token, the same
    for every version of the record."""
    key = "999990020/traject-T-1"
    rows = [
        ("2026-02-01 09:30:00.25+01", row("e-1", "2026-02-01", bronsleutel=key)),
        ("2026-02-03 10:00:00+01", row("e-2", "2026-02-03", operatie="update", bronsleutel=key)),
        ("2026-02-04 10:00:00+01", row("e-3", "2026-02-04", time="2026-02-04T11:00:00+01:00")),
    ]
    with psycopg.connect(outbox_db) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO schakel_outbox (created_at, event) VALUES (%s, %s)",
            [(created, Jsonb(event)) for created, event in rows],
        )
    new_york = f"{outbox_db} options='-c TimeZone=America/New_York'"  # the reader's session
    source = OutboxSource(new_york, pseudonymiser=PSEUDONYMISER)
    try:
        events = [r.event for r in source.records({})]
    finally:
        source.close()
    assert [e["time"] for e in events if e] == [
        "2026-02-01T08:30:00.250000Z",
        "2026-02-03T09:00:00.000000Z",
        "2026-02-04T11:00:00+01:00",
    ]
    token = "bk-" + PSEUDONYMISER.token("bronsleutel", key)
    assert [e.get("bronsleutel") for e in events if e] == [token, token, None]
