"""The pure core's cost per event for one citizen whose events carry a ``bronsleutel`` (each the
first and only version of its record: every sociale-dienst row, most iWmo records), and with
corrections among them, against the same events without one — the incremental assessment
must treat them alike.

    .venv/bin/python -m benchmarks.versions_core [--lengths 30,100,300] [--rounds 3]

For each history length: ``apply_event`` (timeline, rules, signal diff) after every event of
one citizen on the replay clock, half Participatiewet events (versioned or not), half
wijkteam cases; and the versioned citizen with every tenth event a correction of an earlier
row (:func:`corrected`: the rules reading its types are recomputed, not every rule). CPU
microseconds per event, the best of ``--rounds`` runs. No Kafka, no Faust.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from datetime import date, timedelta

from streams.model import TimelineEvent
from streams.rules import load_rules
from streams.state import CitizenState, StoredEvent, apply_event

PW = "urn:nld:oin:00000001234567890000:systeem:sociale-dienst"
WT = "urn:nld:oin:00000001234567890000:systeem:wijkteam"
PW_EVENTS = (
    ("nl.participatiewet.uitkeringen.toegekend", {"regeling": "bijstand"}),
    ("nl.participatiewet.arbeidsvermogen.vastgesteld", {"uitkomst": "gedeeltelijk"}),
    ("nl.participatiewet.trajecten.gestart", {"traject_id": "T", "soort": "re-integratie"}),
    ("nl.participatiewet.arbeidsvermogen.vastgesteld", {"uitkomst": "volledig"}),
)


def citizen(length: int, *, versioned: bool) -> list[TimelineEvent]:
    """``length`` events of one citizen, three days apart."""
    events = []
    for i in range(length):
        day = date(2024, 1, 1) + timedelta(days=3 * i)
        if i % 2 == 0:
            event_type, data = PW_EVENTS[(i // 2) % len(PW_EVENTS)]
            events.append(
                TimelineEvent(
                    id=f"pw-{i}",
                    source=PW,
                    type=event_type,
                    datum=day,
                    time=None,
                    data={"datum": day, **data},
                    bronsleutel=f"rij-{i}" if versioned else None,
                    sequence="0000000000" if versioned else None,
                )
            )
        else:
            closed = i % 4 == 3
            events.append(
                TimelineEvent(
                    id=f"wt-{i}",
                    source=WT,
                    type="nl.wijkteams.casussen." + ("gesloten" if closed else "geopend"),
                    datum=day,
                    time=None,
                    data={"datum": day, "casus_id": f"C-{i // 4}"},
                )
            )
    return events


def corrected(length: int) -> list[TimelineEvent]:
    """``length`` events of one citizen, versioned as :func:`citizen`'s, where every tenth is
    a correction: a second version (higher ``sequence``) of the Participatiewet row nine
    events before it, with the same date and other data (a source that corrected its row)."""
    events = citizen(length, versioned=True)
    for i in range(9, length, 10):
        row = events[i - 9]
        events[i] = replace(
            row,
            id=f"{row.id}-v2",
            sequence="0000000001",
            data={**row.data, "gecorrigeerd": True},
        )
    return events


def us_per_event(events: list[TimelineEvent]) -> float:
    rules = load_rules()
    state = CitizenState(subject="ab" * 16)
    started = time.process_time()
    for event in events:
        apply_event(state, StoredEvent(event, b""), rules, today=None, history_limit=100_000)
    return (time.process_time() - started) * 1e6 / len(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", default="30,100,300")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for length in (int(n) for n in args.lengths.split(",")):
        plain = min(us_per_event(citizen(length, versioned=False)) for _ in range(args.rounds))
        versioned = min(us_per_event(citizen(length, versioned=True)) for _ in range(args.rounds))
        fixed = min(us_per_event(corrected(length)) for _ in range(args.rounds))
        print(
            f"{length:5d} events: {plain:6.0f} us/event without bronsleutel, "
            f"{versioned:6.0f} with ({versioned / plain:.2f} x), "
            f"{fixed:6.0f} with every tenth a correction ({fixed / plain:.2f} x)"
        )


if __name__ == "__main__":
    main()
