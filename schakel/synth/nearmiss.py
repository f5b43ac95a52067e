"""Planted near misses: life courses that come as close to a rule as ``rules.md`` allows and
must raise no signal at all (the expected event on the deadline day itself, rejections 91
days apart, a temporary stop with reden 20, a return to bijstand after 181 days, …)."""

from __future__ import annotations

import random
from collections.abc import Callable

from schakel.synth.life import Life
from schakel.synth.model import R1, R2, R3, R4, R5, R6, add_working_days, days
from schakel.synth.planted import (
    anchor,
    dagbesteding_werkwens,
    signal,
    terugval,
    three_domains,
    werkwens_begeleiding,
    werkwens_stop,
    wmo_afgewezen,
)


def r1_verwijzing_op_termijn(life: Life, rng: random.Random) -> None:
    """Verwijzing precies op de termijn (dag 56)."""
    sinds = werkwens_begeleiding(life, anchor(rng, 110))
    life.pw_verwijzing(sinds + days(56), "wmo")


def r1_tijdelijk_gestopt(life: Life, rng: random.Random) -> None:
    """Begeleiding stops temporarily (reden 20) on day 40 and restarts on day 70; the
    verwijzing on day 100 is late for the first start but in time for the restart."""
    t0 = anchor(rng, 160)
    life.melding(t0)
    life.onderzoek(t0 + days(21), True, "volledig")
    start = t0 + days(30)
    nummer = life.toewijzing(t0 + days(28), "02", start)
    life.start_zorg(nummer, start)
    life.stop_zorg(nummer, start + days(40), "20", begin=start)
    life.start_zorg(nummer, start + days(70))
    life.pw_verwijzing(start + days(100), "wmo")


def r1_eindigt_voor_termijn(life: Life, rng: random.Random) -> None:
    """Begeleiding eindigt de dag vóór de termijn."""
    t0 = anchor(rng, 110)
    werkwens_begeleiding(life, t0, eind=t0 + days(35 + 55))


def r1_stop_gecorrigeerd(life: Life, rng: random.Random) -> None:
    """Werkwens; the stop first reported after the deadline (a signal on that delivery) is
    corrected (StatusAanlevering 2) to a day before it: the begeleiding did not hold on the
    deadline, so no signal."""
    sinds, stop = werkwens_stop(life, rng, 120, 70)
    life.corrigeer(stop, sinds + days(70 + rng.randint(6, 15)), datum=sinds + days(40))


def r1_toewijzing_ingetrokken(life: Life, rng: random.Random) -> None:
    """Werkwens; the begeleiding is allocated and started, then the municipality withdraws
    the allocation (WMO301, RedenWijziging 13, Einddatum = Ingangsdatum) and the provider the
    start (StatusAanlevering 3): no voorziening ever held, so no signal."""
    t0 = anchor(rng, 110)
    werkwens_begeleiding(life, t0)
    start = life.last()
    withdrawn = t0 + days(30 + rng.randint(12, 25))
    life.trek_in(start.data["toewijzing_nummer"], withdrawn)
    life.verwijder(start, withdrawn + days(rng.randint(1, 5)))


def r2_91_dagen(life: Life, rng: random.Random) -> None:
    """Afwijzingen 91 dagen uit elkaar."""
    first = anchor(rng, 100)
    wmo_afgewezen(life, first)
    life.pw_afwijzing(first + days(91), "zorg-passender")


def r2_met_uitkering(life: Life, rng: random.Random) -> None:
    """Both rejected within 90 days, but the citizen has bijstand (support) meanwhile."""
    first = anchor(rng, 60)
    life.uitkering(first - days(rng.randint(100, 400)))
    wmo_afgewezen(life, first)
    life.pw_afwijzing(first + days(30), "overig")


def r3_derde_werkdag(life: Life, rng: random.Random) -> None:
    """A signal on a Friday with a threat of disconnection, followed up the next Wednesday
    (the third working day)."""
    day = anchor(rng, 40)
    day += days((4 - day.weekday()) % 7)
    sid = signal(life, day, "afsluiting")
    life.actie(sid, add_working_days(day, 3), "contactpoging")


def r3_dag_28(life: Life, rng: random.Random) -> None:
    """Opvolging precies op dag 28."""
    day = anchor(rng, 40)
    sid = signal(life, day, "geen")
    life.actie(sid, day + days(28), "hulpaanbod")


