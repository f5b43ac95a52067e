"""The history limit on the worker (processor) and on the batch path's ingest: a new event
beyond ``SCHAKEL_HISTORY_LIMIT`` is refused loudly (dead letter with the reason, metric) and no
accepted event is ever dropped, so no signal changes (issue 15, class 4)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from schemas.wire import DEFAULT_WIRE

from .records import BSN, BatchIngest, Worker, message, raw

LIMIT = 10
WMO = "urn:nld:oin:00000001234567890000:systeem:wmo"
R1 = "werkpotentieel-zonder-verwijzing"
_WEEKLY = ["01-20", "01-27", "02-03", "02-10", "02-17", "02-24", "03-03", "03-10", "03-17", "03-24"]
_VOORZIENING = {"toewijzing_nummer": "T1", "productcategorie": "02"}

TWELVE = [
    # R1's episode starts in the first two: werkwens from 2026-01-05, voorziening from
    # 2026-01-10 → termijn 2026-03-07; the ten gestart that follow change nothing of it
    raw(
        "wmo-1",
        "nl.wmo.onderzoeken.afgerond",
        source=WMO,
        datum="2026-01-05",
        werkwens=True,
        arbeidspotentieel="gedeeltelijk",
    ),
    raw(
        "wmo-2",
        "nl.wmo.voorzieningen.toegewezen",
        source=WMO,
        datum="2026-01-10",
        ingangsdatum="2026-01-10",
        **_VOORZIENING,
    ),
    *(
        raw(
            f"wmo-{n + 3}",
            "nl.wmo.voorzieningen.gestart",
            source=WMO,
            datum=f"2026-{day}",
            **_VOORZIENING,
        )
        for n, day in enumerate(_WEEKLY)
    ),
]
MESSAGES = [message(event, offset) for offset, event in enumerate(TWELVE)]


def _refusal(headers: list[tuple[str, bytes]]) -> bytes:
    """Checks one dead letter of a refusal; returns its source offset."""
    found = dict(headers)
    assert found["schakel.fase"] == b"accept"
    assert found["schakel.fout.klasse"] == b"HistoryLimitError"
    assert found["schakel.fout.reden"] == b"history-limit"
    assert b"SCHAKEL_HISTORY_LIMIT" in found["schakel.fout.melding"]
    assert BSN.encode() not in b"".join(found.values())
    return found["schakel.bron.offset"]


def test_the_worker_refuses_beyond_the_limit_loudly_and_keeps_the_signal() -> None:
    worker = Worker(history_limit=LIMIT)
    asyncio.run(worker.handle(*MESSAGES))
    (state,) = worker.table.values()
    # nothing dropped: the first ten stay, the last two are refused
    assert [s.event.id for s in state.events] == [f"wmo-{n}" for n in range(1, 11)]
    assert [_refusal(d["headers"]) for d in worker.deadletters.sent] == [b"10", b"11"]
    assert worker.metrics.deadlettered.labels("accept", "history-limit")._value.get() == 2
    # R1 was raised once and is still open: the limit changed no signal
    assert [(s.regel, s.status) for s in state.signalen.values()] == [(R1, "open")]
    assert len(worker.signals.sent) == 1
    # the first event delivered again is recognised as a duplicate, not refused
    asyncio.run(worker.handle(message(TWELVE[0], 12)))
    assert worker.metrics.duplicates._value.get() == 1
    assert len(worker.deadletters.sent) == 2


def test_the_batch_path_refuses_the_same_events_and_agrees() -> None:
    batch = BatchIngest(history_limit=LIMIT)
    batch.ingest(*MESSAGES)
    (state,) = batch.states.values()
    assert [s.event.id for s in state.events] == [f"wmo-{n}" for n in range(1, 11)]
    batch.finish()  # the refusals are dead-lettered with the citizen's outputs
    assert (batch.stats.accepted, batch.stats.deadlettered) == (10, 2)
    sent: list[dict[str, Any]] = batch.producer.sent
    letters = [d for d in sent if d["topic"] == DEFAULT_WIRE.deadletter_streams]
    assert [_refusal(d["headers"]) for d in letters] == [b"10", b"11"]
    changelog = [d["value"] for d in sent if d["topic"] == DEFAULT_WIRE.changelog]
    (written,) = [batch.rebuild._decode_state(value) for value in changelog]
    assert [s.event.id for s in written.events] == [f"wmo-{n}" for n in range(1, 11)]
    assert [(s.regel, s.sinds, s.status) for s in written.signalen.values()] == [
        (R1, date(2026, 1, 10), "open")
    ]
