"""Hypothesis strategies of generated citizen timelines, shared by the property tests of the
rules (``test_properties.py``) and of the stream paths (``tests/unit/streams``)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from streams.model import TimelineEvent

from .conftest import Events

DAY0 = date(2026, 1, 1)
SPAN = 300

_day = st.integers(0, SPAN)
_opt_day = st.none() | _day


def _iso(offset: int) -> str:
    return (DAY0 + timedelta(days=offset)).isoformat()


# Each entry: (factory method, strategy of its keyword arguments besides the date).
_KINDS: list[tuple[str, st.SearchStrategy[dict[str, Any]]]] = [
    (
        "toegewezen",
        st.fixed_dictionaries(
            {
                "nummer": st.sampled_from(["T1", "T2"]),
                "categorie": st.sampled_from(["02", "07"]),
                "ingang": _opt_day,
                "eind": _opt_day,
            }
        ),
    ),
    ("gestart", st.fixed_dictionaries({"nummer": st.sampled_from(["T1", "T2"])})),
    (
        "gestopt",
        st.fixed_dictionaries(
            {"nummer": st.sampled_from(["T1", "T2"]), "reden": st.sampled_from(["19", "20"])}
        ),
    ),
    (
        "onderzoek",
        st.fixed_dictionaries(
            {"werkwens": st.booleans(), "potentieel": st.sampled_from(["geen", "volledig"])}
        ),
    ),
    ("arbeidsvermogen", st.fixed_dictionaries({"uitkomst": st.sampled_from(["geen", "volledig"])})),
    ("pw_verwijzing", st.just({})),
    ("wt_verwijzing", st.fixed_dictionaries({"naar": st.sampled_from(["werk-en-inkomen", "wmo"])})),
    (
        "traject",
        st.fixed_dictionaries(
            {
                "traject_id": st.sampled_from(["A", "B"]),
                "soort": st.sampled_from(["beschut-werk", "overig"]),
            }
        ),
    ),
    ("traject_einde", st.fixed_dictionaries({"traject_id": st.sampled_from(["A", "B"])})),
    ("uitkering", st.just({})),
    ("uitkering_einde", st.fixed_dictionaries({"reden": st.sampled_from(["werk", "overig"])})),
    ("wmo_afgewezen", st.just({})),
    ("pw_afgewezen", st.just({})),
    ("casus", st.fixed_dictionaries({"casus_id": st.sampled_from(["C1", "C2"])})),
    ("casus_dicht", st.fixed_dictionaries({"casus_id": st.sampled_from(["C1", "C2"])})),
    ("regie", st.just({})),
    (
        "vroegsignaal",
        st.fixed_dictionaries(
            {
                "signaal_id": st.sampled_from(["S1", "S2"]),
                "dreiging": st.sampled_from(["geen", "afsluiting"]),
            }
        ),
    ),
    ("opgevolgd", st.fixed_dictionaries({"signaal_id": st.sampled_from(["S1", "S2"])})),
    ("schuldhulp", st.just({})),
    ("schuldhulp_einde", st.just({})),
]


def _specs(days: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    return st.one_of(
        [
            st.tuples(st.just(name), days, kwargs, st.none() | st.integers(0, 86_399))
            for name, kwargs in _KINDS
        ]
    )


_SPEC = _specs(_day)


def build(specs: list[tuple[str, int, dict[str, Any], int | None]]) -> list[TimelineEvent]:
    """Turn generated specs into events with ids e1, e2, … in generation order."""
    factory = Events()
    out: list[TimelineEvent] = []
    for name, offset, kwargs, seconds in specs:
        args = {
            k: _iso(v) if k in ("ingang", "eind") and v is not None else v
            for k, v in kwargs.items()
        }
        event = getattr(factory, name)(_iso(offset), **args)
        if seconds is not None:
            moment = datetime.combine(event.datum, datetime.min.time(), tzinfo=UTC)
            event = TimelineEvent(
                event.id,
                event.source,
                event.type,
                event.datum,
                moment + timedelta(seconds=seconds),
                event.data,
            )
        out.append(event)
    return out


timelines = st.lists(_SPEC, min_size=1, max_size=30).map(build)


def crowded(span: int, max_size: int) -> st.SearchStrategy[list[TimelineEvent]]:
    """Timelines of ``max_size // 2`` to ``max_size`` events of every kind within ``span``
    days, ``ingangsdatum`` and ``einddatum`` too (a short span makes them meet: a late fact
    inside another's window or before a resolution, a voorziening ended before it is known)."""

    def within(spec: tuple[str, int, dict[str, Any], int | None]) -> Any:
        name, day, kwargs, seconds = spec
        dated = {
            k: v % (span + 1) if k in ("ingang", "eind") and v is not None else v
            for k, v in kwargs.items()
        }
        return (name, day, dated, seconds)

    specs = _specs(st.integers(0, span)).map(within)
    return st.lists(specs, min_size=max_size // 2, max_size=max_size).map(build)


# --- registration time never matters where rules.md pairs by date ---------------------------
#
# rules.md orders a day's events by `time`, and for some states that order is the meaning
# ("the latest assessment so far", "the preceding uitkering event", a later `toegewezen`,
# regie against a closure of the same day). Where it pairs by date — the starts and ends of one
# traject or casus — `time` must not matter. The timelines below put those on a few crowded
# days (even offsets) and every other event on a day of its own (odd offsets), so adding,
# removing or changing `time` and shuffling may change nothing.

_PAIRED_IDS: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    # (start kind, end kind, start fields, end fields) of one id; the soort follows the id, so
    # two same-day starts of one traject never differ in label. One casus id: a closure of one
    # casus and an opening of another on one day are ordered by time for regie (rules.md).
    ("traject", "traject_einde", {"traject_id": "A", "soort": "beschut-werk"}, {"traject_id": "A"}),
    ("traject", "traject_einde", {"traject_id": "B", "soort": "overig"}, {"traject_id": "B"}),
    ("casus", "casus_dicht", {"casus_id": "C1"}, {"casus_id": "C1"}),
]
_PAIRED_NAMES = {"traject", "traject_einde", "casus", "casus_dicht"}
_OTHER = st.one_of([st.tuples(st.just(n), kw) for n, kw in _KINDS if n not in _PAIRED_NAMES])
_DAYS = 60
"""Both kinds of events fall in the first 2 x 60 days, so that they meet."""


@st.composite
def dated_by_day(draw: st.DrawFn) -> list[TimelineEvent]:
    """One id's starts and ends crowd a few even days; every other event has an odd day of its
    own."""
    specs: list[tuple[str, int, dict[str, Any], int | None]] = []
    for _ in range(draw(st.integers(0, 6))):
        start, end, start_fields, end_fields = draw(st.sampled_from(_PAIRED_IDS))
        day = 2 * draw(st.integers(0, _DAYS))
        for is_start in draw(st.lists(st.booleans(), min_size=1, max_size=3)):
            specs.append(
                (start, day, start_fields, None) if is_start else (end, day, end_fields, None)
            )
    others = draw(st.lists(_OTHER, max_size=14))
    days = draw(
        st.lists(st.integers(0, _DAYS), min_size=len(others), max_size=len(others), unique=True)
    )
    specs += [
        (name, 2 * day + 1, kwargs, None) for (name, kwargs), day in zip(others, days, strict=True)
    ]
    return build(specs) if specs else build([("regie", 1, {}, None)])


def retimed(event: TimelineEvent, rng: random.Random) -> TimelineEvent:
    """The event without `time`, or with a random time on its date."""
    if rng.random() < 0.4:
        moment = None
    else:
        midnight = datetime.combine(event.datum, datetime.min.time(), tzinfo=UTC)
        moment = midnight + timedelta(seconds=rng.randrange(86_400))
    return TimelineEvent(event.id, event.source, event.type, event.datum, moment, event.data)
