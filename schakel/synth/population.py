"""Background life courses: citizens whose services cooperate in time, so that no rule fires.

Each profile below is a common path through the social domain (assumptions and sources in
``docs/synthetic-municipality.md``). They are varied at random (seeded), but every one keeps
the invariants that make it gap-free by construction:

- R1: every positive work assessment (a Wmo onderzoek with werkwens or arbeidspotentieel, or
  arbeidsvermogen gedeeltelijk/volledig) of someone with a voorziening is followed within 50
  days by a verwijzing or a traject;
- R2: nobody gets a Wmo *and* a Participatiewet rejection;
- R3: every vroegsignaal is followed up by its deadline (3 working days under a threat of
  eviction or disconnection, else 28 days);
- R4: three long-lasting domains overlap only for a wijkteam client whose casusregisseur was
  assigned before the third domain started and whose casus stays open;
- R5: a dagbesteding client with werkwens starts a work step within 85 days of the start;
- R6: a return to the uitkering within 180 days of leaving it for work gets nazorg within
  27 days; other returns come later than 180 days.

Facts that would be dated after the period are dropped by :class:`~schakel.synth.life.Life`.
An expected follow-up dropped that way is dated after the period, and its deadline lies no
earlier, so no signal becomes known by the end of the period: the invariants hold at ``until``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import date

from schakel.synth.life import Life
from schakel.synth.model import HISTORY_START, PERIOD_END, PERIOD_START, add_working_days, days

Profile = Callable[[Life], None]

ZRM_DOMAINS = (
    "financien",
    "werk-opleiding",
    "tijdsbesteding",
    "huisvesting",
    "huiselijke-relaties",
    "geestelijke-gezondheid",
    "lichamelijke-gezondheid",
    "middelengebruik",
    "basale-adl",
    "instrumentele-adl",
    "sociaal-netwerk",
    "maatschappelijke-participatie",
    "justitie",
)


def pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    """One key of ``weights``, drawn with those weights."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def between(rng: random.Random, low: date, high: date) -> date:
    """A day from ``low`` through ``high``."""
    return low + days(rng.randint(0, max(0, (high - low).days)))


def after(rng: random.Random, day: date, low: int, high: int) -> date:
    """A day ``low``…``high`` days after ``day``."""
    return day + days(rng.randint(low, high))


def case_start(rng: random.Random, running_share: float) -> date:
    """When a case starts: before the period (running at its start) with ``running_share``,
    else during the period (not in its last month)."""
    if rng.random() < running_share:
        return between(rng, HISTORY_START, PERIOD_START - days(1))
    return between(rng, PERIOD_START, PERIOD_END - days(30))


# ------------------------------------------------------------------ building blocks


def vroegsignaal(life: Life, day: date, *, schuldhulp: float = 0.2) -> date:
    """An arrears signal followed up in time; sometimes schuldhulp. Returns the first
    follow-up day."""
    rng = life.rng
    partner = pick(
        rng, {"woningcorporatie": 0.35, "energie": 0.3, "water": 0.1, "zorgverzekeraar": 0.25}
    )
    amount = {
        "woningcorporatie": (60_000, 300_000),
        "energie": (15_000, 120_000),
        "water": (4_000, 25_000),
        "zorgverzekeraar": (25_000, 90_000),
    }[partner]
    arrears = {
        "woningcorporatie": (30, 90),
        "energie": (30, 90),
        "water": (60, 120),
        "zorgverzekeraar": (60, 180),
    }[partner]
    threat = {
        "woningcorporatie": "huisuitzetting",
        "energie": "afsluiting",
        "water": "afsluiting",
    }.get(partner)
    dreiging = threat if threat and rng.random() < 0.25 else "geen"
    sid = life.signaal(day, partner, rng.randint(*amount), rng.randint(*arrears), dreiging)
    deadline = add_working_days(day, 3) if dreiging != "geen" else day + days(28)
    first = between(rng, day, min(deadline, day + days(21)))
    life.actie(sid, first, "contactpoging")
    if rng.random() < 0.5:
        life.actie(sid, after(rng, first, 3, 21), pick(rng, {"gesprek": 0.7, "hulpaanbod": 0.3}))
    if rng.random() < schuldhulp:
        start = after(rng, first, 14, 90)
        life.schuldhulp(start)
        if rng.random() < 0.5:
            life.schuldhulp_einde(
                after(rng, start, 180, 720),
                pick(rng, {"afgerond": 0.5, "uitval": 0.35, "overig": 0.15}),
            )
    return first


