"""The `;`-separated CSV exports: the sociale dienst's nightly Participatiewet export and the
vroegsignalering platform's signals and follow-up actions (``sources.md`` §2 and §4).

Like real exports they are not uniform: the older sociale dienst export (up to 2025) is
Windows-1252 with CRLF line ends and mostly ``DD-MM-YYYY`` dates, the newer one UTF-8 with a
BOM and ISO dates with a few ``DD-MM-YYYY`` ones; enumeration values are sometimes
capitalised; amounts use a decimal comma, with or without thousands dots.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from adapters.sociale_dienst import EXPORT
from adapters.vroegsignalering import ACTIES, SIGNALEN
from schakel.synth.model import Fact, Municipality, Person

# the layouts the adapters read: the generator writes exactly those
SOCIALE_DIENST_COLUMNS = EXPORT.columns
SIGNALEN_COLUMNS = SIGNALEN.columns
ACTIES_COLUMNS = ACTIES.columns

GEBEURTENIS = {
    "nl.participatiewet.uitkeringen.toegekend": ("uitkering-toegekend", ("regeling",)),
    "nl.participatiewet.uitkeringen.beeindigd": ("uitkering-beeindigd", ("reden",)),
    "nl.participatiewet.aanvragen.afgewezen": ("aanvraag-afgewezen", ("reden",)),
    "nl.participatiewet.arbeidsvermogen.vastgesteld": (
        "arbeidsvermogen-vastgesteld",
        ("uitkomst", "trede"),
    ),
    "nl.participatiewet.verwijzingen.ontvangen": ("verwijzing-ontvangen", ("van",)),
    "nl.participatiewet.trajecten.gestart": (
        "traject-gestart",
        ("traject_id", "soort", "uren_per_week"),
    ),
    "nl.participatiewet.trajecten.beeindigd": ("traject-beeindigd", ("traject_id", "reden")),
}
"""Catalogue type → (``gebeurtenis`` value, the columns it fills)."""

NEW_SYSTEM = date(2026, 1, 1)
"""The sociale dienst's export changed format (encoding, dates) on this day."""


def dutch_date(day: date) -> str:
    """``DD-MM-YYYY``."""
    return f"{day.day:02d}-{day.month:02d}-{day.year}"


def amount(cents: int, rng: random.Random) -> str:
    """Euros with a decimal comma, with or without thousands dots: ``1.234,56``/``1234,56``."""
    euros, rest = divmod(cents, 100)
    whole = f"{euros:,}".replace(",", ".") if rng.random() < 0.6 else str(euros)
    return f"{whole},{rest:02d}"


def decimal(value: float) -> str:
    """A number with a decimal comma and no trailing ``,0``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


@dataclass
class CsvFile:
    """One export file being written: path, encoding, line end and its rows."""

    path: Path
    encoding: str
    newline: str
    header: tuple[str, ...]
    rows: list[list[str]]

    def write(self) -> None:
        """Write header and rows."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = [";".join(self.header), *(";".join(row) for row in self.rows)]
        text = self.newline.join(lines) + self.newline
        self.path.write_bytes(text.encode(self.encoding))


def _cased(value: str, rng: random.Random) -> str:
    return value.capitalize() if rng.random() < 0.05 else value


def _facts(m: Municipality, prefix: str) -> Iterator[tuple[Person, Fact]]:
    rows = [(p, f) for p in m.people for f in p.facts if f.type.startswith(prefix)]
    yield from sorted(rows, key=lambda r: (r[1].datum, r[1].seq))


def sociale_dienst(m: Municipality, directory: Path, rng: random.Random) -> list[CsvFile]:
    """The two Participatiewet exports (older cp1252, newer UTF-8 with BOM), not yet written."""
    old = CsvFile(
        directory / "participatiewet-tm-2025.csv", "cp1252", "\r\n", SOCIALE_DIENST_COLUMNS, []
    )
    new = CsvFile(
        directory / "participatiewet-2026.csv", "utf-8-sig", "\n", SOCIALE_DIENST_COLUMNS, []
    )
    per_year: dict[int, int] = {}
    for person, fact in _facts(m, "nl.participatiewet."):
        target = new if fact.datum >= NEW_SYSTEM else old
        gebeurtenis, columns = GEBEURTENIS[fact.type]
        row = dict.fromkeys(SOCIALE_DIENST_COLUMNS, "")
        row["bsn"] = person.bsn
        row["gebeurtenis"] = gebeurtenis
        dutch = rng.random() < (0.8 if target is old else 0.1)
        row["datum"] = dutch_date(fact.datum) if dutch else fact.datum.isoformat()
        for column in columns:
            value = fact.data.get(column)
            if value is None:
                continue
            if column == "uren_per_week":
                row[column] = decimal(float(value))
            elif column in ("trede", "traject_id"):
                row[column] = str(value)
            else:
                row[column] = _cased(str(value), rng)
        number = per_year[fact.datum.year] = per_year.get(fact.datum.year, 0) + 1
        row["registratie_id"] = f"PW-{fact.datum.year}-{number:06d}"
        target.rows.append([row[c] for c in SOCIALE_DIENST_COLUMNS])
    return [old, new]


def vroegsignalering(m: Municipality, directory: Path, rng: random.Random) -> list[CsvFile]:
    """``signalen.csv`` and ``acties.csv`` (UTF-8), not yet written."""
    signalen = CsvFile(directory / "signalen.csv", "utf-8", "\n", SIGNALEN_COLUMNS, [])
    acties = CsvFile(directory / "acties.csv", "utf-8", "\n", ACTIES_COLUMNS, [])
    for person, fact in _facts(m, "nl.wgs.vroegsignalen."):
        d = fact.data
        day = dutch_date(fact.datum) if rng.random() < 0.15 else fact.datum.isoformat()
        if fact.type.endswith("ontvangen"):
            signalen.rows.append(
                [
                    d["signaal_id"],
                    person.bsn,
                    _cased(d["partner"], rng),
                    day,
                    amount(d["bedrag_cent"], rng),
                    str(d["dagen_achterstand"]),
                    d["dreiging"],
                ]
            )
        else:
            acties.rows.append([d["signaal_id"], person.bsn, day, d["actie"]])
    return [signalen, acties]
