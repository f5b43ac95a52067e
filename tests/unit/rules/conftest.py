"""Factories for the rule tests: TimelineEvents of the catalogue with readable shortcuts."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

from streams.model import Signal, TimelineEvent
from streams.rules import RuleSet, load_rules
from streams.rules import catalogue as c

SOURCE = "urn:nld:oin:00000001234567890000:systeem:test"
SUBJECT = "pseudo-1"


def d(text: str) -> date:
    """``date.fromisoformat`` for brevity."""
    return date.fromisoformat(text)


class Events:
    """Builds TimelineEvents with stable, readable ids (``e1``, ``e2``, …) per test."""

    def __init__(self) -> None:
        self._ids: Iterator[int] = itertools.count(1)

    def __call__(
        self,
        type_: str,
        datum: str | date,
        *,
        id: str | None = None,
        time: datetime | None = None,
        source: str = SOURCE,
        **data: Any,
    ) -> TimelineEvent:
        """One event; string dates in ``data`` (ingangsdatum, einddatum) become dates."""
        day = d(datum) if isinstance(datum, str) else datum
        fields = {
            k: d(v) if k in ("ingangsdatum", "einddatum") and isinstance(v, str) else v
            for k, v in data.items()
        }
        fields["datum"] = day
        return TimelineEvent(
            id=id or f"e{next(self._ids)}",
            source=source,
            type=type_,
            datum=day,
            time=time,
            data=fields,
        )

    # --- Wmo ---------------------------------------------------------------------------------
    def toegewezen(
        self,
        datum: str,
        nummer: str = "T1",
        categorie: str = "02",
        ingang: str | None = None,
        eind: str | None = None,
        **kw: Any,
    ) -> TimelineEvent:
        return self(
            c.VOORZIENING_TOEGEWEZEN,
            datum,
            toewijzing_nummer=nummer,
            productcategorie=categorie,
            ingangsdatum=ingang or datum,
            einddatum=eind,
            **kw,
        )

    def gestart(self, datum: str, nummer: str = "T1", categorie: str = "02") -> TimelineEvent:
        return self(
            c.VOORZIENING_GESTART, datum, toewijzing_nummer=nummer, productcategorie=categorie
        )

    def gestopt(
        self, datum: str, nummer: str = "T1", reden: str = "19", categorie: str = "02"
    ) -> TimelineEvent:
        return self(
            c.VOORZIENING_GESTOPT,
            datum,
            toewijzing_nummer=nummer,
            productcategorie=categorie,
            reden_beeindiging=reden,
        )

    def onderzoek(
        self, datum: str, werkwens: bool = False, potentieel: str = "geen"
    ) -> TimelineEvent:
        return self(
            c.WMO_ONDERZOEK_AFGEROND, datum, werkwens=werkwens, arbeidspotentieel=potentieel
        )

    def wmo_afgewezen(self, datum: str, reden: str = "geen-beperking") -> TimelineEvent:
        return self(c.WMO_AANVRAAG_AFGEWEZEN, datum, reden=reden)

    # --- Participatiewet ---------------------------------------------------------------------
    def arbeidsvermogen(self, datum: str, uitkomst: str = "gedeeltelijk") -> TimelineEvent:
        return self(c.ARBEIDSVERMOGEN_VASTGESTELD, datum, uitkomst=uitkomst, trede=None)

    def pw_verwijzing(self, datum: str, van: str = "wmo") -> TimelineEvent:
        return self(c.PW_VERWIJZING_ONTVANGEN, datum, van=van)

    def traject(
        self, datum: str, traject_id: str = "TR1", soort: str = "re-integratie"
    ) -> TimelineEvent:
        return self(
            c.TRAJECT_GESTART, datum, traject_id=traject_id, soort=soort, uren_per_week=None
        )

    def traject_einde(
        self, datum: str, traject_id: str = "TR1", reden: str = "afgerond"
    ) -> TimelineEvent:
        return self(c.TRAJECT_BEEINDIGD, datum, traject_id=traject_id, reden=reden)

    def uitkering(self, datum: str, regeling: str = "bijstand") -> TimelineEvent:
        return self(c.UITKERING_TOEGEKEND, datum, regeling=regeling)

    def uitkering_einde(self, datum: str, reden: str = "werk") -> TimelineEvent:
        return self(c.UITKERING_BEEINDIGD, datum, reden=reden)

    def pw_afgewezen(self, datum: str, reden: str = "geen-recht") -> TimelineEvent:
        return self(c.PW_AANVRAAG_AFGEWEZEN, datum, reden=reden)

    # --- wijkteam ----------------------------------------------------------------------------
    def casus(self, datum: str, casus_id: str = "C1") -> TimelineEvent:
        return self(c.CASUS_GEOPEND, datum, casus_id=casus_id)

    def casus_dicht(self, datum: str, casus_id: str = "C1") -> TimelineEvent:
        return self(c.CASUS_GESLOTEN, datum, casus_id=casus_id)

    def regie(self, datum: str, rol: str = "casusregisseur") -> TimelineEvent:
        return self(c.REGIE_TOEGEWEZEN, datum, rol=rol)

    def wt_verwijzing(self, datum: str, naar: str = "werk-en-inkomen") -> TimelineEvent:
        return self(c.WIJKTEAM_VERWIJZING_GEDAAN, datum, naar=naar)

    # --- schulden ----------------------------------------------------------------------------
    def vroegsignaal(
        self,
        datum: str,
        signaal_id: str = "S1",
        dreiging: str = "geen",
        partner: str = "energie",
        **kw: Any,
    ) -> TimelineEvent:
        return self(
            c.VROEGSIGNAAL_ONTVANGEN,
            datum,
            signaal_id=signaal_id,
            partner=partner,
            bedrag_cent=12_345,
            dagen_achterstand=60,
            dreiging=dreiging,
            **kw,
        )

    def opgevolgd(
        self, datum: str, signaal_id: str = "S1", actie: str = "contactpoging"
    ) -> TimelineEvent:
        return self(c.VROEGSIGNAAL_OPGEVOLGD, datum, signaal_id=signaal_id, actie=actie)

    def schuldhulp(self, datum: str) -> TimelineEvent:
        return self(c.SCHULDHULP_GESTART, datum)

    def schuldhulp_einde(self, datum: str, reden: str = "afgerond") -> TimelineEvent:
        return self(c.SCHULDHULP_BEEINDIGD, datum, reden=reden)


@pytest.fixture
def ev() -> Events:
    """A fresh event factory (ids restart at ``e1``)."""
    return Events()


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    """The built-in rules."""
    return load_rules()


def signals_of(
    rules: RuleSet, rule_id: str, events: list[TimelineEvent], clock: str
) -> list[Signal]:
    """The signals of one rule at ``clock``."""
    return [s for s in rules.evaluate(SUBJECT, events, d(clock)) if s.regel == rule_id]


def only(rules: RuleSet, rule_id: str, events: list[TimelineEvent], clock: str) -> Signal:
    """The single signal of one rule at ``clock`` (fails if there is not exactly one)."""
    found = signals_of(rules, rule_id, events, clock)
    assert len(found) == 1, found
    return found[0]
