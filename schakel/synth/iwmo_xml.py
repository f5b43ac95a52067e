"""iWmo 3.2 messages (WMO301 toewijzing, WMO305 start zorg, WMO307 stop zorg), one message
per file, as a municipality's message exchange (the GGK/VECOZO route) delivers them.

Every message is valid against the official iWmo 3.2 XSDs (``tests/fixtures/iwmo-3.2/xsd``;
``tests/unit/adapters/test_iwmo_xsd.py`` checks every generated file): elements in the order
and with the types the XSDs give, message elements in the message namespace
(``http://www.istandaarden.nl/iwmo/3_2/wmo301/schema`` …), the parts of composite data types
(``BerichtIdentificatie``, ``XsdVersie``, ``Product``, ``Naam``, ``Adres``, ``Omvang``, …) in
the basisschema namespace, codes from the basisschema's code lists.

Each message carries what real ones carry besides what Schakel needs — the client's name,
birth date, gender, address and phone number, ``XsdVersie``, ``Toewijzingstijd``, ``Omvang``
and, in a WMO301, a free-text ``Commentaar`` — so the adapter's data minimisation is
exercised.

A WMO301 is a snapshot of every current allocation of the client at that provider: a second
allocation at the same provider repeats the first one unchanged.

A fact's ``native`` details may set, per product: ``status_aanlevering`` (WMO305/307; default
``1``, eerste aanlevering), ``reden_wijziging``, ``toewijzingstijd`` and ``budget`` (WMO301: a
budget in eurocent instead of an ``Omvang``), ``toewijzing_ingangsdatum`` and ``verzonden``
(WMO305/307: the Dagtekening of a planted correction or deletion). A fact without
``productcategorie`` is written without a ``Product`` (allowed by the XSD).

Planted corrections and deletions (:mod:`schakel.synth.versions`) are written like any other
product, in their own message: a WMO305/307 with StatusAanlevering 2 or 3, a WMO301 whose
product has RedenWijziging 13 and Einddatum equal to Ingangsdatum. A WMO301 snapshot never
repeats an allocation that the same message re-sends or that was withdrawn by then.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from schakel.synth import versions
from schakel.synth.model import Fact, Municipality, Person, days

NS = "http://www.istandaarden.nl/iwmo/{release}/{msg}/schema"
BASIS = "http://www.istandaarden.nl/iwmo/{release}/basisschema/schema"
GEMEENTE = "9999"
"""Gemeentecode of the fictitious municipality (sender of WMO301, receiver of 305/307)."""
XSD_VERSIE = "1.0.0"
"""BasisschemaXsdVersie and BerichtXsdVersie of the release 3.2 XSDs."""

KINDS = {
    "nl.wmo.voorzieningen.toegewezen": ("WMO301", "414"),
    "nl.wmo.voorzieningen.gestart": ("WMO305", "418"),
    "nl.wmo.voorzieningen.gestopt": ("WMO307", "420"),
}

COMMENTAAR = (
    "{aanhef} {naam} wil graag zelfstandig blijven wonen; afspraken met dochter over boodschappen.",
    "Na ziekenhuisopname ondersteuning nodig; {aanhef} {naam} is slecht ter been.",
    "{aanhef} {naam} heeft structuur nodig; contact via mentor.",
    "Indicatie in overleg met {aanhef} {naam} en de huisarts vastgesteld.",
    "Let op: {aanhef} {naam} is doof aan één oor, graag duidelijk spreken.",
)


@dataclass
class Message:
    """One message to write: kind, header data and the products (facts) it carries."""

    kind: str
    code: str
    person: Person
    sender: str
    receiver: str
    ident: str
    dagtekening: date
    products: list[Fact]
    release: str = "3_2"
    versie: tuple[str, str] = ("3", "2")


def _e(name: str, value: object, indent: int, prefix: str) -> str:
    return f"{' ' * indent}<{prefix}:{name}>{escape(str(value))}</{prefix}:{name}>\n"


def _open(name: str, indent: int, prefix: str) -> str:
    return f"{' ' * indent}<{prefix}:{name}>\n"


def _close(name: str, indent: int, prefix: str) -> str:
    return f"{' ' * indent}</{prefix}:{name}>\n"


def _naam(msg: Message, p: str) -> str:
    """CDT_VolledigeNaam (WMO301) or CDT_VerkorteNaam (WMO305/307)."""
    ident = msg.person.identity
    out = _open("Naam", 4, p) + _open("Geslachtsnaam", 6, "iwmo")
    out += _e("Achternaam", ident.achternaam, 8, "iwmo")
    if ident.voorvoegsel:
        out += _e("Voorvoegsel", ident.voorvoegsel, 8, "iwmo")
    out += _close("Geslachtsnaam", 6, "iwmo")
    out += _e("Voornamen", ident.voornaam, 6, "iwmo")
    out += _e("Voorletters", ident.voornaam[0], 6, "iwmo")
    if msg.kind == "WMO301":
        out += _e("NaamGebruik", "1", 6, "iwmo")
    return out + _close("Naam", 4, p)


def _client(msg: Message, p: str) -> str:
    ident = msg.person.identity
    out = _e("Bsn", msg.person.bsn, 4, p)
    out += _open("Geboortedatum", 4, p)
    out += _e("Datum", ident.geboortedatum.isoformat(), 6, "iwmo")
    out += _e("DatumGebruik", "1", 6, "iwmo")
    out += _close("Geboortedatum", 4, p)
    out += _e("Geslacht", ident.geslacht, 4, p)
    out += _naam(msg, p)
    if msg.kind == "WMO301":
        out += _open("Contactgegevens", 4, p) + _open("Contact", 6, p)
        out += _e("Soort", "01", 8, p)
        out += _open("Adres", 8, p) + _open("Huis", 10, "iwmo")
        out += _e("Huisnummer", ident.huisnummer, 12, "iwmo")
        out += _close("Huis", 10, "iwmo")
        out += _e("Postcode", ident.postcode, 10, "iwmo")
        out += _e("Straatnaam", ident.straat, 10, "iwmo")
        out += _e("Plaatsnaam", "Schakeldorp", 10, "iwmo")
        out += _close("Adres", 8, p)
        out += _open("Telefoon", 8, p) + _open("Telefoon01", 10, "iwmo")
        out += _e("Telefoonnummer", "".join(c for c in ident.telefoon if c.isdigit()), 12, "iwmo")
        out += _e("Landnummer", "0031", 12, "iwmo")
        out += _close("Telefoon01", 10, "iwmo") + _close("Telefoon", 8, p)
        out += _close("Contact", 6, p) + _close("Contactgegevens", 4, p)
    return out


def _product(fact: Fact, p: str) -> str:
    out = _open("Product", 8, p)
    out += _e("Categorie", fact.data["productcategorie"], 10, "iwmo")
    out += _e("Code", fact.native["code"], 10, "iwmo")
    return out + _close("Product", 8, p)


def _commentaar(msg: Message, rng: random.Random) -> str:
    ident = msg.person.identity
    naam = " ".join(x for x in (ident.voorvoegsel.capitalize(), ident.achternaam) if x)
    aanhef = "meneer" if ident.geslacht == "1" else "mevrouw"
    return rng.choice(COMMENTAAR).format(aanhef=aanhef.capitalize(), naam=naam)


def _toegewezen(msg: Message, fact: Fact, p: str, rng: random.Random) -> str:
    d, native = fact.data, fact.native
    tijd = native.get("toewijzingstijd") or f"{rng.randint(8, 16):02d}:{rng.randint(0, 59):02d}:00"
    out = _e("Toewijzingsdatum", fact.datum.isoformat(), 8, p)
    out += _e("Toewijzingstijd", tijd, 8, p)
    out += _e("Ingangsdatum", d["ingangsdatum"].isoformat(), 8, p)
    if d.get("einddatum") is not None:
        out += _e("Einddatum", d["einddatum"].isoformat(), 8, p)
    if native.get("reden_wijziging"):
        out += _e("RedenWijziging", native["reden_wijziging"], 8, p)
    if native.get("budget") is not None:  # a budget allocation: an amount, no Omvang
        out += _e("Budget", native["budget"], 8, p)
    else:
        out += _open("Omvang", 8, p)
        out += _e("Volume", native.get("volume", 4), 10, "iwmo")
        out += _e("Eenheid", native.get("eenheid", "04"), 10, "iwmo")
        out += _e("Frequentie", "2", 10, "iwmo")
        out += _close("Omvang", 8, p)
    if rng.random() < 0.6:
        out += _e("Commentaar", _commentaar(msg, rng), 8, p)
    return out


def _start_stop(msg: Message, fact: Fact, p: str) -> str:
    native = fact.native
    out = ""
    if native.get("toewijzing_ingangsdatum") is not None:
        out += _e("ToewijzingIngangsdatum", native["toewijzing_ingangsdatum"].isoformat(), 8, p)
    if msg.kind == "WMO305":
        out += _e("Begindatum", fact.datum.isoformat(), 8, p)
    else:
        out += _e("Begindatum", native["begindatum"].isoformat(), 8, p)
        out += _e("RedenBeeindiging", fact.data["reden_beeindiging"], 8, p)
        out += _e("Einddatum", fact.datum.isoformat(), 8, p)
    return out + _e("StatusAanlevering", native.get("status_aanlevering", "1"), 8, p)


def _products(msg: Message, p: str, rng: random.Random) -> str:
    container, element = {
        "WMO301": ("ToegewezenProducten", "ToegewezenProduct"),
        "WMO305": ("StartProducten", "StartProduct"),
        "WMO307": ("StopProducten", "StopProduct"),
    }[msg.kind]
    out = _open(container, 4, p)
    for fact in msg.products:
        out += _open(element, 6, p)
        out += _e("ToewijzingNummer", fact.data["toewijzing_nummer"], 8, p)
        if fact.data.get("productcategorie") is not None:
            out += _product(fact, p)
        if msg.kind == "WMO301":
            out += _toegewezen(msg, fact, p, rng)
        else:
            out += _start_stop(msg, fact, p)
        out += _close(element, 6, p)
    return out + _close(container, 4, p)


def render(msg: Message, rng: random.Random) -> bytes:
    """The XML text of one message (UTF-8)."""
    p = msg.kind.lower()
    ns = NS.format(release=msg.release, msg=p)
    basis = BASIS.format(release=msg.release)
    out = '<?xml version="1.0" encoding="UTF-8"?>\n'
    out += f'<{p}:Bericht xmlns:{p}="{ns}" xmlns:iwmo="{basis}">\n' + _open("Header", 2, p)
    out += _e("BerichtCode", msg.code, 4, p)
    out += _e("BerichtVersie", msg.versie[0], 4, p)
    out += _e("BerichtSubversie", msg.versie[1], 4, p)
    out += _e("Afzender", msg.sender, 4, p)
    out += _e("Ontvanger", msg.receiver, 4, p)
    out += _open("BerichtIdentificatie", 4, p)
    out += _e("Identificatie", msg.ident, 6, "iwmo")
    out += _e("Dagtekening", msg.dagtekening.isoformat(), 6, "iwmo")
    out += _close("BerichtIdentificatie", 4, p) + _open("XsdVersie", 4, p)
    out += _e("BasisschemaXsdVersie", XSD_VERSIE, 6, "iwmo")
    out += _e("BerichtXsdVersie", XSD_VERSIE, 6, "iwmo")
    out += _close("XsdVersie", 4, p) + _close("Header", 2, p) + _open("Client", 2, p)
    out += _client(msg, p)
    out += _products(msg, p, rng)
    out += _close("Client", 2, p) + f"</{p}:Bericht>\n"
    return out.encode("utf-8")


def messages(m: Municipality, rng: random.Random) -> list[Message]:
    """Every message of the municipality, in delivery order (dagtekening, identification)."""
    out: list[Message] = []
    counter = 0
    for person in m.people:
        wmo = [f for f in person.facts if f.type in KINDS]
        groups: dict[tuple[str, date], list[Fact]] = defaultdict(list)
        for fact in wmo:
            if fact.type == "nl.wmo.voorzieningen.toegewezen":
                groups[(fact.native["aanbieder"], fact.datum)].append(fact)
        stopped = {
            f.data["toewijzing_nummer"] for f in wmo if f.type == "nl.wmo.voorzieningen.gestopt"
        }
        withdrawn = {
            f.data["toewijzing_nummer"]: f.datum
            for f in wmo
            if f.type == "nl.wmo.voorzieningen.toegewezen" and versions.is_deletion(f)
        }
        for (provider, day), facts in sorted(groups.items()):
            sent_now = {f.data["toewijzing_nummer"] for f in facts}
            current = [
                f
                for f in wmo
                if f.type == "nl.wmo.voorzieningen.toegewezen"
                and f.native["aanbieder"] == provider
                and f.datum < day
                and f.data["toewijzing_nummer"] not in stopped
                and f.data["toewijzing_nummer"] not in sent_now
                and withdrawn.get(f.data["toewijzing_nummer"], day) >= day
                and not versions.is_deletion(f)
                and (f.data.get("einddatum") is None or f.data["einddatum"] >= day)
            ]
            counter += 1
            out.append(
                Message(
                    "WMO301",
                    "414",
                    person,
                    GEMEENTE,
                    provider,
                    f"TW{day.year}{counter:06d}",
                    day,
                    current + facts,
                )
            )
        for fact in wmo:
            if fact.type == "nl.wmo.voorzieningen.toegewezen":
                continue
            kind, code = KINDS[fact.type]
            counter += 1
            sent = min(fact.datum + days(rng.randint(0, versions.MAX_DELAY)), m.until)
            verzonden = fact.native.get("verzonden")
            if isinstance(verzonden, date):  # a planted correction or deletion
                sent = verzonden
            out.append(
                Message(
                    kind,
                    code,
                    person,
                    fact.native["aanbieder"],
                    GEMEENTE,
                    f"{kind[3:]}-{counter:07d}",
                    sent,
                    [fact],
                )
            )
    out.sort(key=lambda msg: (msg.dagtekening, msg.ident))
    return out


def file_name(msg: Message) -> str:
    """``<dagtekening>_<kind>_<identificatie>.xml``: name order is delivery order."""
    return f"{msg.dagtekening.isoformat()}_{msg.kind}_{msg.ident}.xml"


def write(m: Municipality, directory: Path, rng: random.Random) -> tuple[int, int]:
    """Write every message to ``directory``; returns (files, products = events)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = products = 0
    for msg in messages(m, rng):
        (directory / file_name(msg)).write_bytes(render(msg, rng))
        files += 1
        products += len(msg.products)
    return files, products
