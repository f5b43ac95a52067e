"""iWmo code lists and message versions, generated from the official iWmo XSDs by
``python -m schemas.iwmo_codegen tests/fixtures/iwmo-3.2/xsd`` — do not edit by hand
(``tests/unit/schemas/test_iwmo_codes.py`` checks that this equals the XSDs).

``CODE_LISTS``: basisschema simple type → {code: its documentation in the XSD}.
``MESSAGES``: message → its BerichtCode and the XsdVersie bounds of its XSD's appinfo.
"""

from __future__ import annotations

from typing import NamedTuple


class MessageXsd(NamedTuple):
    """What one message XSD fixes: its BerichtCode and accepted XsdVersie bounds."""

    berichtcode: str
    bericht_xsd_min: str
    bericht_xsd_max: str
    basisschema_xsd_min: str
    basisschema_xsd_max: str


RELEASE = "3.2"

CODE_LISTS: dict[str, dict[str, str]] = {
    "LDT_ProductCategorie": {
        "01": "Hulp bij het huishouden",
        "02": "Begeleiding",
        "03": "Persoonlijke verzorging",
        "04": "Kortdurend verblijf",
        "05": "Woondiensten",
        "06": "Overige ondersteuning gericht op het individu of huishouden/gezin",
        "07": "Dagbesteding",
        "08": "Vervoerdiensten",
        "09": "Overige groepsgerichte ondersteuning",
        "10": "Overige maatwerk arrangementen",
        "11": "Rolstoelen",
        "12": "Vervoervoorzieningen",
        "13": "Woonvoorzieningen",
        "14": "Overige hulpmiddelen",
        "15": "Beschermd wonen",
        "16": "Opvang",
        "17": "Spoedopvang",
        "18": "Overige beschermd wonen en opvang",
    },
    "LDT_RedenBeeindiging": {
        "02": "Overlijden",
        "19": "Levering volgens plan beeindigd",
        "20": "Levering is tijdelijk beeindigd",
        "21": "Levering is eenzijdig door client beeindigd",
        "22": "Levering is eenzijdig door aanbieder beeindigd",
        "23": "Levering is in overeenstemming voortijdig beeindigd",
        "31": "Verhuizing naar een andere gemeente",
        "36": "Geinitieerd door de gemeente",
        "37": "In verband met wijzigingsverzoek",
        "38": "Overstap naar andere aanbieder",
        "39": "Uitstroom naar ander domein",
    },
    "LDT_RedenWijziging": {
        "01": "Administratieve correctie (vervallen)",
        "02": "Client overleden",
        "03": "Contractwijziging",
        "04": "Herbeoordeling: verlenging toewijzing",
        "05": "Herbeoordeling: verkorting toewijzing",
        "06": "Uitstroom naar ander domein",
        "07": "Verhuizing naar een andere gemeente",
        "08": "Wijziging leveringsvorm",
        "09": "Overstap naar andere aanbieder",
        "10": "Overgang naar nieuwe bekostigingssystematiek",
        "11": "Gemeentelijke herindeling",
        "12": "Geinitieerd door de aanbieder",
        "13": "Verwijderd",
        "14": "Administratieve correctie",
    },
    "LDT_StatusAanlevering": {
        "1": "Eerste aanlevering",
        "2": "Gewijzigde aanlevering",
        "3": "Verwijderen aanlevering",
        "9": "Niet van toepassing (ongewijzigd)",
    },
}

MESSAGES: dict[str, MessageXsd] = {
    "WMO301": MessageXsd("414", "1.0.0", "1.0.0", "1.0.0", "1.0.0"),
    "WMO305": MessageXsd("418", "1.0.0", "1.0.0", "1.0.0", "1.0.0"),
    "WMO307": MessageXsd("420", "1.0.0", "1.0.0", "1.0.0", "1.0.0"),
    "WMO315": MessageXsd("444", "1.0.0", "1.0.0", "1.0.0", "1.0.0"),
    "WMO317": MessageXsd("480", "1.0.0", "1.0.0", "1.0.0", "1.0.0"),
    "WMO319": MessageXsd("482", "1.0.0", "1.0.0", "1.0.0", "1.0.0"),
    "WMO323": MessageXsd("484", "1.0.0", "1.0.0", "1.0.0", "1.0.0"),
}