def zorg(
    life: Life,
    toegewezen: date,
    categorie: str,
    *,
    ends: float = 0.5,
    stops: float = 0.25,
    pause: float = 0.05,
) -> date:
    """A Wmo voorziening: WMO301, WMO305, perhaps WMO307 (final or temporary). Returns the
    first day it holds."""
    rng = life.rng
    ingang = after(rng, toegewezen, 0, 14)
    eind = after(rng, ingang, 180, 730) if rng.random() < ends else None
    nummer = life.toewijzing(toegewezen, categorie, ingang, eind)
    start = after(rng, ingang, 0, 7)
    life.start_zorg(nummer, start)
    last = min(eind or PERIOD_END, PERIOD_END)
    if rng.random() < pause and (last - start).days > 60:
        halt = between(rng, start + days(20), last - days(30))
        life.stop_zorg(nummer, halt, "20", begin=start)
        life.start_zorg(nummer, after(rng, halt, 14, 90))
    elif rng.random() < stops and (last - start).days > 40:
        life.stop_zorg(
            nummer,
            between(rng, start + days(30), last),
            pick(rng, {"19": 0.55, "21": 0.25, "02": 0.2}),  # iWmo RedenBeeindiging codes
            begin=start,
        )
    return ingang


WMO_CATEGORIES = {
    "01": 0.35,
    "14": 0.15,
    "02": 0.15,
    "11": 0.1,
    "08": 0.1,
    "07": 0.07,
    "13": 0.05,
    "03": 0.03,
}


def wmo_route(
    life: Life,
    melding: date,
    *,
    werkwens: bool,
    categories: Mapping[str, float] = WMO_CATEGORIES,
    second: float = 0.25,
) -> tuple[date, date]:
    """Melding, onderzoek (within six weeks, as the Wmo prescribes) and one or two
    voorzieningen; returns (onderzoek day, first day of the first voorziening)."""
    rng = life.rng
    life.melding(melding)
    onderzoek = after(rng, melding, 14, 42)
    potentieel = (
        pick(rng, {"gedeeltelijk": 0.6, "volledig": 0.1, "onbekend": 0.3})
        if werkwens
        else pick(rng, {"geen": 0.7, "onbekend": 0.3})
    )
    life.onderzoek(onderzoek, werkwens, potentieel)
    toegewezen = after(rng, onderzoek, 3, 14)
    first = zorg(life, toegewezen, pick(rng, categories))
    others = {k: v for k, v in WMO_CATEGORIES.items() if k != "07"}
    if rng.random() < second:
        zorg(life, after(rng, toegewezen, 0, 120), pick(rng, others))
    return onderzoek, first


def assessment(rng: random.Random) -> tuple[str, int]:
    """An arbeidsvermogen outcome with a plausible trede."""
    uitkomst = pick(rng, {"geen": 0.35, "gedeeltelijk": 0.45, "volledig": 0.2})
    trede = {"geen": (1, 2), "gedeeltelijk": (2, 4), "volledig": (4, 6)}[uitkomst]
    return uitkomst, rng.randint(*trede)


def work_step(rng: random.Random) -> str:
    """The kind of a Participatiewet traject."""
    return pick(
        rng,
        {
            "re-integratie": 0.5,
            "participatieplaats": 0.15,
            "loonkostensubsidie": 0.1,
            "sociale-cooperatie": 0.1,
            "overig": 0.15,
        },
    )


def hours(rng: random.Random) -> float:
    """Hours per week of a traject (half hours occur)."""
    return rng.choice((8.0, 12.0, 16.0, 16.0, 20.0, 24.0, 32.0, 12.5))