def r3_schuldhulp(life: Life, rng: random.Random) -> None:
    """Geen opvolging, wel schuldhulp binnen de termijn."""
    day = anchor(rng, 40)
    signal(life, day, "huisuitzetting")
    life.schuldhulp(day + days(2))


def r4_regie_op_termijn(life: Life, rng: random.Random) -> None:
    """Regie precies op de termijn."""
    sinds = three_domains(life, rng, 60)
    life.casus(sinds + days(30))
    life.regie(sinds + days(30), "integraal-plan")


def r4_korte_overlap(life: Life, rng: random.Random) -> None:
    """Drie domeinen maar 30 dagen."""
    sinds = three_domains(life, rng, 60)
    life.schuldhulp_einde(sinds + days(29), "afgerond")


def r5_werkstap_op_termijn(life: Life, rng: random.Random) -> None:
    """Participatieplaats precies op dag 90."""
    sinds = dagbesteding_werkwens(life, anchor(rng, 135))
    life.traject(sinds + days(90), "participatieplaats", 12.0)


def r6_181_dagen(life: Life, rng: random.Random) -> None:
    """Terug in de bijstand 181 dagen na uitstroom."""
    terugval(life, rng, 181, 40)


def r6_andere_reden(life: Life, rng: random.Random) -> None:
    """Eerdere uitkering eindigde niet door werk."""
    back = anchor(rng, 40)
    life.uitkering(back - days(rng.randint(300, 600)))
    life.uitkering_einde(back - days(60), "andere-voorziening")
    life.uitkering(back)


def r6_nazorg_op_termijn(life: Life, rng: random.Random) -> None:
    """Wijkteam opent een casus precies op de termijn."""
    back = terugval(life, rng, rng.randint(30, 150), 40)
    life.casus(back + days(28))


NearScenario = Callable[[Life, random.Random], None]

NEAR_MISSES: dict[str, tuple[NearScenario, str, str]] = {
    "nm-r1-verwijzing-op-termijn": (
        r1_verwijzing_op_termijn,
        R1,
        "verwijzing precies op de termijn (dag 56)",
    ),
    "nm-r1-tijdelijk-gestopt": (
        r1_tijdelijk_gestopt,
        R1,
        "begeleiding tijdelijk gestopt (reden 20) en herstart; verwijzing op tijd voor de herstart",
    ),
    "nm-r1-eindigt-voor-termijn": (
        r1_eindigt_voor_termijn,
        R1,
        "begeleiding eindigt de dag vóór de termijn",
    ),
    "nm-r1-stop-gecorrigeerd": (
        r1_stop_gecorrigeerd,
        R1,
        "stop na de termijn gemeld, gecorrigeerd (StatusAanlevering 2) naar vóór de termijn",
    ),
    "nm-r1-toewijzing-ingetrokken": (
        r1_toewijzing_ingetrokken,
        R1,
        "toewijzing ingetrokken (WMO301 reden 13) en start verwijderd (StatusAanlevering 3)",
    ),
    "nm-r2-91-dagen": (r2_91_dagen, R2, "afwijzingen 91 dagen uit elkaar"),
    "nm-r2-met-uitkering": (r2_met_uitkering, R2, "beide afgewezen, maar bijstand loopt"),
    "nm-r3-derde-werkdag": (
        r3_derde_werkdag,
        R3,
        "signaal op vrijdag, opvolging op woensdag (3e werkdag)",
    ),
    "nm-r3-dag-28": (r3_dag_28, R3, "opvolging precies op dag 28"),
    "nm-r3-schuldhulp": (r3_schuldhulp, R3, "geen opvolging, wel schuldhulp binnen de termijn"),
    "nm-r4-regie-op-termijn": (r4_regie_op_termijn, R4, "regie precies op de termijn"),
    "nm-r4-korte-overlap": (r4_korte_overlap, R4, "drie domeinen maar 30 dagen"),
    "nm-r5-werkstap-op-termijn": (
        r5_werkstap_op_termijn,
        R5,
        "participatieplaats precies op dag 90",
    ),
    "nm-r6-181-dagen": (r6_181_dagen, R6, "terug in de bijstand 181 dagen na uitstroom"),
    "nm-r6-andere-reden": (r6_andere_reden, R6, "eerdere uitkering eindigde niet door werk"),
    "nm-r6-nazorg-op-termijn": (
        r6_nazorg_op_termijn,
        R6,
        "wijkteam opent een casus precies op de termijn",
    ),
}
"""Near-miss name → (life course, the rule it comes close to, Dutch description)."""
