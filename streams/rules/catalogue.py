"""The input event types of the catalogue (``events.md``) as far as rules need them.

A rule may only read (``leest``) and match on types listed here; its field filters may only
name fields listed here, with values from the field's closed enumeration. This is a copy of
the contract kept next to the rules on purpose: the rule loader must not depend on the Avro
schema files being present (a unit test checks that both agree).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

FieldKind = Literal["enum", "code", "id", "bool", "int", "date", "map"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One ``data`` field of a catalogue type."""

    kind: FieldKind
    values: frozenset[str] = frozenset()
    """For ``enum`` fields: the closed set of values (catalogue spelling)."""

    @property
    def filterable(self) -> bool:
        """Whether a rule may filter on this field (dates and maps are not)."""
        return self.kind not in ("date", "map")


def _enum(*values: str) -> FieldSpec:
    return FieldSpec("enum", frozenset(values))


_ID: Final = FieldSpec("id")
_CODE: Final = FieldSpec("code")
_BOOL: Final = FieldSpec("bool")
_INT: Final = FieldSpec("int")
_DATE: Final = FieldSpec("date")

# Event type constants, so the engine code never repeats a type string.
UITKERING_TOEGEKEND: Final = "nl.participatiewet.uitkeringen.toegekend"
UITKERING_BEEINDIGD: Final = "nl.participatiewet.uitkeringen.beeindigd"
PW_AANVRAAG_AFGEWEZEN: Final = "nl.participatiewet.aanvragen.afgewezen"
ARBEIDSVERMOGEN_VASTGESTELD: Final = "nl.participatiewet.arbeidsvermogen.vastgesteld"
PW_VERWIJZING_ONTVANGEN: Final = "nl.participatiewet.verwijzingen.ontvangen"
TRAJECT_GESTART: Final = "nl.participatiewet.trajecten.gestart"
TRAJECT_BEEINDIGD: Final = "nl.participatiewet.trajecten.beeindigd"
WMO_MELDING_ONTVANGEN: Final = "nl.wmo.meldingen.ontvangen"
WMO_ONDERZOEK_AFGEROND: Final = "nl.wmo.onderzoeken.afgerond"
WMO_AANVRAAG_AFGEWEZEN: Final = "nl.wmo.aanvragen.afgewezen"
VOORZIENING_TOEGEWEZEN: Final = "nl.wmo.voorzieningen.toegewezen"
VOORZIENING_GESTART: Final = "nl.wmo.voorzieningen.gestart"
VOORZIENING_GESTOPT: Final = "nl.wmo.voorzieningen.gestopt"
CASUS_GEOPEND: Final = "nl.wijkteams.casussen.geopend"
CASUS_GESLOTEN: Final = "nl.wijkteams.casussen.gesloten"
ZRM_VASTGESTELD: Final = "nl.wijkteams.zrm.vastgesteld"
WIJKTEAM_VERWIJZING_GEDAAN: Final = "nl.wijkteams.verwijzingen.gedaan"
REGIE_TOEGEWEZEN: Final = "nl.wijkteams.regie.toegewezen"
VROEGSIGNAAL_ONTVANGEN: Final = "nl.wgs.vroegsignalen.ontvangen"
VROEGSIGNAAL_OPGEVOLGD: Final = "nl.wgs.vroegsignalen.opgevolgd"
SCHULDHULP_GESTART: Final = "nl.wgs.trajecten.gestart"
SCHULDHULP_BEEINDIGD: Final = "nl.wgs.trajecten.beeindigd"

