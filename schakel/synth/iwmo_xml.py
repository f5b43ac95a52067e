"""iWmo 3.2 messages (WMO301 toewijzing, WMO305 start zorg, WMO307 stop zorg), one message
per file, as a municipality's message exchange (the GGK/VECOZO route) delivers them.

Each message carries what real ones carry besides what Schakel needs — the client's name,
birth date, gender, address, phone number, ``XsdVersie``, ``Toewijzingstijd``, ``Omvang``,
``Relaties`` and a free-text ``Commentaar`` — so the adapter's data minimisation is
exercised. Elements of the message are in the message namespace
(``http://www.istandaarden.nl/iwmo/3_2/wmo301/schema`` …), the parts of composite data types
(``Product``, ``Omvang``, ``Geboortedatum``) in the basisschema namespace.

A WMO301 is a snapshot of every current allocation of the client at that provider: a second
allocation at the same provider repeats the first one unchanged.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from schakel.synth.model import Fact, Municipality, Person, days

NS = "http://www.istandaarden.nl/iwmo/{release}/{msg}/schema"
BASIS = "http://www.istandaarden.nl/iwmo/{release}/basisschema/schema"
GEMEENTE = "9999"
"""Gemeentecode of the fictitious municipality (sender of WMO301, receiver of 305/307)."""

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


def _client(msg: Message, p: str, rng: random.Random) -> str:
    ident = msg.person.identity
    out = _e("Bsn", msg.person.bsn, 4, p)
    out += f"    <{p}:Geboortedatum>\n"
    out += _e("Datum", ident.geboortedatum.isoformat(), 6, "iwmo")
    out += _e("DatumGebruik", "1", 6, "iwmo")
    out += f"    </{p}:Geboortedatum>\n"
    out += _e("Geslacht", ident.geslacht, 4, p)
    out += f"    <{p}:Naam>\n      <{p}:Geslachtsnaam>\n"
    if ident.voorvoegsel:
        out += _e("Voorvoegsel", ident.voorvoegsel, 8, p)
    out += _e("Achternaam", ident.achternaam, 8, p)
    out += f"      </{p}:Geslachtsnaam>\n"
    out += _e("Voornamen", ident.voornaam, 6, p)
    out += _e("Voorletters", ident.voornaam[0], 6, p)
    out += _e("NaamGebruik", "1", 6, p)
    out += f"    </{p}:Naam>\n"
    if msg.kind == "WMO301":
        out += f"    <{p}:Contactgegevens>\n      <{p}:Contact>\n"
        out += _e("Soort", "01", 8, p)
        out += f"        <{p}:Adres>\n"
        out += _e("Straatnaam", ident.straat, 10, p)
        out += f"          <{p}:Huisnummer>\n"
        out += _e("Huisnummer", ident.huisnummer, 12, p)
        out += f"          </{p}:Huisnummer>\n"
        out += _e("Postcode", ident.postcode, 10, p)
        out += _e("Plaatsnaam", "Schakeldorp", 10, p)
        out += f"        </{p}:Adres>\n"
        out += f"        <{p}:Telefoon>\n"
        out += _e("Telefoonnummer", ident.telefoon, 10, p)
        out += f"        </{p}:Telefoon>\n      </{p}:Contact>\n    </{p}:Contactgegevens>\n"
    return out


def _product(fact: Fact, p: str) -> str:
    out = f"{' ' * 8}<{p}:Product>\n"
    out += _e("Categorie", fact.data["productcategorie"], 10, "iwmo")
    out += _e("Code", fact.native["code"], 10, "iwmo")
    return out + f"{' ' * 8}</{p}:Product>\n"


def _commentaar(msg: Message, rng: random.Random) -> str:
    ident = msg.person.identity
    naam = " ".join(x for x in (ident.voorvoegsel.capitalize(), ident.achternaam) if x)
    aanhef = "meneer" if ident.geslacht == "1" else "mevrouw"
    return rng.choice(COMMENTAAR).format(aanhef=aanhef.capitalize(), naam=naam)


def _products(msg: Message, p: str, rng: random.Random) -> str:
    container, element = {
        "WMO301": ("ToegewezenProducten", "ToegewezenProduct"),
        "WMO305": ("StartProducten", "StartProduct"),
        "WMO307": ("StopProducten", "StopProduct"),
    }[msg.kind]
    out = f"    <{p}:{container}>\n"
    for fact in msg.products:
        d = fact.data
        out += f"      <{p}:{element}>\n"
        out += _e("ToewijzingNummer", d["toewijzing_nummer"], 8, p)
        out += _product(fact, p)
        if msg.kind == "WMO301":
            out += _e("Toewijzingsdatum", fact.datum.isoformat(), 8, p)
            out += _e(
                "Toewijzingstijd", f"{rng.randint(8, 16):02d}:{rng.randint(0, 59):02d}:00", 8, p
            )
            out += _e("Ingangsdatum", d["ingangsdatum"].isoformat(), 8, p)
            if d.get("einddatum") is not None:
                out += _e("Einddatum", d["einddatum"].isoformat(), 8, p)
            out += f"        <{p}:Omvang>\n"
            out += _e("Volume", fact.native.get("volume", 4), 10, "iwmo")
            out += _e("Eenheid", fact.native.get("eenheid", "04"), 10, "iwmo")
            out += _e("Frequentie", "2", 10, "iwmo")
            out += f"        </{p}:Omvang>\n"
        elif msg.kind == "WMO305":
            out += _e("Begindatum", fact.datum.isoformat(), 8, p)
        else:
            out += _e("Begindatum", fact.native["begindatum"].isoformat(), 8, p)
            out += _e("Einddatum", fact.datum.isoformat(), 8, p)
            out += _e("RedenBeeindiging", d["reden_beeindiging"], 8, p)
        if rng.random() < 0.6:
            out += _e("Commentaar", _commentaar(msg, rng), 8, p)
        out += f"      </{p}:{element}>\n"
    return out + f"    </{p}:{container}>\n"


def render(msg: Message, rng: random.Random) -> bytes:
    """The XML text of one message (UTF-8)."""
    p = msg.kind.lower()
    ns = NS.format(release=msg.release, msg=p)
    basis = BASIS.format(release=msg.release)
    out = '<?xml version="1.0" encoding="UTF-8"?>\n'
    out += f'<{p}:Bericht xmlns:{p}="{ns}" xmlns:iwmo="{basis}">\n  <{p}:Header>\n'
    out += _e("BerichtCode", msg.code, 4, p)
    out += _e("BerichtVersie", msg.versie[0], 4, p)
    out += _e("BerichtSubversie", msg.versie[1], 4, p)
    out += _e("Afzender", msg.sender, 4, p)
    out += _e("Ontvanger", msg.receiver, 4, p)
    out += f"    <{p}:BerichtIdentificatie>\n"
    out += _e("Identificatie", msg.ident, 6, p)
    out += _e("Dagtekening", msg.dagtekening.isoformat(), 6, p)
    out += f"    </{p}:BerichtIdentificatie>\n    <{p}:XsdVersie>\n"
    out += _e("BasisschemaXsdVersie", "1.2.0", 6, p)
    out += _e("BerichtXsdVersie", "1.2.0", 6, p)
    out += f"    </{p}:XsdVersie>\n  </{p}:Header>\n  <{p}:Client>\n"
    out += _client(msg, p, rng)
    out += _products(msg, p, rng)
    out += f"  </{p}:Client>\n</{p}:Bericht>\n"
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
        for (provider, day), facts in sorted(groups.items()):
            current = [
                f
                for f in wmo
                if f.type == "nl.wmo.voorzieningen.toegewezen"
                and f.native["aanbieder"] == provider
                and f.datum < day
                and f.data["toewijzing_nummer"] not in stopped
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
            sent = min(fact.datum + days(rng.randint(0, 4)), m.until)
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
