"""One valid data sample per catalogue type (input form, without ``bsn``)."""

from __future__ import annotations

from typing import Any

from schemas.registry import LocalRegistry

SAMPLES: dict[str, dict[str, Any]] = {
    "nl.participatiewet.uitkeringen.toegekend": {"datum": "2026-01-05", "regeling": "bijstand"},
    "nl.participatiewet.uitkeringen.beeindigd": {"datum": "2026-03-01", "reden": "werk"},
    "nl.participatiewet.aanvragen.afgewezen": {"datum": "2026-02-01", "reden": "geen-recht"},
    "nl.participatiewet.arbeidsvermogen.vastgesteld": {
        "datum": "2026-01-05",
        "uitkomst": "gedeeltelijk",
        "trede": 3,
    },
    "nl.participatiewet.verwijzingen.ontvangen": {"datum": "2026-02-02", "van": "wmo"},
    "nl.participatiewet.trajecten.gestart": {
        "datum": "2026-02-10",
        "traject_id": "TR-1",
        "soort": "beschut-werk",
        "uren_per_week": 16.5,
    },
    "nl.participatiewet.trajecten.beeindigd": {
        "datum": "2026-06-10",
        "traject_id": "TR-1",
        "reden": "afgerond",
    },
    "nl.wmo.meldingen.ontvangen": {"datum": "2026-01-02"},
    "nl.wmo.onderzoeken.afgerond": {
        "datum": "2026-01-05",
        "werkwens": True,
        "arbeidspotentieel": "onbekend",
    },
    "nl.wmo.aanvragen.afgewezen": {"datum": "2026-02-01", "reden": "voorliggende-voorziening"},
    "nl.wmo.voorzieningen.toegewezen": {
        "datum": "2026-01-10",
        "toewijzing_nummer": "T-1",
        "productcategorie": "07",
        "ingangsdatum": "2026-01-10",
        "einddatum": "2026-12-31",
    },
    "nl.wmo.voorzieningen.gestart": {
        "datum": "2026-01-12",
        "toewijzing_nummer": "T-1",
        "productcategorie": "07",
    },
    "nl.wmo.voorzieningen.gestopt": {
        "datum": "2026-05-01",
        "toewijzing_nummer": "T-1",
        "productcategorie": "07",
        "reden_beeindiging": "20",
    },
    "nl.wijkteams.casussen.geopend": {"datum": "2026-01-03", "casus_id": "C-1"},
    "nl.wijkteams.casussen.gesloten": {"datum": "2026-04-03", "casus_id": "C-1"},
    "nl.wijkteams.zrm.vastgesteld": {
        "datum": "2026-01-04",
        "scores": {"financien": 2, "werk-opleiding": 1},
    },
    "nl.wijkteams.verwijzingen.gedaan": {"datum": "2026-01-20", "naar": "werk-en-inkomen"},
    "nl.wijkteams.regie.toegewezen": {"datum": "2026-01-06", "rol": "casusregisseur"},
    "nl.wgs.vroegsignalen.ontvangen": {
        "datum": "2026-03-06",
        "signaal_id": "VS-1",
        "partner": "energie",
        "bedrag_cent": 45000,
        "dagen_achterstand": 30,
        "dreiging": "afsluiting",
    },
    "nl.wgs.vroegsignalen.opgevolgd": {
        "datum": "2026-03-09",
        "signaal_id": "VS-1",
        "actie": "gesprek",
    },
    "nl.wgs.trajecten.gestart": {"datum": "2026-04-01"},
    "nl.wgs.trajecten.beeindigd": {"datum": "2026-09-01", "reden": "uitval"},
    "nl.schakel.bron.verwijderd": {"datum": "2026-01-10"},
    "nl.schakel.signalen.gesignaleerd": {
        "regel": "werkpotentieel-zonder-verwijzing",
        "sleutel": "2026-01-10",
        "sinds": "2026-01-10",
        "termijn": "2026-03-07",
        "bewijs": ["a", "b"],
        "uitleg": "Sinds 2026-01-10 …",
    },
    "nl.schakel.signalen.opgelost": {
        "regel": "werkpotentieel-zonder-verwijzing",
        "sleutel": "2026-01-10",
        "datum": "2026-04-01",
        "reden": "nl.participatiewet.trajecten.gestart x",
        "bewijs": ["x"],
    },
    "nl.schakel.signalen.ingetrokken": {
        "regel": "werkpotentieel-zonder-verwijzing",
        "sleutel": "2026-01-10",
        "datum": "2026-04-01",
        "reden": "late verwijzing",
        "bewijs": ["y"],
    },
    "nl.schakel.inzage.geregistreerd": {
        "wie": "anna",
        "rol": "regisseur",
        "doel": "casusoverleg",
        "wat": "GET /api/v1/signalen",
        "tijd": "2026-04-01T10:00:00+00:00",
    },
}


FOREIGN_SCHEMAS: list[Any] = [
    "string",
    ["null", "string"],
    {"type": "array", "items": "int"},
    {"type": "map", "values": "int"},
    {"type": "record", "fields": []},  # no name
    {"type": "record", "name": "x", "fields": "nope"},
    {"type": "record", "name": "nl.schakel.Other", "fields": []},  # not in the catalogue
    {"type": "record", "name": "Melding", "namespace": 7, "fields": []},
    {"type": "enum", "name": "E", "symbols": ["A"]},
    {"type": "fixed", "name": "F", "size": 4},
    {"type": "nonsense"},
    {"type": "record", "name": "r", "fields": [{"name": "f", "type": "nonsense"}]},
]
"""Schemas another producer may have registered in a registry Schakel shares (review B3):
none is a catalogue record."""


class ForeignRegistry(LocalRegistry):
    """A :class:`LocalRegistry` that also holds ``foreign`` schemas (any JSON) under the ids
    given, as a registry shared with other producers does."""

    def __init__(self, foreign: dict[int, Any]) -> None:
        super().__init__()
        self.foreign = foreign

    def schema(self, schema_id: int) -> Any:
        if schema_id in self.foreign:
            return self.foreign[schema_id]
        return super().schema(schema_id)


def wire_payload(schema_id: int, body: bytes = b"\x02abcd") -> bytes:
    """A Confluent wire-format payload: magic byte 0, ``schema_id``, then ``body``."""
    return b"\x00" + schema_id.to_bytes(4, "big") + body


def envelope(event_type: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A structured-mode input CloudEvent of ``event_type`` with ``data`` (and ``extra``
    attributes)."""
    return {
        "specversion": "1.0",
        "id": "e-1",
        "source": "urn:nld:oin:1:systeem:test",
        "type": event_type,
        "data": data,
        **extra,
    }
