"""Record versions of the generated iWmo facts: corrections and deletions, resolved the way
``events.md`` ("Corrections and deletions by a source") and ``sources.md`` §1 define them.

A planted correction or deletion is one more :class:`~schakel.synth.model.Fact` of the same
type as the fact it corrects, with ``native["status_aanlevering"]`` ``2`` (gewijzigde
aanlevering) or ``3`` (verwijderen aanlevering) and the day it is sent
(``native["verzonden"]``, the message's Dagtekening); a withdrawn WMO301 allocation is a
``toegewezen`` fact with ``native["reden_wijziging"]`` ``13`` and ``einddatum`` equal to its
``ingangsdatum``, dated (Toewijzingsdatum) after the allocation it withdraws.

The record key of a fact follows the adapter (:mod:`adapters.iwmo.versions`): WMO301 by
ToewijzingNummer; WMO305 by ToewijzingNummer + Begindatum; WMO307 by ToewijzingNummer +
Begindatum + temporary (reden 20) or definitive. The order of versions is the order of the
adapter's ``sequence``: WMO301 by Toewijzingsdatum (+ Toewijzingstijd), WMO305/307 by the
day sent; the generator only plants a new version on a strictly later day than any version
it replaces (:func:`check_later`), so ties never decide. Every other fact is its own record.

:func:`current` gives the facts the rules see (the current version of each record, deleted
records left out) — the ground truth is computed on these; :func:`first_deliveries` the facts
a pipeline that ignores versions would keep (the first copy of each record wins), which the
tests use to show that some corrections decide whether a signal exists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from schakel.synth.exceptions import SynthError
from schakel.synth.model import Fact, days

TOEGEWEZEN = "nl.wmo.voorzieningen.toegewezen"
GESTART = "nl.wmo.voorzieningen.gestart"
GESTOPT = "nl.wmo.voorzieningen.gestopt"
VERWIJDERD = "nl.schakel.bron.verwijderd"

CORRECTIE = "2"
"""StatusAanlevering gewijzigde aanlevering."""
VERWIJDEREN = "3"
"""StatusAanlevering verwijderen aanlevering."""
INGETROKKEN = "13"
"""RedenWijziging that, with Einddatum == Ingangsdatum, withdraws a WMO301 allocation."""

MAX_DELAY = 4
"""A first delivery (WMO305/307) is sent at most this many days after its ``datum``
(:func:`schakel.synth.iwmo_xml.messages`)."""

KINDS = (
    "correctie-wmo305",
    "correctie-wmo307",
    "verwijdering-wmo305",
    "verwijdering-wmo307",
    "intrekking-wmo301",
)
"""The kinds of planted versions, as counted in the manifest (``correcties``)."""


def record_key(fact: Fact) -> tuple[str, ...]:
    """The record a fact is a version of (the adapter's ``bronsleutel``, without gemeente)."""
    nummer = str(fact.data.get("toewijzing_nummer"))
    if fact.type == TOEGEWEZEN:
        return ("wmo301", nummer)
    if fact.type == GESTART:
        return ("wmo305", nummer, fact.datum.isoformat())
    if fact.type == GESTOPT:
        soort = "tijdelijk" if fact.data["reden_beeindiging"] == "20" else "definitief"
        return ("wmo307", nummer, fact.native["begindatum"].isoformat(), soort)
    return ("feit", str(fact.seq))


def sent(fact: Fact) -> date:
    """The latest day the fact's message can carry as Dagtekening: its ``verzonden`` if set,
    else (a WMO305/307 first delivery) ``datum`` + :data:`MAX_DELAY`, else ``datum``."""
    verzonden = fact.native.get("verzonden")
    if isinstance(verzonden, date):
        return verzonden
    if fact.type in (GESTART, GESTOPT):
        return fact.datum + days(MAX_DELAY)
    return fact.datum


def order(fact: Fact) -> tuple[Any, ...]:
    """Sort key of the versions of one record, as the adapter's ``sequence`` orders them."""
    if fact.type == TOEGEWEZEN:
        return (fact.datum, str(fact.native.get("toewijzingstijd", "")), fact.seq)
    return (sent(fact), fact.seq)


def is_deletion(fact: Fact) -> bool:
    """The fact withdraws its record (StatusAanlevering 3; a WMO301 with RedenWijziging 13
    and Einddatum equal to Ingangsdatum)."""
    if fact.native.get("status_aanlevering") == VERWIJDEREN:
        return True
    return (
        fact.type == TOEGEWEZEN
        and fact.native.get("reden_wijziging") == INGETROKKEN
        and fact.data.get("einddatum") == fact.data.get("ingangsdatum")
    )


def kind(fact: Fact) -> str | None:
    """Which of :data:`KINDS` the fact is, or ``None`` for a first delivery."""
    message = {GESTART: "wmo305", GESTOPT: "wmo307"}.get(fact.type)
    status = fact.native.get("status_aanlevering")
    if message and status == CORRECTIE:
        return f"correctie-{message}"
    if message and status == VERWIJDEREN:
        return f"verwijdering-{message}"
    if fact.type == TOEGEWEZEN and is_deletion(fact):
        return "intrekking-wmo301"
    return None


def counts(facts: Iterable[Fact]) -> dict[str, int]:
    """How many versions of each kind (every kind, zeros included)."""
    found = Counter(k for f in facts if (k := kind(f)) is not None)
    return {k: found[k] for k in KINDS}


def published_type(fact: Fact) -> str:
    """The type the adapter publishes for the fact (a deletion: ``nl.schakel.bron.verwijderd``,
    :data:`VERWIJDERD`)."""
    return VERWIJDERD if is_deletion(fact) else fact.type


def _records(facts: Iterable[Fact]) -> dict[tuple[str, ...], list[Fact]]:
    records: dict[tuple[str, ...], list[Fact]] = {}
    for fact in facts:
        records.setdefault(record_key(fact), []).append(fact)
    return records


def current(facts: Iterable[Fact]) -> list[Fact]:
    """The current version of every record, deleted records left out (creation order)."""
    chosen = [max(versions, key=order) for versions in _records(facts).values()]
    return sorted((f for f in chosen if not is_deletion(f)), key=lambda f: f.seq)


def first_deliveries(facts: Iterable[Fact]) -> list[Fact]:
    """The first version of every record (what a pipeline that ignores corrections and
    deletions keeps), in creation order."""
    chosen = [min(versions, key=order) for versions in _records(facts).values()]
    return sorted((f for f in chosen if not is_deletion(f)), key=lambda f: f.seq)


def check_later(new: Fact, replaced: Fact) -> None:
    """Refuse a version that would not sort strictly after the one it replaces by day (the
    generator never relies on a tie or on the time of day)."""
    if new.type == TOEGEWEZEN:
        later = new.datum > replaced.datum
    else:
        later = sent(new) > sent(replaced) and "verzonden" in new.native
    if not later or record_key(new) != record_key(replaced):
        raise SynthError(f"a planted version of {record_key(replaced)} is not a later version")
