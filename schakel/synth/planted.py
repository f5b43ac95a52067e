"""Planted gaps of every built-in rule (R1–R6, ``rules.md``) and planted near misses.

A *gap* scenario writes the life course of one citizen whose services fail to cooperate in
exactly one way, and returns the signal the pipeline must raise for it — with ``sinds``,
``termijn``, ``sleutel`` and the status it must have at the end of the period (``open``, or
``opgelost`` on a known day). A *near miss* comes as close to a rule as the rule allows
(the expected event on the deadline day itself, rejections 91 days apart, a temporary stop
with reden 20, …) and must raise nothing. Every scenario touches no other rule.

Anchors are drawn so that every deadline and resolution lies well inside the period.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from schakel.synth.life import Life
from schakel.synth.model import (
    PERIOD_END,
    PERIOD_START,
    R1,
    R2,
    R3,
    R4,
    R5,
    R6,
    Fact,
    Status,
    add_working_days,
    days,
)
from schakel.synth.population import between, zrm_scores


@dataclass(frozen=True)
class Expected:
    """The signal a gap scenario must raise."""

    regel: str
    sleutel: str
    sinds: date
    termijn: date | None
    status: Status
    opgelost_op: date | None


def expect(
    regel: str,
    sinds: date,
    termijn: date | None,
    opgelost_op: date | None = None,
    sleutel: str | None = None,
) -> Expected:
    """The expected signal; ``opgelost`` when ``opgelost_op`` falls within the period."""
    resolved = opgelost_op is not None and opgelost_op <= PERIOD_END
    return Expected(
        regel,
        sleutel or sinds.isoformat(),
        sinds,
        termijn,
        "opgelost" if resolved else "open",
        opgelost_op if resolved else None,
    )


def anchor(rng: random.Random, span: int) -> date:
    """A start day such that ``span`` more days still fall within the period."""
    return between(rng, PERIOD_START + days(40), PERIOD_END - days(span + 10))


# ------------------------------------------------------------------ R1


def werkwens_begeleiding(life: Life, t0: date, eind: date | None = None) -> date:
    """Melding, onderzoek with werkwens, begeleiding from t0+35; returns that first day."""
    life.melding(t0)
    life.onderzoek(t0 + days(21), True, "gedeeltelijk")
    nummer = life.toewijzing(t0 + days(30), "02", t0 + days(35), eind)
    life.start_zorg(nummer, t0 + days(38))
    return t0 + days(35)


def r1_open(life: Life, rng: random.Random) -> list[Expected]:
    """Wmo-begeleiding met werkwens, geen verwijzing naar werk & inkomen."""
    sinds = werkwens_begeleiding(life, anchor(rng, 110))
    return [expect(R1, sinds, sinds + days(56))]


def r1_late_verwijzing(life: Life, rng: random.Random) -> list[Expected]:
    """Werkwens; verwijzing pas na de termijn."""
    sinds = werkwens_begeleiding(life, anchor(rng, 140))
    late = sinds + days(56 + rng.randint(1, 30))
    life.pw_verwijzing(late, "wmo")
    return [expect(R1, sinds, sinds + days(56), late)]


def r1_arbeidsvermogen(life: Life, rng: random.Random) -> list[Expected]:
    """Bijstand with huishoudelijke hulp; the sociale dienst finds arbeidsvermogen, nobody
    acts; the help ends (volgens plan) some weeks after the deadline."""
    t0 = anchor(rng, 170)
    life.uitkering(t0 - days(rng.randint(60, 400)))
    life.melding(t0)
    life.onderzoek(t0 + days(20), False, "geen")
    nummer = life.toewijzing(t0 + days(30), "01", t0 + days(30))
    life.start_zorg(nummer, t0 + days(33))
    sinds = t0 + days(60)
    life.arbeidsvermogen(sinds, "gedeeltelijk", 3)
    stop = sinds + days(56 + rng.randint(5, 40))
    life.stop_zorg(nummer, stop, "19", begin=t0 + days(33))
    return [expect(R1, sinds, sinds + days(56), stop + days(1))]


def werkwens_stop(life: Life, rng: random.Random, span: int, stop_day: int) -> tuple[date, Fact]:
    """Begeleiding with werkwens (:func:`werkwens_begeleiding`) whose provider reports a
    definitive stop (reden 19) ``stop_day`` days after the first day; returns (first day, the
    stop fact)."""
    t0 = anchor(rng, span)
    sinds = werkwens_begeleiding(life, t0)
    nummer = life.last().data["toewijzing_nummer"]
    life.stop_zorg(nummer, sinds + days(stop_day), "19", begin=t0 + days(38))
    return sinds, life.last()


def r1_stop_gecorrigeerd(life: Life, rng: random.Random) -> list[Expected]:
    """Werkwens; the stop first reported before the deadline is corrected (StatusAanlevering
    2) to a day after it: the begeleiding held on the deadline, so the signal exists and is
    opgelost the day after the corrected stop."""
    sinds, stop = werkwens_stop(life, rng, 140, 40)
    corrected = sinds + days(56 + rng.randint(5, 30))
    life.corrigeer(stop, corrected + days(rng.randint(2, 10)), datum=corrected)
    return [expect(R1, sinds, sinds + days(56), corrected + days(1))]


def r1_stop_verwijderd(life: Life, rng: random.Random) -> list[Expected]:
    """Werkwens; a stop reported before the deadline is withdrawn (StatusAanlevering 3): the
    begeleiding never stopped and nobody referred, so the signal exists (open)."""
    sinds, stop = werkwens_stop(life, rng, 110, 30)
    life.verwijder(stop, sinds + days(30 + rng.randint(8, 20)))
    return [expect(R1, sinds, sinds + days(56))]


# ------------------------------------------------------------------ R2


def wmo_afgewezen(life: Life, day: date) -> None:
    """Melding, onderzoek and a Wmo rejection (werk passender) on ``day``."""
    life.melding(day - days(35))
    life.onderzoek(day - days(14), False, "onbekend")
    life.wmo_afwijzing(day, "werk-passender")


def r2_open(life: Life, rng: random.Random) -> list[Expected]:
    """Wmo wijst af (werk passender), sociale dienst wijst af (zorg passender)."""
    first = anchor(rng, 100)
    wmo_afgewezen(life, first)
    sinds = first + days(rng.randint(10, 89))
    life.pw_afwijzing(sinds, "zorg-passender")
    return [expect(R2, sinds, None)]


def r2_90_dagen(life: Life, rng: random.Random) -> list[Expected]:
    """Afwijzingen precies 90 dagen uit elkaar."""
    first = anchor(rng, 100)
    life.pw_afwijzing(first, "zorg-passender")
    sinds = first + days(90)
    wmo_afgewezen(life, sinds)
    return [expect(R2, sinds, None)]


def r2_casus(life: Life, rng: random.Random) -> list[Expected]:
    """Beide afgewezen; wijkteam opent later een casus."""
    first = anchor(rng, 150)
    wmo_afgewezen(life, first)
    sinds = first + days(rng.randint(20, 80))
    life.pw_afwijzing(sinds, "geen-recht")
    opened = sinds + days(rng.randint(5, 40))
    life.casus(opened)
    life.zrm(opened + days(10), zrm_scores(rng))
    return [expect(R2, sinds, None, opened)]


# ------------------------------------------------------------------ R3


def signal(life: Life, day: date, dreiging: str) -> str:
    """A vroegsignaal on ``day`` from the partner that goes with ``dreiging``; its id."""
    partner = {"huisuitzetting": "woningcorporatie", "afsluiting": "energie"}.get(
        dreiging, "zorgverzekeraar"
    )
    return life.signaal(
        day, partner, 123_456 if partner == "woningcorporatie" else 48_210, 62, dreiging
    )


def r3_dreiging(life: Life, rng: random.Random) -> list[Expected]:
    """Huurachterstand met dreigende huisuitzetting, geen opvolging."""
    day = anchor(rng, 40)
    sid = signal(life, day, "huisuitzetting")
    return [expect(R3, day, add_working_days(day, 3), sleutel=sid)]


def r3_dreiging_laat(life: Life, rng: random.Random) -> list[Expected]:
    """Dreigende afsluiting; contactpoging te laat."""
    day = anchor(rng, 40)
    sid = signal(life, day, "afsluiting")
    termijn = add_working_days(day, 3)
    late = termijn + days(rng.randint(1, 10))
    life.actie(sid, late, "contactpoging")
    return [expect(R3, day, termijn, late, sleutel=sid)]


def r3_geen(life: Life, rng: random.Random) -> list[Expected]:
    """Premieachterstand zorgverzekering, geen opvolging."""
    day = anchor(rng, 60)
    sid = signal(life, day, "geen")
    return [expect(R3, day, day + days(28), sleutel=sid)]


def r3_schuldhulp_laat(life: Life, rng: random.Random) -> list[Expected]:
    """Geen opvolging; schuldhulp start na de termijn."""
    day = anchor(rng, 90)
    sid = signal(life, day, "geen")
    late = day + days(28 + rng.randint(5, 40))
    life.schuldhulp(late)
    return [expect(R3, day, day + days(28), late, sleutel=sid)]


# ------------------------------------------------------------------ R4


def three_domains(life: Life, rng: random.Random, span: int) -> date:
    """Bijstand, then begeleiding, then schuldhulp (after a signal followed up in time):
    three domains from the returned day on, nobody in regie."""
    t0 = anchor(rng, span)
    life.uitkering(t0 - days(rng.randint(150, 500)))
    life.melding(t0 - days(100))
    life.onderzoek(t0 - days(80), False, "geen")
    nummer = life.toewijzing(t0 - days(70), "02", t0 - days(65))
    life.start_zorg(nummer, t0 - days(63))
    sid = life.signaal(t0 - days(30), "zorgverzekeraar", 61_890, 95, "geen")
    life.actie(sid, t0 - days(27), "gesprek")
    life.schuldhulp(t0)
    return t0


def r4_open(life: Life, rng: random.Random) -> list[Expected]:
    """Bijstand, begeleiding en schuldhulp tegelijk, geen regie."""
    sinds = three_domains(life, rng, 60)
    return [expect(R4, sinds, sinds + days(30))]


def r4_late_regie(life: Life, rng: random.Random) -> list[Expected]:
    """Drie domeinen; regie pas na de termijn."""
    sinds = three_domains(life, rng, 100)
    late = sinds + days(30 + rng.randint(1, 40))
    life.casus(late)
    life.regie(late)
    return [expect(R4, sinds, sinds + days(30), late)]


def r4_schuldhulp_klaar(life: Life, rng: random.Random) -> list[Expected]:
    """Drie domeinen zonder regie tot de schuldhulp afloopt."""
    sinds = three_domains(life, rng, 100)
    end = sinds + days(30 + rng.randint(5, 40))
    life.schuldhulp_einde(end, "afgerond")
    return [expect(R4, sinds, sinds + days(30), end + days(1))]


# ------------------------------------------------------------------ R5


def dagbesteding_werkwens(life: Life, t0: date) -> date:
    """Onderzoek with werkwens, dagbesteding from t0+32, a verwijzing in time (R1 is met);
    returns the first day of the dagbesteding."""
    life.melding(t0)
    life.onderzoek(t0 + days(21), True, "gedeeltelijk")
    nummer = life.toewijzing(t0 + days(28), "07", t0 + days(32))
    life.start_zorg(nummer, t0 + days(32))
    life.pw_verwijzing(t0 + days(40), "wmo")
    return t0 + days(32)


def r5_open(life: Life, rng: random.Random) -> list[Expected]:
    """Dagbesteding met werkwens, verwezen maar geen werkstap."""
    sinds = dagbesteding_werkwens(life, anchor(rng, 135))
    return [expect(R5, sinds, sinds + days(90))]


def r5_late_werkstap(life: Life, rng: random.Random) -> list[Expected]:
    """Dagbesteding; beschut werk pas na de termijn."""
    sinds = dagbesteding_werkwens(life, anchor(rng, 175))
    late = sinds + days(90 + rng.randint(1, 40))
    life.traject(late, "beschut-werk", 24.0)
    return [expect(R5, sinds, sinds + days(90), late)]


# ------------------------------------------------------------------ R6


def terugval(life: Life, rng: random.Random, gap: int, span: int) -> date:
    """Bijstand, a traject that ends in work, a return to bijstand ``gap`` days later."""
    back = anchor(rng, span)
    left = back - days(gap)
    start = left - days(rng.randint(200, 500))
    life.uitkering(start)
    tid = life.traject(start + days(60), "re-integratie", 16.0)
    life.traject_einde(tid, left, "werk")
    life.uitkering_einde(left, "werk")
    life.uitkering(back)
    return back


def r6_open(life: Life, rng: random.Random) -> list[Expected]:
    """Uitgestroomd naar werk, binnen 180 dagen terug, geen nazorg."""
    sinds = terugval(life, rng, rng.randint(20, 179), 40)
    return [expect(R6, sinds, sinds + days(28))]


def r6_180_dagen(life: Life, rng: random.Random) -> list[Expected]:
    """Terug in de bijstand precies 180 dagen na uitstroom."""
    sinds = terugval(life, rng, 180, 40)
    return [expect(R6, sinds, sinds + days(28))]


def r6_late_traject(life: Life, rng: random.Random) -> list[Expected]:
    """Terugval; traject pas na de termijn."""
    sinds = terugval(life, rng, rng.randint(30, 150), 80)
    late = sinds + days(28 + rng.randint(1, 40))
    life.traject(late, "re-integratie", 20.0)
    return [expect(R6, sinds, sinds + days(28), late)]


def r6_weer_werk(life: Life, rng: random.Random) -> list[Expected]:
    """Terugval zonder nazorg; vindt daarna zelf weer werk."""
    sinds = terugval(life, rng, rng.randint(30, 150), 80)
    end = sinds + days(28 + rng.randint(5, 40))
    life.uitkering_einde(end, "werk")
    return [expect(R6, sinds, sinds + days(28), end + days(1))]


Scenario = Callable[[Life, random.Random], list[Expected]]

GAPS: dict[str, tuple[Scenario, str]] = {
    "r1-open": (r1_open, "Wmo-begeleiding met werkwens, geen verwijzing naar werk & inkomen"),
    "r1-late-verwijzing": (r1_late_verwijzing, "werkwens; verwijzing pas na de termijn"),
    "r1-arbeidsvermogen": (
        r1_arbeidsvermogen,
        "bijstand + huishoudelijke hulp, arbeidsvermogen vastgesteld, "
        "niets gedaan; hulp stopt later volgens plan",
    ),
    "r1-stop-gecorrigeerd": (
        r1_stop_gecorrigeerd,
        "werkwens; de stop vóór de termijn wordt gecorrigeerd (StatusAanlevering 2) "
        "naar een dag na de termijn",
    ),
    "r1-stop-verwijderd": (
        r1_stop_verwijderd,
        "werkwens; een stop vóór de termijn wordt verwijderd (StatusAanlevering 3), "
        "geen verwijzing",
    ),
    "r2-open": (r2_open, "Wmo wijst af (werk passender), sociale dienst wijst af (zorg passender)"),
    "r2-90-dagen": (r2_90_dagen, "afwijzingen precies 90 dagen uit elkaar"),
    "r2-casus": (r2_casus, "beide afgewezen; wijkteam opent later een casus"),
    "r3-dreiging": (r3_dreiging, "huurachterstand met dreigende huisuitzetting, geen opvolging"),
    "r3-dreiging-laat": (r3_dreiging_laat, "dreigende afsluiting; contactpoging te laat"),
    "r3-geen": (r3_geen, "premieachterstand zorgverzekering, geen opvolging"),
    "r3-schuldhulp-laat": (r3_schuldhulp_laat, "geen opvolging; schuldhulp start na de termijn"),
    "r4-open": (r4_open, "bijstand, begeleiding en schuldhulp tegelijk, geen regie"),
    "r4-late-regie": (r4_late_regie, "drie domeinen; regie pas na de termijn"),
    "r4-schuldhulp-klaar": (
        r4_schuldhulp_klaar,
        "drie domeinen zonder regie tot de schuldhulp afloopt",
    ),
    "r5-open": (r5_open, "dagbesteding met werkwens, verwezen maar geen werkstap"),
    "r5-late-werkstap": (r5_late_werkstap, "dagbesteding; beschut werk pas na de termijn"),
    "r6-open": (r6_open, "uitgestroomd naar werk, binnen 180 dagen terug, geen nazorg"),
    "r6-180-dagen": (r6_180_dagen, "terug in de bijstand precies 180 dagen na uitstroom"),
    "r6-late-traject": (r6_late_traject, "terugval; traject pas na de termijn"),
    "r6-weer-werk": (r6_weer_werk, "terugval zonder nazorg; vindt daarna zelf weer werk"),
}
"""Gap scenario name → (life course, Dutch description)."""
