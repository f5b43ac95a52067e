"""Deliberately bad input records, a few per source, so the demo shows quarantine: a BSN that
fails the elfproef, a date that does not exist, a code outside the catalogue (and an iWmo
message of another release). They are *extra* records about background citizens, never a
fact the ground truth depends on, so they change no signal when (correctly) rejected."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from schakel.synth import iwmo_xml
from schakel.synth.bsn import corrupt
from schakel.synth.cloudevents import cloudevent
from schakel.synth.exports import SOCIALE_DIENST_COLUMNS, CsvFile
from schakel.synth.model import BadRecord, Fact, Municipality, Person
from schakel.synth.population import PROFILES

TOEGEWEZEN = "nl.wmo.voorzieningen.toegewezen"


def _host(m: Municipality, rng: random.Random, prefix: str) -> Person:
    """A background citizen with at least one fact whose type starts with ``prefix``."""
    candidates = [
        p
        for p in m.people
        if p.profiel in PROFILES and any(f.type.startswith(prefix) for f in p.facts)
    ]
    return rng.choice(candidates)


def iwmo(m: Municipality, rng: random.Random) -> tuple[list[tuple[str, bytes]], list[BadRecord]]:
    """Four bad message files (name, content) and what the adapter must say about them."""
    host = _host(m, rng, TOEGEWEZEN)
    alloc = next(f for f in host.facts if f.type == TOEGEWEZEN)
    day = alloc.datum
    start = Fact("nl.wmo.voorzieningen.gestart", day, dict(alloc.data), dict(alloc.native))
    files: list[tuple[str, bytes]] = []

    bad_bsn = iwmo_xml.Message(
        "WMO305",
        "418",
        replace(host, bsn=corrupt(host.bsn)),
        alloc.native["aanbieder"],
        iwmo_xml.GEMEENTE,
        "SZ-9000001",
        day,
        [start],
    )
    files.append(("bad-bsn", iwmo_xml.render(bad_bsn, rng)))

    stop = Fact(
        "nl.wmo.voorzieningen.gestopt",
        date(2025, 3, 3),
        {**alloc.data, "reden_beeindiging": "19"},
        {**alloc.native, "begindatum": date(2025, 1, 6)},
    )
    impossible = iwmo_xml.Message(
        "WMO307",
        "420",
        host,
        alloc.native["aanbieder"],
        iwmo_xml.GEMEENTE,
        "SZ-9000002",
        date(2025, 3, 3),
        [stop],
    )
    text = iwmo_xml.render(impossible, rng).replace(
        b"Einddatum>2025-03-03<", b"Einddatum>2025-02-30<"
    )
    files.append(("impossible-date", text))

    unknown = Fact(
        TOEGEWEZEN,
        day,
        {**alloc.data, "productcategorie": "99", "toewijzing_nummer": "99000001"},
        dict(alloc.native),
    )
    files.append(
        (
            "unknown-code",
            iwmo_xml.render(
                iwmo_xml.Message(
                    "WMO301",
                    "414",
                    host,
                    iwmo_xml.GEMEENTE,
                    alloc.native["aanbieder"],
                    "TW-9000003",
                    day,
                    [unknown],
                ),
                rng,
            ),
        )
    )

    old = iwmo_xml.Message(
        "WMO301",
        "414",
        host,
        iwmo_xml.GEMEENTE,
        alloc.native["aanbieder"],
        "TW-9000004",
        day,
        [alloc],
        release="3_1",
        versie=("3", "1"),
    )
    files.append(("wrong-release", iwmo_xml.render(old, rng)))
    named = [(f"{day.isoformat()}_ZZ_{label}.xml", content) for label, content in files]
    bad = [
        BadRecord("iwmo", "bsn", "WMO305 met een BSN dat niet aan de elfproef voldoet"),
        BadRecord("iwmo", "bad-date", "WMO307 met Einddatum 2025-02-30"),
        BadRecord("iwmo", "unknown-value", "WMO301 met productcategorie 99"),
        BadRecord("iwmo", "wrong-version", "WMO301 van iWmo-release 3.1"),
    ]
    return named, bad


def sociale_dienst(m: Municipality, rng: random.Random, export: CsvFile) -> list[BadRecord]:
    """Three bad rows appended to the older (Windows-1252) export."""
    host = _host(m, rng, "nl.participatiewet.")

    def row(**values: str) -> list[str]:
        cells = dict.fromkeys(SOCIALE_DIENST_COLUMNS, "")
        cells.update(values)
        return [cells[c] for c in SOCIALE_DIENST_COLUMNS]

    export.rows += [
        row(
            bsn=corrupt(host.bsn),
            gebeurtenis="verwijzing-ontvangen",
            datum="14-04-2025",
            van="overig",
            registratie_id="PW-2025-900001",
        ),
        row(
            bsn=host.bsn,
            gebeurtenis="verwijzing-ontvangen",
            datum="31-02-2025",
            van="wijkteam",
            registratie_id="PW-2025-900002",
        ),
        row(
            bsn=host.bsn,
            gebeurtenis="uitkering-beëindigd",
            datum="02-06-2025",
            reden="overig",
            registratie_id="PW-2025-900003",
        ),
    ]
    return [
        BadRecord("sociale-dienst", "bsn", "rij met een BSN dat niet aan de elfproef voldoet"),
        BadRecord("sociale-dienst", "bad-date", "rij met datum 31-02-2025"),
        BadRecord(
            "sociale-dienst",
            "unknown-value",
            "gebeurtenis 'uitkering-beëindigd' (met trema) bestaat niet",
        ),
    ]


def vroegsignalering(
    m: Municipality, rng: random.Random, signalen: CsvFile, acties: CsvFile
) -> list[BadRecord]:
    """Three bad signal rows and one bad action row."""
    host = _host(m, rng, "nl.wgs.vroegsignalen.")
    sid = next(
        f.data["signaal_id"] for f in host.facts if f.type == "nl.wgs.vroegsignalen.ontvangen"
    )
    signalen.rows += [
        ["VS-2025-90001", host.bsn, "woningcorporatie", "2025-05-12", "1.234", "45", "geen"],
        ["VS-2025-90002", host.bsn, "telecom", "2025-06-02", "89,95", "60", "geen"],
        ["VS-2025-90003", corrupt(host.bsn), "water", "2025-07-07", "112,40", "90", "geen"],
    ]
    acties.rows.append([sid, host.bsn, "30-02-2026", "gesprek"])
    return [
        BadRecord(
            "vroegsignalering", "bad-amount", "bedrag 1.234 (duizendtallen zonder decimale komma)"
        ),
        BadRecord(
            "vroegsignalering", "unknown-value", "partner 'telecom' staat niet in de catalogus"
        ),
        BadRecord(
            "vroegsignalering", "bsn", "signaal met een BSN dat niet aan de elfproef voldoet"
        ),
        BadRecord("vroegsignalering", "bad-date", "actie met datum 30-02-2026"),
    ]


@dataclass(frozen=True)
class _Events:
    """Makes CloudEvents about one host citizen with a raw (possibly invalid) ``datum``."""

    host: Person
    source: str
    rng: random.Random
    until: date

    def __call__(self, type_: str, datum: str, data: dict[str, Any]) -> dict[str, Any]:
        event = cloudevent(
            self.host, Fact(type_, date(2025, 9, 1), data), self.source, self.rng, self.until
        )
        event["data"]["datum"] = datum
        return event


def wijkteam(
    m: Municipality, rng: random.Random, oin: str, events: list[dict[str, Any]]
) -> list[BadRecord]:
    """Three bad lines appended to the wijkteam feed."""
    host = _host(m, rng, "nl.wijkteams.")
    make = _Events(host, f"urn:nld:oin:{oin}:systeem:wijkteam", rng, m.until)
    bad_bsn = make(
        "nl.wijkteams.zrm.vastgesteld", "2025-09-01", {"scores": {"financien": 2, "huisvesting": 3}}
    )
    bad_bsn["data"]["bsn"] = corrupt(host.bsn)
    events += [
        bad_bsn,
        make("nl.wijkteams.verwijzingen.gedaan", "2025-11-31", {"naar": "wmo"}),
        make("nl.wijkteams.verwijzingen.gedaan", "2025-09-03", {"naar": "jeugdzorg"}),
    ]
    return [
        BadRecord("wijkteam", "bsn", "ZRM met een BSN dat niet aan de elfproef voldoet"),
        BadRecord("wijkteam", "bad-date", "verwijzing met datum 2025-11-31"),
        BadRecord(
            "wijkteam", "unknown-value", "verwijzing naar 'jeugdzorg' (geen catalogus-waarde)"
        ),
    ]


def outbox(
    m: Municipality, rng: random.Random, oin: str, rows: list[dict[str, Any]]
) -> list[BadRecord]:
    """Three bad rows appended to the outbox."""
    host = _host(m, rng, "nl.wmo.meldingen.")
    make = _Events(host, f"urn:nld:oin:{oin}:systeem:wmo-zaaksysteem", rng, m.until)
    bad_bsn = make("nl.wmo.meldingen.ontvangen", "2025-10-06", {})
    bad_bsn["data"]["bsn"] = corrupt(host.bsn)
    impossible = make(
        "nl.wmo.onderzoeken.afgerond",
        "2026-02-29",
        {"werkwens": False, "arbeidspotentieel": "geen"},
    )
    unknown = make("nl.wmo.meldingen.ingetrokken", "2025-10-08", {})
    rows += [{"created_at": e["time"], "event": e} for e in (bad_bsn, impossible, unknown)]
    return [
        BadRecord("outbox", "bsn", "melding met een BSN dat niet aan de elfproef voldoet"),
        BadRecord("outbox", "bad-date", "onderzoek met datum 2026-02-29"),
        BadRecord(
            "outbox", "unknown-type", "type nl.wmo.meldingen.ingetrokken staat niet in de catalogus"
        ),
    ]
