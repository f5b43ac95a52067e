"""The builder of one person's facts: one method per thing that happens in a life course,
each adding the catalogue fact(s) a source system would register.

Facts dated after :data:`~schakel.synth.model.PERIOD_END` are not added (they have not
happened by the end of the period); methods return ``False`` (or still return the identifier
they allocated) so a life course can stop there.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from schakel.synth import versions
from schakel.synth.model import PERIOD_END, Fact, Person

PROVIDERS = {
    "01": ("98100011", "98100023"),
    "02": ("98200015", "98200027", "98200039"),
    "03": ("98100011",),
    "07": ("98700017", "98700029"),
    "08": ("98800013",),
    "11": ("98110016",),
    "13": ("98130012",),
    "14": ("98110016", "98140018"),
    "15": ("98150014",),
}
"""Fictitious providers (AGB-like codes) per iWmo productcategorie."""

UNITS = {"01": "04", "02": "04", "03": "04", "07": "16", "08": "82"}
"""iWmo Eenheid per categorie (04 uur, 16 dagdeel, 82 stuks); hulpmiddelen: 83 euro."""


@dataclass
class Ids:
    """Identifiers handed out by the source systems, deterministic per municipality."""

    seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    counters: dict[str, itertools.count[int]] = field(default_factory=dict)

    def next(self, kind: str) -> int:
        """The next number of ``kind`` (1, 2, …)."""
        counter = self.counters.setdefault(kind, itertools.count(1))
        return next(counter)


@dataclass(frozen=True)
class Allocation:
    """A Wmo toewijzing as the provider knows it."""

    nummer: str
    categorie: str
    code: str
    aanbieder: str
    ingang: date


class Life:
    """Adds the facts of one person's life course."""

    def __init__(self, person: Person, ids: Ids, rng: random.Random) -> None:
        self.person = person
        self.ids = ids
        self.rng = rng
        self.allocations: dict[str, Allocation] = {}

    # ---------------------------------------------------------------- generic

    def fact(
        self, type_: str, datum: date, data: dict[str, Any], native: dict[str, Any] | None = None
    ) -> bool:
        """Add one fact unless it is dated after the period; whether it was added."""
        if datum > PERIOD_END:
            return False
        self.person.facts.append(Fact(type_, datum, data, native or {}, next(self.ids.seq)))
        return True

    # ---------------------------------------------------------------- Wmo

    def melding(self, datum: date) -> bool:
        """A Wmo melding (request for support) is registered."""
        return self.fact("nl.wmo.meldingen.ontvangen", datum, {})

    def onderzoek(self, datum: date, werkwens: bool, potentieel: str) -> bool:
        """The Wmo onderzoek (kitchen-table conversation) is completed."""
        data = {"werkwens": werkwens, "arbeidspotentieel": potentieel}
        return self.fact("nl.wmo.onderzoeken.afgerond", datum, data)

    def wmo_afwijzing(self, datum: date, reden: str) -> bool:
        """The Wmo aanvraag is rejected."""
        return self.fact("nl.wmo.aanvragen.afgewezen", datum, {"reden": reden})

    def toewijzing(
        self,
        datum: date,
        categorie: str,
        ingang: date,
        eind: date | None = None,
        *,
        aanbieder: str | None = None,
    ) -> str:
        """A WMO301 toewijzing of one product; returns its ToewijzingNummer."""
        nummer = f"{datum.year % 100:02d}{self.ids.next('toewijzing'):06d}"
        provider = aanbieder or self.rng.choice(PROVIDERS.get(categorie, ("98990019",)))
        code = f"{categorie}A{self.rng.randint(1, 6):02d}"
        allocation = Allocation(nummer, categorie, code, provider, ingang)
        self.allocations[nummer] = allocation
        data: dict[str, Any] = {
            "toewijzing_nummer": nummer,
            "productcategorie": categorie,
            "ingangsdatum": ingang,
        }
        if eind is not None:
            data["einddatum"] = eind
        native = {
            "aanbieder": provider,
            "code": code,
            "eenheid": UNITS.get(categorie, "83"),
            "volume": self.rng.randint(2, 12),
        }
        self.fact("nl.wmo.voorzieningen.toegewezen", datum, data, native)
        return nummer

    def start_zorg(self, nummer: str, datum: date) -> bool:
        """The provider reports the start of care (WMO305)."""
        alloc = self.allocations[nummer]
        data = {"toewijzing_nummer": nummer, "productcategorie": alloc.categorie}
        native = {"aanbieder": alloc.aanbieder, "code": alloc.code}
        return self.fact("nl.wmo.voorzieningen.gestart", datum, data, native)

    def stop_zorg(self, nummer: str, datum: date, reden: str, *, begin: date | None = None) -> bool:
        """The provider reports the end of care (WMO307); reden 20 is a temporary stop."""
        alloc = self.allocations[nummer]
        data = {
            "toewijzing_nummer": nummer,
            "productcategorie": alloc.categorie,
            "reden_beeindiging": reden,
        }
        native = {
            "aanbieder": alloc.aanbieder,
            "code": alloc.code,
            "begindatum": begin or alloc.ingang,
        }
        return self.fact("nl.wmo.voorzieningen.gestopt", datum, data, native)

    # ---------------------------------------------------------------- corrections

    def last(self) -> Fact:
        """The fact added last."""
        return self.person.facts[-1]

    def _version(self, original: Fact, status: str, verzonden: date, datum: date) -> bool:
        if verzonden > PERIOD_END:
            return False
        native = {**original.native, "status_aanlevering": status, "verzonden": verzonden}
        new = Fact(original.type, datum, dict(original.data), native, next(self.ids.seq))
        versions.check_later(new, original)
        self.person.facts.append(new)
        return True

    def corrigeer(self, original: Fact, verzonden: date, *, datum: date | None = None) -> bool:
        """The provider sends the WMO305/307 product ``original`` again on ``verzonden`` with
        StatusAanlevering 2 (gewijzigde aanlevering), with ``datum`` (a stop's Einddatum)
        corrected if given; not added if ``verzonden`` is after the period."""
        return self._version(original, versions.CORRECTIE, verzonden, datum or original.datum)

    def verwijder(self, original: Fact, verzonden: date) -> bool:
        """The provider withdraws the WMO305/307 product ``original`` on ``verzonden``
        (StatusAanlevering 3, the same product again); not added after the period."""
        return self._version(original, versions.VERWIJDEREN, verzonden, original.datum)

    def trek_in(self, nummer: str, datum: date) -> bool:
        """The municipality withdraws allocation ``nummer`` on ``datum`` (a WMO301 with
        RedenWijziging 13 and Einddatum equal to Ingangsdatum: "as if never sent")."""
        original = next(
            f
            for f in self.person.facts
            if f.type == versions.TOEGEWEZEN and f.data["toewijzing_nummer"] == nummer
        )
        ingang = original.data["ingangsdatum"]
        data = {**original.data, "einddatum": ingang}
        native = {**original.native, "reden_wijziging": versions.INGETROKKEN}
        if datum > PERIOD_END:
            return False
        new = Fact(original.type, datum, data, native, next(self.ids.seq))
        versions.check_later(new, original)
        self.person.facts.append(new)
        return True

    def herzie(self) -> None:
        """The provider sends one of its WMO305/307 products again: a start unchanged with
        StatusAanlevering 2, a definitive stop with its Einddatum corrected by up to two weeks
        (StatusAanlevering 2) or withdrawn (3). Used for clients without werkwens or another
        domain (``wmo-basis``), where it changes no signal."""
        rng = self.rng
        products = [
            f
            for f in self.person.facts
            if f.type in (versions.GESTART, versions.GESTOPT)
            and f.native.get("status_aanlevering") is None
            and f.data.get("reden_beeindiging") != "20"
        ]
        if not products:
            return
        original = rng.choice(products)
        if original.type == versions.GESTART:
            self.corrigeer(original, versions.sent(original) + timedelta(rng.randint(1, 30)))
            return
        if rng.random() < 0.3:
            self.verwijder(original, versions.sent(original) + timedelta(rng.randint(1, 30)))
            return
        begin = original.native["begindatum"]
        shift = timedelta(rng.choice((-1, 1)) * rng.randint(1, 14))
        datum = max(original.datum + shift, begin + timedelta(1))
        verzonden = max(versions.sent(original), datum) + timedelta(rng.randint(1, 20))
        self.corrigeer(original, verzonden, datum=datum)

    # ---------------------------------------------------------------- Participatiewet

    def uitkering(self, datum: date, regeling: str = "bijstand") -> bool:
        """An uitkering is granted."""
        return self.fact("nl.participatiewet.uitkeringen.toegekend", datum, {"regeling": regeling})

    def uitkering_einde(self, datum: date, reden: str) -> bool:
        """The uitkering ends."""
        return self.fact("nl.participatiewet.uitkeringen.beeindigd", datum, {"reden": reden})

    def pw_afwijzing(self, datum: date, reden: str) -> bool:
        """A Participatiewet aanvraag is rejected."""
        return self.fact("nl.participatiewet.aanvragen.afgewezen", datum, {"reden": reden})

    def arbeidsvermogen(self, datum: date, uitkomst: str, trede: int) -> bool:
        """The sociale dienst assesses arbeidsvermogen (trede on the Participatieladder)."""
        data = {"uitkomst": uitkomst, "trede": trede}
        return self.fact("nl.participatiewet.arbeidsvermogen.vastgesteld", datum, data)

    def pw_verwijzing(self, datum: date, van: str) -> bool:
        """The sociale dienst receives a referral."""
        return self.fact("nl.participatiewet.verwijzingen.ontvangen", datum, {"van": van})

    def traject(self, datum: date, soort: str, uren: float | None = None) -> str:
        """A Participatiewet traject starts; returns its traject_id."""
        tid = f"TR-{datum.year}-{self.ids.next('traject'):05d}"
        data: dict[str, Any] = {"traject_id": tid, "soort": soort}
        if uren is not None:
            data["uren_per_week"] = uren
        self.fact("nl.participatiewet.trajecten.gestart", datum, data)
        return tid

    def traject_einde(self, tid: str, datum: date, reden: str) -> bool:
        """The traject ends."""
        data = {"traject_id": tid, "reden": reden}
        return self.fact("nl.participatiewet.trajecten.beeindigd", datum, data)

    # ---------------------------------------------------------------- wijkteam

    def casus(self, datum: date) -> str:
        """The wijkteam opens a casus; returns its casus_id."""
        cid = f"WT-{datum.year}-{self.ids.next('casus'):04d}"
        self.fact("nl.wijkteams.casussen.geopend", datum, {"casus_id": cid})
        return cid

    def casus_dicht(self, cid: str, datum: date) -> bool:
        """The wijkteam closes the casus."""
        return self.fact("nl.wijkteams.casussen.gesloten", datum, {"casus_id": cid})

    def zrm(self, datum: date, scores: dict[str, int]) -> bool:
        """A ZRM (zelfredzaamheidsmatrix) assessment."""
        return self.fact("nl.wijkteams.zrm.vastgesteld", datum, {"scores": scores})

    def wt_verwijzing(self, datum: date, naar: str) -> bool:
        """The wijkteam refers the citizen."""
        return self.fact("nl.wijkteams.verwijzingen.gedaan", datum, {"naar": naar})

    def regie(self, datum: date, rol: str = "casusregisseur") -> bool:
        """A casusregisseur (or an integraal plan) is assigned."""
        return self.fact("nl.wijkteams.regie.toegewezen", datum, {"rol": rol})

    # ---------------------------------------------------------------- schulden

    def signaal(
        self, datum: date, partner: str, bedrag_cent: int, dagen: int, dreiging: str
    ) -> str:
        """A vroegsignaal (arrears) arrives; returns its signaal_id."""
        sid = f"VS-{datum.year}-{self.ids.next('signaal'):05d}"
        data = {
            "signaal_id": sid,
            "partner": partner,
            "bedrag_cent": bedrag_cent,
            "dagen_achterstand": dagen,
            "dreiging": dreiging,
        }
        self.fact("nl.wgs.vroegsignalen.ontvangen", datum, data)
        return sid

    def actie(self, sid: str, datum: date, actie: str) -> bool:
        """A follow-up action on a vroegsignaal."""
        return self.fact(
            "nl.wgs.vroegsignalen.opgevolgd", datum, {"signaal_id": sid, "actie": actie}
        )

    def schuldhulp(self, datum: date) -> bool:
        """A schuldhulpverleningstraject starts."""
        return self.fact("nl.wgs.trajecten.gestart", datum, {})

    def schuldhulp_einde(self, datum: date, reden: str) -> bool:
        """The schuldhulpverleningstraject ends."""
        return self.fact("nl.wgs.trajecten.beeindigd", datum, {"reden": reden})
