"""Puts a whole synthetic municipality together for a number of citizens and a seed.

Deterministic: the same (``citizens``, ``seed``) always gives the same people, BSNs, facts,
planted signals and near misses — every random choice comes from a :class:`random.Random`
seeded with text derived from the seed (string seeds are hashed with SHA-512 by Python, so
they do not depend on ``PYTHONHASHSEED``).
"""

from __future__ import annotations

import random
from datetime import date

from schakel.synth import bsn
from schakel.synth.exceptions import SynthError
from schakel.synth.life import Ids, Life
from schakel.synth.model import Identity, Municipality, NearMiss, Person, Planted
from schakel.synth.nearmiss import NEAR_MISSES
from schakel.synth.planted import GAPS
from schakel.synth.population import PROFILES, allocate, between

MIN_CITIZENS = 100

VOORNAMEN = (
    "Anna",
    "Bram",
    "Chantal",
    "Daan",
    "Esra",
    "Fatima",
    "Gerrit",
    "Hanna",
    "Ilse",
    "Jeroen",
    "Kees",
    "Lotte",
    "Mohamed",
    "Noor",
    "Oscar",
    "Priya",
    "Quinten",
    "Rachid",
    "Sanne",
    "Tom",
    "Ugur",
    "Vera",
    "Wim",
    "Yara",
    "Zeynep",
    "Joke",
    "Henk",
    "Ria",
    "Sven",
    "Naima",
    "Dewi",
    "Gijs",
    "Mila",
    "Luuk",
    "Aisha",
    "Bert",
    "Corrie",
    "Dirk",
    "Elif",
    "Frank",
)
ACHTERNAMEN = (
    ("de", "Vries"),
    ("", "Jansen"),
    ("", "Bakker"),
    ("", "Visser"),
    ("", "Smit"),
    ("", "Meijer"),
    ("de", "Boer"),
    ("", "Mulder"),
    ("de", "Groot"),
    ("", "Bos"),
    ("", "Vos"),
    ("", "Peters"),
    ("", "Hendriks"),
    ("van", "Leeuwen"),
    ("", "Dekker"),
    ("", "Brouwer"),
    ("de", "Wit"),
    ("", "Dijkstra"),
    ("", "Yilmaz"),
    ("El", "Amrani"),
    ("", "Kaya"),
    ("van der", "Berg"),
    ("", "Koster"),
    ("", "Prins"),
    ("van", "Dam"),
    ("", "Kramer"),
    ("", "Ramdin"),
    ("", "Şahin"),
    ("van", "Wijk"),
    ("", "Willems"),
)
STRATEN = (
    "Beukenlaan",
    "Dorpsstraat",
    "Kerkweg",
    "Molenstraat",
    "Stationsplein",
    "Lindelaan",
    "Schoolstraat",
    "Havenkade",
    "Eikenhof",
    "Zuiderweg",
    "Nieuwe Gracht",
    "Veldzicht",
)


def _identity(rng: random.Random) -> Identity:
    voorvoegsel, achternaam = rng.choice(ACHTERNAMEN)
    letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTVWXZ") for _ in range(2))
    return Identity(
        voornaam=rng.choice(VOORNAMEN),
        voorvoegsel=voorvoegsel,
        achternaam=achternaam,
        geboortedatum=between(rng, date(1938, 1, 1), date(2006, 12, 31)),
        geslacht=rng.choice("12"),
        straat=rng.choice(STRATEN),
        huisnummer=rng.randint(1, 240),
        postcode=f"9999{letters}",
        telefoon=f"06999{rng.randint(0, 99999):05d}",
    )


def per_scenario(citizens: int) -> int:
    """How many citizens each planted scenario gets: one per started 1,000 citizens."""
    return max(1, citizens // 1000)


def build_municipality(citizens: int, seed: int) -> Municipality:
    """The municipality of ``citizens`` people for ``seed`` (facts not yet written)."""
    copies = per_scenario(citizens)
    planted_count = (len(GAPS) + len(NEAR_MISSES)) * copies
    if citizens < max(MIN_CITIZENS, planted_count):
        raise SynthError(f"--citizens must be at least {max(MIN_CITIZENS, planted_count)}")
    rng = random.Random(f"schakel-synth:{seed}")  # noqa: S311 - seeded synthetic data
    roles = allocate(citizens - planted_count)
    roles += [name for name in GAPS for _ in range(copies)]
    roles += [name for name in NEAR_MISSES for _ in range(copies)]
    rng.shuffle(roles)
    numbers = bsn.draw(rng, citizens)
    ids = Ids()
    people: list[Person] = []
    planted: list[Planted] = []
    near: list[NearMiss] = []
    for index, (role, number) in enumerate(zip(roles, numbers, strict=True), start=1):
        pid = f"P{index:05d}"
        own = random.Random(f"schakel-synth:{seed}:{pid}")  # noqa: S311 - synthetic data
        person = Person(pid, number, role, _identity(own))
        life = Life(person, ids, own)
        if role in PROFILES:
            PROFILES[role][0](life)
        elif role in GAPS:
            scenario, description = GAPS[role]
            for found in scenario(life, own):
                planted.append(
                    Planted(
                        found.regel,
                        pid,
                        found.sleutel,
                        found.sinds,
                        found.termijn,
                        found.status,
                        found.opgelost_op,
                        f"{role}: {description}",
                    )
                )
        else:
            scenario_nm, regel, description = NEAR_MISSES[role]
            scenario_nm(life, own)
            near.append(NearMiss(regel, pid, f"{role}: {description}"))
        people.append(person)
    return Municipality(seed=seed, people=people, planted=planted, near_misses=near)
