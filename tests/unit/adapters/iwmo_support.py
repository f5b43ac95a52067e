"""Helpers of the iWmo tests: validation against the official iWmo 3.2 XSDs (lxml) and a builder
of XSD-valid messages (the generator's own renderer, :mod:`schakel.synth.iwmo_xml`).

:func:`build` checks what it builds: a message meant to be valid must validate against its
XSD, and one built with ``xsd_valid=False`` (a deliberate defect) must be refused by the XSD
too — so every iWmo file a test writes is checked against the standard.
"""

from __future__ import annotations

import random
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from adapters.base import derive_id
from schakel.synth import iwmo_xml
from schakel.synth.model import Fact, Identity, Person

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "iwmo-3.2"
XSD = FIXTURES / "xsd"
VOORBEELDEN = FIXTURES / "voorbeelden"
GEMEENTE = iwmo_xml.GEMEENTE
AANBIEDER = "98765432"
TOEGEWEZEN = "nl.wmo.voorzieningen.toegewezen"
GESTART = "nl.wmo.voorzieningen.gestart"
GESTOPT = "nl.wmo.voorzieningen.gestopt"
KIND = {TOEGEWEZEN: "WMO301", GESTART: "WMO305", GESTOPT: "WMO307"}


@cache
def schema(message: str) -> Any:
    """The compiled XSD of ``message`` (``WMO301``, …)."""
    return etree.XMLSchema(etree.parse(str(XSD / f"{message}.xsd")))


def xsd_errors(data: bytes) -> list[str]:
    """Why ``data`` is not valid against the XSD of the message its root names (``[]`` if it
    is). Parsing refuses DTDs, entities and network access."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed: {exc}"]
    namespace = etree.QName(root).namespace or ""
    parts = namespace.split("/")
    if not namespace.startswith("http://www.istandaarden.nl/iwmo/3_2/") or len(parts) < 3:
        return [f"no iWmo 3.2 message namespace: {namespace!r}"]
    message = parts[-2].upper()
    if not (XSD / f"{message}.xsd").exists():
        return [f"no XSD for {message}"]
    xsd = schema(message)
    try:
        if xsd.validate(etree.ElementTree(root)):
            return []
    except etree.XMLSchemaValidateError as exc:  # e.g. an unexpanded entity reference
        return [f"cannot be validated: {exc}"]
    return [str(error) for error in xsd.error_log]


def expected_event(
    source: str, ident: tuple[object, ...], event_type: str, data: dict[str, Any]
) -> dict[str, Any]:
    """The input-form CloudEvent the adapter must make: its id derived from ``ident`` (Afzender,
    Identificatie, Dagtekening, BerichtCode, position, ToewijzingNummer)."""
    return {
        "specversion": "1.0",
        "id": derive_id(source, *ident),
        "source": source,
        "type": event_type,
        "data": data,
    }


def person(bsn: str = "999990019") -> Person:
    identity = Identity(
        voornaam="Anna",
        voorvoegsel="de",
        achternaam="Vries",
        geboortedatum=date(1991, 2, 23),
        geslacht="2",
        straat="Beukenlaan",
        huisnummer=118,
        postcode="9999ZX",
        telefoon="0699999902",
    )
    return Person(pid="P00001", bsn=bsn, profiel="test", identity=identity)


def allocation(
    nummer: str,
    datum: date,
    ingang: date,
    eind: date | None = None,
    *,
    categorie: str | None = "02",
    **native: Any,
) -> Fact:
    """A WMO301 ToegewezenProduct (``categorie=None``: without a Product)."""
    data: dict[str, Any] = {"toewijzing_nummer": nummer, "ingangsdatum": ingang}
    if categorie is not None:
        data["productcategorie"] = categorie
    if eind is not None:
        data["einddatum"] = eind
    return Fact(TOEGEWEZEN, datum, data, {"code": f"{categorie}A01", **native})


def start(nummer: str, begindatum: date, status: str = "1", *, categorie: str = "02") -> Fact:
    """A WMO305 StartProduct."""
    data = {"toewijzing_nummer": nummer, "productcategorie": categorie}
    return Fact(
        GESTART, begindatum, data, {"code": f"{categorie}A01", "status_aanlevering": status}
    )


def stop(
    nummer: str,
    begindatum: date,
    einddatum: date,
    reden: str = "19",
    status: str = "1",
    *,
    categorie: str = "02",
) -> Fact:
    """A WMO307 StopProduct."""
    data = {"toewijzing_nummer": nummer, "productcategorie": categorie, "reden_beeindiging": reden}
    native = {"code": f"{categorie}A01", "begindatum": begindatum, "status_aanlevering": status}
    return Fact(GESTOPT, einddatum, data, native)


def build(
    products: list[Fact],
    *,
    ident: str = "M-0001",
    dagtekening: date = date(2026, 1, 8),
    bsn: str = "999990019",
    xsd_valid: bool = True,
) -> bytes:
    """One message of the kind of ``products`` (all of one kind), checked against the XSD."""
    kinds = {KIND[p.type] for p in products}
    (kind,) = kinds
    code = iwmo_xml.KINDS[products[0].type][1]
    sender, receiver = (GEMEENTE, AANBIEDER) if kind == "WMO301" else (AANBIEDER, GEMEENTE)
    message = iwmo_xml.Message(
        kind, code, person(bsn), sender, receiver, ident, dagtekening, products
    )
    data = iwmo_xml.render(message, random.Random(7))
    errors = xsd_errors(data)
    if xsd_valid:
        assert errors == [], errors
    else:
        assert errors, "built as invalid, but the XSD accepts it"
    return data


def write(directory: Path, name: str, data: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(data)
    return path