# ------------------------------------------------------------------ profiles


def wmo_basis(life: Life) -> None:
    """Mostly older residents: household help, aids, transport, sometimes begeleiding or
    dagbesteding; no wish to work. Now and then a provider corrects or withdraws a start or
    stop (:meth:`~schakel.synth.life.Life.herzie`)."""
    rng = life.rng
    wmo_route(life, case_start(rng, 0.45), werkwens=False)
    if rng.random() < 0.05:
        life.herzie()
    if rng.random() < 0.1:
        vroegsignaal(life, case_start(rng, 0.0), schuldhulp=0.1)


def wmo_afgewezen(life: Life) -> None:
    """A Wmo request that is turned down (no limitation, or a general facility first)."""
    rng = life.rng
    melding = case_start(rng, 0.1)
    life.melding(melding)
    onderzoek = after(rng, melding, 14, 42)
    life.onderzoek(onderzoek, False, pick(rng, {"geen": 0.6, "onbekend": 0.4}))
    life.wmo_afwijzing(
        after(rng, onderzoek, 3, 21),
        pick(rng, {"geen-beperking": 0.5, "voorliggende-voorziening": 0.4, "overig": 0.1}),
    )


def bijstand(life: Life) -> None:
    """Bijstand (or IOAW/IOAZ/Bbz), an assessment, often a re-integration traject."""
    rng = life.rng
    start = case_start(rng, 0.6)
    life.uitkering(start, pick(rng, {"bijstand": 0.88, "ioaw": 0.05, "ioaz": 0.02, "bbz": 0.05}))
    assessed = after(rng, start, 20, 120)
    uitkomst, trede = assessment(rng)
    life.arbeidsvermogen(assessed, uitkomst, trede)
    if uitkomst != "geen" and rng.random() < 0.7:
        begin = after(rng, assessed, 7, 50)
        tid = life.traject(begin, work_step(rng), hours(rng))
        end = after(rng, begin, 90, 540)
        reden = pick(rng, {"werk": 0.3, "afgerond": 0.35, "uitval": 0.3, "overig": 0.05})
        if life.traject_einde(tid, end, reden) and reden == "werk":
            life.uitkering_einde(after(rng, end, 0, 30), "werk")
    elif rng.random() < 0.25:
        life.uitkering_einde(
            after(rng, start, 180, 900),
            pick(
                rng,
                {
                    "werk": 0.3,
                    "verhuizing": 0.2,
                    "andere-voorziening": 0.2,
                    "overlijden": 0.05,
                    "overig": 0.25,
                },
            ),
        )


def pw_afgewezen(life: Life) -> None:
    """A Participatiewet request that is turned down; sometimes granted on a new request."""
    rng = life.rng
    day = case_start(rng, 0.0)
    life.pw_afwijzing(
        day,
        pick(
            rng,
            {"geen-recht": 0.5, "buiten-behandeling": 0.3, "zorg-passender": 0.05, "overig": 0.15},
        ),
    )
    if rng.random() < 0.2:
        life.uitkering(after(rng, day, 30, 120))


def uitstroom_werk(life: Life) -> None:
    """From bijstand via a traject to work; some return much later than 180 days."""
    rng = life.rng
    start = case_start(rng, 0.7)
    life.uitkering(start)
    assessed = after(rng, start, 20, 90)
    life.arbeidsvermogen(
        assessed, pick(rng, {"gedeeltelijk": 0.5, "volledig": 0.5}), rng.randint(3, 5)
    )
    begin = after(rng, assessed, 7, 40)
    tid = life.traject(
        begin, pick(rng, {"re-integratie": 0.6, "loonkostensubsidie": 0.4}), hours(rng)
    )
    end = after(rng, begin, 60, 300)
    if life.traject_einde(tid, end, "werk"):
        left = after(rng, end, 0, 14)
        if life.uitkering_einde(left, "werk") and rng.random() < 0.3:
            life.uitkering(after(rng, left, 200, 400))


