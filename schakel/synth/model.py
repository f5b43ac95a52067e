"""The plain data of a synthetic municipality (no I/O): facts, people, planted signals.

A :class:`Fact` is one catalogue event of one person *before* it is written in a native
format: its ``type``, its real-world ``datum``, its catalogue ``data`` fields (without
``bsn`` and ``datum``) and the ``native`` details only the source system's format carries
(an iWmo product code, the provider, a registration id, …). The writers turn facts into
iWmo XML, CSV rows and CloudEvents; the adapters turn those back into the same events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

PERIOD_START = date(2024, 11, 1)
"""First day of the generated period (two years)."""
PERIOD_END = date(2026, 10, 31)
"""Last day of the generated period; the ``until`` of the replay clock. Nothing is dated
after it (a planned ``einddatum`` may be)."""
HISTORY_START = date(2021, 1, 1)
"""Cases running at :data:`PERIOD_START` started between this day and then (the first load
of each source system carries their start facts)."""

R1 = "werkpotentieel-zonder-verwijzing"
R2 = "tussen-wal-en-schip"
R3 = "vroegsignaal-zonder-opvolging"
R4 = "meervoudig-zonder-regie"
R5 = "dagbesteding-zonder-werkstap"
R6 = "terugval-zonder-nazorg"
RULES = (R1, R2, R3, R4, R5, R6)
"""The built-in rule ids (``rules.md``), in R1–R6 order."""

Status = Literal["open", "opgelost"]


def days(n: int) -> timedelta:
    """``n`` days."""
    return timedelta(days=n)


def add_working_days(day: date, n: int) -> date:
    """The ``n``-th working day (Monday–Friday) after ``day``, not counting ``day`` itself;
    public holidays are not special (``rules.md``, R3)."""
    current, counted = day, 0
    while counted < n:
        current += timedelta(days=1)
        if current.weekday() < 5:
            counted += 1
    return current


@dataclass
class Fact:
    """One catalogue event of one person, before it is written in a native format."""

    type: str
    datum: date
    data: dict[str, Any]
    native: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
    """Creation order within the municipality (deterministic; the basis of source ids)."""

    @property
    def domain(self) -> str:
        """``wmo``, ``participatiewet``, ``wijkteams`` or ``wgs`` (the second name part)."""
        return self.type.split(".")[1]


@dataclass
class Identity:
    """Invented personal data that native formats carry and Schakel must drop."""

    voornaam: str
    voorvoegsel: str
    achternaam: str
    geboortedatum: date
    geslacht: str
    """iWmo code: 1 man, 2 vrouw."""
    straat: str
    huisnummer: int
    postcode: str
    telefoon: str


@dataclass
class Person:
    """One citizen known to at least one silo."""

    pid: str
    """Synthetic person id (``P00042``): the BSN-free identity used in the ground truth."""
    bsn: str
    profiel: str
    """Background life course or planted scenario that produced the facts."""
    identity: Identity
    facts: list[Fact] = field(default_factory=list)


@dataclass(frozen=True)
class Planted:
    """A planted gap: the signal the pipeline must raise, with its expected status."""

    regel: str
    persoon: str
    sleutel: str
    sinds: date
    termijn: date | None
    status: Status
    opgelost_op: date | None
    scenario: str


@dataclass(frozen=True)
class NearMiss:
    """A planted near miss: a life course that comes close to ``regel`` and must raise no
    signal at all."""

    regel: str
    persoon: str
    scenario: str


@dataclass(frozen=True)
class BadRecord:
    """A deliberately bad input record the adapter must quarantine."""

    adapter: str
    reden: str
    omschrijving: str


@dataclass
class Municipality:
    """Everything generated for one seed, before it is written."""

    seed: int
    people: list[Person]
    planted: list[Planted]
    near_misses: list[NearMiss]
    until: date = PERIOD_END

    @property
    def facts(self) -> list[Fact]:
        """Every fact of every person, in creation order."""
        return sorted((f for p in self.people for f in p.facts), key=lambda f: f.seq)

    def person(self, pid: str) -> Person:
        """The person with this id (``KeyError`` if absent)."""
        for candidate in self.people:
            if candidate.pid == pid:
                return candidate
        raise KeyError(pid)
