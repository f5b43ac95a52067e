"""The dates an event may hold (:data:`schemas.models.FIRST_DATE` … ``LAST_DATE``) keep the
rules' date arithmetic inside Python's dates: a generated municipality moved so that its
last date is the last allowed day, or its first date the first allowed day, is evaluated
without error (an event dated 9999-12-30 made every evaluation of its citizen raise
``OverflowError``), and a date outside is refused at the adapter boundary (``bad-date``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from schakel.synth import build_municipality
from schemas.envelope import validate_input
from schemas.exceptions import InvalidEvent
from schemas.models import FIRST_DATE, LAST_DATE
from schemas.pseudonym import Pseudonymiser
from streams.ingest import to_timeline_event
from streams.rules import load_rules
from streams.state import CitizenState, StoredEvent, apply_event, close_replay

PSEUDONYMISE = Pseudonymiser("k")
RULES = load_rules()
PEOPLE = [p for p in build_municipality(200, 3).people if p.facts]


def _shifted(value: Any, delta: timedelta) -> Any:
    return (value + delta).isoformat() if isinstance(value, date) else value


@pytest.mark.parametrize("edge", ["last", "first"])
def test_a_municipality_at_the_edge_of_the_dates_is_evaluated(edge: str) -> None:
    evaluated = 0
    for person in PEOPLE:
        dates = [
            v for f in person.facts for v in (f.datum, *f.data.values()) if isinstance(v, date)
        ]
        delta = LAST_DATE - max(dates) if edge == "last" else FIRST_DATE - min(dates)
        state = CitizenState(subject=PSEUDONYMISE(person.bsn))
        for number, fact in enumerate(person.facts):
            data = {k: _shifted(v, delta) for k, v in fact.data.items()}
            raw = {
                "specversion": "1.0",
                "id": f"e-{number}",
                "source": "urn:test",
                "type": fact.type,
                "data": {"bsn": person.bsn, **data, "datum": _shifted(fact.datum, delta)},
            }
            event = to_timeline_event(validate_input(raw, PSEUDONYMISE))
            apply_event(state, StoredEvent(event, b""), RULES, today=None, history_limit=1000)
            evaluated += 1
        close_replay(state, RULES, until=None)
    assert evaluated > 900  # every fact of 200 citizens (994 of seed 3)


@pytest.mark.parametrize("datum", ["9999-12-30", "9000-01-01", "0999-12-31", "0001-01-01"])
def test_a_date_outside_is_refused_at_the_boundary(datum: str) -> None:
    raw = {
        "specversion": "1.0",
        "id": "e-1",
        "source": "urn:test",
        "type": "nl.wijkteams.casussen.geopend",
        "data": {"bsn": "111222333", "datum": datum, "casus_id": "C-1"},
    }
    with pytest.raises(InvalidEvent) as refused:
        validate_input(raw, PSEUDONYMISE)
    assert (refused.value.field, refused.value.reason) == ("data.datum", "bad-date")
    assert datum not in str(refused.value)