def terugval_met_nazorg(life: Life) -> None:
    """Leaves bijstand for work, returns within 180 days, and gets nazorg within 4 weeks."""
    rng = life.rng
    start = case_start(rng, 0.8)
    life.uitkering(start)
    left = between(rng, max(start + days(120), PERIOD_START - days(150)), PERIOD_END - days(200))
    life.uitkering_einde(left, "werk")
    back = after(rng, left, 30, 170)
    life.uitkering(back)
    care = after(rng, back, 0, 27)
    route = pick(rng, {"traject": 0.4, "verwijzing": 0.3, "casus": 0.3})
    if route == "traject":
        life.traject(care, "re-integratie", hours(rng))
    elif route == "verwijzing":
        life.pw_verwijzing(care, pick(rng, {"wijkteam": 0.6, "overig": 0.4}))
    else:
        cid = life.casus(care)
        life.wt_verwijzing(after(rng, care, 1, 20), "werk-en-inkomen")
        life.casus_dicht(cid, after(rng, care, 60, 240))


def schulden(life: Life) -> None:
    """One to three arrears signals over the period, followed up in time."""
    rng = life.rng
    for _ in range(rng.choices((1, 2, 3), weights=(70, 22, 8))[0]):
        vroegsignaal(life, case_start(rng, 0.0), schuldhulp=0.25)


def wijkteam(life: Life) -> None:
    """A wijkteam casus: ZRM, referrals, sometimes a casusregisseur."""
    rng = life.rng
    opened = case_start(rng, 0.3)
    cid = life.casus(opened)
    life.zrm(after(rng, opened, 7, 30), zrm_scores(rng))
    for _ in range(rng.choice((0, 1, 1, 2))):
        life.wt_verwijzing(
            after(rng, opened, 10, 90),
            pick(rng, {"wmo": 0.35, "schuldhulp": 0.25, "werk-en-inkomen": 0.15, "overig": 0.25}),
        )
    if rng.random() < 0.35:
        life.regie(
            after(rng, opened, 0, 30), pick(rng, {"casusregisseur": 0.8, "integraal-plan": 0.2})
        )
    if rng.random() < 0.2:
        vroegsignaal(life, case_start(rng, 0.0), schuldhulp=0.3)
    life.casus_dicht(cid, after(rng, opened, 60, 420))


def wmo_werkwens(life: Life) -> None:
    """Younger Wmo client with a wish to work: referred to werk & inkomen in time; at
    dagbesteding, a work step (beschut werk, participatieplaats, …) within 85 days."""
    rng = life.rng
    melding = case_start(rng, 0.3)
    categorie = pick(rng, {"07": 0.5, "02": 0.5})
    onderzoek, first = wmo_route(
        life, melding, werkwens=True, categories={categorie: 1.0}, second=0.0
    )
    life.pw_verwijzing(after(rng, onderzoek, 3, 45), "wmo")
    if categorie == "07":
        life.traject(
            after(rng, first, 14, 85),
            pick(
                rng,
                {
                    "beschut-werk": 0.4,
                    "participatieplaats": 0.3,
                    "sociale-cooperatie": 0.2,
                    "re-integratie": 0.1,
                },
            ),
            hours(rng),
        )
    elif rng.random() < 0.6:
        begin = after(rng, onderzoek, 30, 120)
        tid = life.traject(begin, work_step(rng), hours(rng))
        if rng.random() < 0.5:
            life.traject_einde(
                tid,
                after(rng, begin, 90, 360),
                pick(rng, {"werk": 0.3, "afgerond": 0.5, "uitval": 0.2}),
            )


def zrm_scores(rng: random.Random) -> dict[str, int]:
    """A ZRM with three to eight assessed domains (1 acute problems … 5 fully self-reliant)."""
    chosen = rng.sample(ZRM_DOMAINS, rng.randint(3, 8))
    return {d: rng.choices((1, 2, 3, 4, 5), weights=(1, 3, 4, 3, 2))[0] for d in chosen}


