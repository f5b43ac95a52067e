"""The benchmark's input: synthetic catalogue events, generated the same way on every call.

A citizen gets ``per_citizen`` events of a plausible mix over the four domains (every rule has
something to read). The ``9999`` block holds only ~9,090 synthetic BSNs, so citizen ``i`` uses
BSN ``i mod 9,090`` under pseudonymisation key ``bench-<i div 9,090>``: every citizen has a
pseudonym of its own, however many there are, and no real BSN is ever used.

Events are generated lazily (:func:`events`), so a million of them never sit in one list.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from adapters.publisher import Publisher
from schakel.synth.bsn import block as bsn_block
from schemas.envelope import Event, validate_input
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordSerializer
from schemas.wire import Wire

SOURCE = "urn:nld:oin:00000001234567890000:systeem:bench"
BSNS = bsn_block()
_PSEUDONYMISERS: dict[int, Pseudonymiser] = {}


def pseudonymiser(i: int, *, offset: int = 0) -> Pseudonymiser:
    """The pseudonymiser of citizen ``i`` (one key per block of :data:`BSNS`); ``offset``
    blocks further for a population of its own."""
    block = offset + i // len(BSNS)
    if block not in _PSEUDONYMISERS:
        _PSEUDONYMISERS[block] = Pseudonymiser(f"bench-{block}")
    return _PSEUDONYMISERS[block]


def _kinds(i: int) -> list[tuple[str, dict[str, Any]]]:
    categorie = "07" if i % 3 else "02"
    return [
        ("nl.wmo.meldingen.ontvangen", {}),
        (
            "nl.wmo.onderzoeken.afgerond",
            {"werkwens": i % 2 == 0, "arbeidspotentieel": "gedeeltelijk"},
        ),
        (
            "nl.wmo.voorzieningen.toegewezen",
            {"toewijzing_nummer": f"T{i}", "productcategorie": categorie, "ingangsdatum": None},
        ),
        (
            "nl.wmo.voorzieningen.gestart",
            {"toewijzing_nummer": f"T{i}", "productcategorie": categorie},
        ),
        ("nl.participatiewet.uitkeringen.toegekend", {"regeling": "bijstand"}),
        ("nl.wijkteams.casussen.geopend", {"casus_id": f"C{i}"}),
        (
            "nl.wgs.vroegsignalen.ontvangen",
            {
                "signaal_id": f"S{i}",
                "partner": "energie",
                "bedrag_cent": 25000,
                "dagen_achterstand": 45,
                "dreiging": "geen",
            },
        ),
        ("nl.wijkteams.zrm.vastgesteld", {"scores": {"financien": 2, "werk-opleiding": 3}}),
        ("nl.wgs.vroegsignalen.opgevolgd", {"signaal_id": f"S{i}", "actie": "gesprek"}),
        ("nl.participatiewet.verwijzingen.ontvangen", {"van": "wmo"}),
        ("nl.wijkteams.regie.toegewezen", {"rol": "casusregisseur"}),
        ("nl.participatiewet.trajecten.gestart", {"traject_id": f"R{i}", "soort": "re-integratie"}),
    ]


def citizen(i: int, per_citizen: int) -> list[dict[str, Any]]:
    """Citizen ``i``'s ``per_citizen`` input CloudEvents (before validation), 9 days apart
    (2 days apart for long histories, so that every date lies in the past)."""
    bsn = BSNS[i % len(BSNS)]
    start = date(2015, 1, 1) + timedelta(days=(i * 7) % 400)
    step = 9 if per_citizen <= 100 else 2
    kinds = _kinds(i)
    out = []
    for n in range(per_citizen):
        event_type, data = kinds[n % len(kinds)]
        datum = start + timedelta(days=step * n)
        data = {k: (str(datum) if v is None else v) for k, v in data.items()}
        if "signaal_id" in data:
            data["signaal_id"] = f"S{i}-{n // len(kinds)}"
        out.append(
            {
                "specversion": "1.0",
                "id": f"b{i}-{n}",
                "source": SOURCE,
                "type": event_type,
                "data": {"bsn": bsn, "datum": str(datum), **data},
            }
        )
    return out


def events(total: int, per_citizen: int) -> Iterator[Event]:
    """``total`` validated, pseudonymised events: ``total // per_citizen`` citizens (rounded
    up), citizen after citizen."""
    citizens = -(-total // per_citizen)
    produced = 0
    for i in range(citizens):
        for raw in citizen(i, per_citizen):
            if produced == total:
                return
            yield validate_input(raw, pseudonymiser(i))
            produced += 1


def signalling_event(i: int, today: date) -> Event:
    """An early warning (vroegsignaal) of a new citizen ``i``, received 60 days before
    ``today``, never followed up: on the live clock it opens a signal of rule
    ``vroegsignaal-zonder-opvolging`` as soon as it is processed."""
    raw = {
        "specversion": "1.0",
        "id": f"lat{i}",
        "source": SOURCE,
        "type": "nl.wgs.vroegsignalen.ontvangen",
        "data": {
            "bsn": BSNS[i % len(BSNS)],
            "datum": str(today - timedelta(days=60)),
            "signaal_id": f"L{i}",
            "partner": "energie",
            "bedrag_cent": 25000,
            "dagen_achterstand": 45,
            "dreiging": "geen",
        },
    }
    return validate_input(raw, pseudonymiser(i, offset=1000))


def publish(bootstrap: str, wire: Wire, stream: Iterator[Event]) -> tuple[int, float]:
    """Publish ``stream`` on the event topics of ``wire`` through the adapters' publisher
    (Avro, acks=all); returns (events, seconds)."""
    publisher = Publisher(
        bootstrap, RecordSerializer(LocalRegistry()), client_id="bench", wire=wire
    )
    started = time.perf_counter()
    count = 0
    for event in stream:
        publisher.send(event)
        count += 1
        if count % 20_000 == 0:
            publisher.flush()
    publisher.flush()
    publisher.close()
    return count, time.perf_counter() - started
