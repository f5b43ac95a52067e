"""CloudEvents JSON: the wijkteam registration system's bulk feed (JSON lines, structured
mode) and the rows of the transactional outbox (``{"created_at", "event"}`` per line) that
the Wmo case system and the schuldhulp system write in their own PostgreSQL databases.

Events are registered some time after they happened (``time`` is later than ``datum``: on
the same or a following working day, during office hours, Europe/Amsterdam offset)."""

from __future__ import annotations

import json
import random
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from schakel.synth.model import Fact, Municipality, Person
from schemas.envelope import jsonable

WIJKTEAM = "nl.wijkteams."
OUTBOX_TYPES = {
    "nl.wmo.meldingen.ontvangen": "wmo-zaaksysteem",
    "nl.wmo.onderzoeken.afgerond": "wmo-zaaksysteem",
    "nl.wmo.aanvragen.afgewezen": "wmo-zaaksysteem",
    "nl.wgs.trajecten.gestart": "schuldhulp",
    "nl.wgs.trajecten.beeindigd": "schuldhulp",
}
"""Types without another native source → the system whose outbox carries them."""


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def amsterdam(moment: datetime) -> datetime:
    """``moment`` (naive local time) with the Europe/Amsterdam UTC offset (CET/CEST)."""
    summer = _last_sunday(moment.year, 3) <= moment.date() < _last_sunday(moment.year, 10)
    return moment.replace(tzinfo=timezone(timedelta(hours=2 if summer else 1)))


def registered(day: date, until: date, rng: random.Random) -> str:
    """When a fact of ``day`` was registered (RFC 3339): that day or up to two days later,
    never after ``until``."""
    when = min(day + timedelta(days=rng.choice((0, 0, 0, 1, 2))), until)
    moment = datetime(
        when.year, when.month, when.day, rng.randint(8, 16), rng.randint(0, 59), rng.randint(0, 59)
    )
    return amsterdam(moment).isoformat()


def event_id(rng: random.Random) -> str:
    """A random-looking but seeded UUID (as source systems hand out)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def cloudevent(
    person: Person, fact: Fact, source: str, rng: random.Random, until: date
) -> dict[str, Any]:
    """The structured-mode CloudEvent of ``fact`` as the source system emits it."""
    data = {"bsn": person.bsn, "datum": fact.datum.isoformat(), **jsonable(fact.data)}
    return {
        "specversion": "1.0",
        "id": event_id(rng),
        "source": source,
        "type": fact.type,
        "time": registered(fact.datum, until, rng),
        "datacontenttype": "application/json",
        "data": data,
    }


def wijkteam_events(m: Municipality, oin: str, rng: random.Random) -> list[dict[str, Any]]:
    """The wijkteam feed, in registration order."""
    source = f"urn:nld:oin:{oin}:systeem:wijkteam"
    events = [
        cloudevent(p, f, source, rng, m.until)
        for p in m.people
        for f in p.facts
        if f.type.startswith(WIJKTEAM)
    ]
    return sorted(events, key=lambda e: (e["time"], e["id"]))


def outbox_rows(m: Municipality, oin: str, rng: random.Random) -> list[dict[str, Any]]:
    """The outbox rows (``created_at`` = registration time), in commit (id) order."""
    rows = []
    for person in m.people:
        for fact in person.facts:
            system = OUTBOX_TYPES.get(fact.type)
            if system is None:
                continue
            event = cloudevent(person, fact, f"urn:nld:oin:{oin}:systeem:{system}", rng, m.until)
            rows.append({"created_at": event["time"], "event": event})
    return sorted(rows, key=lambda r: (r["created_at"], r["event"]["id"]))


def write_lines(path: Path, values: list[dict[str, Any]]) -> None:
    """One compact JSON object per line (UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for value in values:
            handle.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")