def bijstand_wmo(life: Life) -> None:
    """Bijstand and a Wmo voorziening; a positive assessment gets a traject within 50 days."""
    rng = life.rng
    start = case_start(rng, 0.5)
    life.uitkering(start)
    assessed = after(rng, start, 20, 120)
    uitkomst, trede = assessment(rng)
    life.arbeidsvermogen(assessed, uitkomst, trede)
    if uitkomst != "geen":
        begin = after(rng, assessed, 7, 50)
        tid = life.traject(begin, work_step(rng), hours(rng))
        if rng.random() < 0.5:
            life.traject_einde(
                tid,
                after(rng, begin, 90, 400),
                pick(rng, {"afgerond": 0.5, "uitval": 0.4, "overig": 0.1}),
            )
    melding = between(rng, start + days(30), max(start + days(30), PERIOD_END - days(60)))
    wmo_route(
        life, melding, werkwens=False, categories={"01": 0.4, "02": 0.3, "14": 0.15, "08": 0.15}
    )
    if rng.random() < 0.3:
        vroegsignaal(life, case_start(rng, 0.0), schuldhulp=0.0)


def bijstand_schulden(life: Life) -> None:
    """Bijstand with arrears signals, often schuldhulpverlening (no Wmo, no wijkteam)."""
    rng = life.rng
    start = case_start(rng, 0.5)
    life.uitkering(start)
    life.arbeidsvermogen(after(rng, start, 20, 120), *assessment(rng))
    for _ in range(rng.choice((1, 1, 2))):
        vroegsignaal(life, case_start(rng, 0.0), schuldhulp=0.5)


def multiprobleem(life: Life) -> None:
    """Bijstand, debts and a Wmo voorziening, coordinated by a casusregisseur of the
    wijkteam from before the third domain starts; the casus stays open."""
    rng = life.rng
    start = case_start(rng, 0.5)
    life.uitkering(start)
    opened = after(rng, start, 30, 200)
    life.casus(opened)
    life.regie(after(rng, opened, 0, 14))
    life.zrm(after(rng, opened, 5, 20), zrm_scores(rng))
    wmo_route(
        life,
        after(rng, opened, 15, 25),
        werkwens=False,
        categories={"02": 0.6, "01": 0.4},
        second=0.0,
    )
    first = vroegsignaal(life, after(rng, opened, -60, 60), schuldhulp=0.0)
    begin = after(rng, first, 14, 60)
    life.schuldhulp(begin)
    if rng.random() < 0.4:
        life.schuldhulp_einde(
            after(rng, begin, 180, 540), pick(rng, {"afgerond": 0.6, "uitval": 0.4})
        )


PROFILES: dict[str, tuple[Profile, float]] = {
    "wmo-basis": (wmo_basis, 0.40),
    "wmo-afgewezen": (wmo_afgewezen, 0.05),
    "wmo-werkwens": (wmo_werkwens, 0.03),
    "bijstand": (bijstand, 0.10),
    "pw-afgewezen": (pw_afgewezen, 0.03),
    "uitstroom-werk": (uitstroom_werk, 0.03),
    "terugval-met-nazorg": (terugval_met_nazorg, 0.015),
    "schulden": (schulden, 0.15),
    "wijkteam": (wijkteam, 0.09),
    "bijstand-wmo": (bijstand_wmo, 0.04),
    "bijstand-schulden": (bijstand_schulden, 0.04),
    "multiprobleem": (multiprobleem, 0.025),
}
"""Background profile name → (life course, share of the background population)."""


def allocate(count: int) -> list[str]:
    """Profile names for ``count`` people in exact proportions (largest remainder), in
    profile order; the caller shuffles."""
    shares = {name: weight * count for name, (_, weight) in PROFILES.items()}
    whole = {name: int(share) for name, share in shares.items()}
    rest = count - sum(whole.values())
    for name in sorted(shares, key=lambda n: shares[n] - whole[n], reverse=True)[:rest]:
        whole[name] += 1
    return [name for name in PROFILES for _ in range(whole[name])]