FIELDS: Final[Mapping[str, Mapping[str, FieldSpec]]] = {
    UITKERING_TOEGEKEND: {"regeling": _enum("bijstand", "ioaw", "ioaz", "bbz")},
    UITKERING_BEEINDIGD: {
        "reden": _enum("werk", "verhuizing", "overlijden", "andere-voorziening", "overig")
    },
    PW_AANVRAAG_AFGEWEZEN: {
        "reden": _enum("geen-recht", "zorg-passender", "buiten-behandeling", "overig")
    },
    ARBEIDSVERMOGEN_VASTGESTELD: {
        "uitkomst": _enum("geen", "gedeeltelijk", "volledig"),
        "trede": _INT,
    },
    PW_VERWIJZING_ONTVANGEN: {"van": _enum("wmo", "wijkteam", "schuldhulp", "overig")},
    TRAJECT_GESTART: {
        "traject_id": _ID,
        "soort": _enum(
            "re-integratie",
            "beschut-werk",
            "loonkostensubsidie",
            "participatieplaats",
            "sociale-cooperatie",
            "overig",
        ),
        "uren_per_week": _INT,
    },
    TRAJECT_BEEINDIGD: {
        "traject_id": _ID,
        "reden": _enum("werk", "afgerond", "uitval", "overig"),
    },
    WMO_MELDING_ONTVANGEN: {},
    WMO_ONDERZOEK_AFGEROND: {
        "werkwens": _BOOL,
        "arbeidspotentieel": _enum("geen", "gedeeltelijk", "volledig", "onbekend"),
    },
    WMO_AANVRAAG_AFGEWEZEN: {
        "reden": _enum("geen-beperking", "voorliggende-voorziening", "werk-passender", "overig")
    },
    VOORZIENING_TOEGEWEZEN: {
        "toewijzing_nummer": _ID,
        "productcategorie": _CODE,
        "ingangsdatum": _DATE,
        "einddatum": _DATE,
    },
    VOORZIENING_GESTART: {"toewijzing_nummer": _ID, "productcategorie": _CODE},
    VOORZIENING_GESTOPT: {
        "toewijzing_nummer": _ID,
        "productcategorie": _CODE,
        "reden_beeindiging": _CODE,
    },
    CASUS_GEOPEND: {"casus_id": _ID},
    CASUS_GESLOTEN: {"casus_id": _ID},
    ZRM_VASTGESTELD: {"scores": FieldSpec("map")},
    WIJKTEAM_VERWIJZING_GEDAAN: {"naar": _enum("werk-en-inkomen", "wmo", "schuldhulp", "overig")},
    REGIE_TOEGEWEZEN: {"rol": _enum("casusregisseur", "integraal-plan")},
    VROEGSIGNAAL_ONTVANGEN: {
        "signaal_id": _ID,
        "partner": _enum("woningcorporatie", "energie", "water", "zorgverzekeraar"),
        "bedrag_cent": _INT,
        "dagen_achterstand": _INT,
        "dreiging": _enum("geen", "huisuitzetting", "afsluiting"),
    },
    VROEGSIGNAAL_OPGEVOLGD: {
        "signaal_id": _ID,
        "actie": _enum("contactpoging", "hulpaanbod", "gesprek"),
    },
    SCHULDHULP_GESTART: {},
    SCHULDHULP_BEEINDIGD: {"reden": _enum("afgerond", "uitval", "overig")},
}
"""Per input type: its ``data`` fields besides ``datum`` (which every type has)."""

INPUT_TYPES: Final[tuple[str, ...]] = tuple(FIELDS)
"""Every catalogue type a source system may send — the only types a rule may read."""

PRODUCTCATEGORIEEN: Final[Mapping[str, str]] = {
    "01": "hulp bij het huishouden",
    "02": "begeleiding",
    "03": "persoonlijke verzorging",
    "04": "kortdurend verblijf",
    "05": "woondiensten",
    "06": "overige ondersteuning individu/huishouden",
    "07": "dagbesteding",
    "08": "vervoerdiensten",
    "09": "overige groepsgerichte ondersteuning",
    "10": "overige maatwerkarrangementen",
    "11": "rolstoelen",
    "12": "vervoervoorzieningen",
    "13": "woonvoorzieningen",
    "14": "overige hulpmiddelen",
    "15": "beschermd wonen",
    "16": "opvang",
    "17": "spoedopvang",
    "18": "overige beschermd wonen en opvang",
}
"""iWmo productcategorie code → name, as used in explanations."""


def productcategorie_naam(code: str) -> str:
    """The iWmo name of a productcategorie code, or ``productcategorie <code>`` if unknown."""
    return PRODUCTCATEGORIEEN.get(code, f"productcategorie {code}")
