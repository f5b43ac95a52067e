"""Record versions (events.md, "Corrections and deletions"; rules.md, "Identity"): the current
version of each (source, bronsleutel) — highest ``sequence``, then higher ``id`` — is the only
one in the timeline; a current ``nl.schakel.bron.verwijderd`` removes the record; both are a
function of the *set* of versions received. Checked on the pure core (one event at a time and
the batch path's one assessment), against a reference that only ever saw the current versions,
and through the worker and the batch ingest with real Avro records."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.wire import VERWIJDERD
from streams.model import TimelineEvent
from streams.rules import load_rules
from streams.state import CitizenState, StoredEvent, advance_clock, apply_event, close_replay
from streams.versions import current_versions, timeline_of

from .records import BatchIngest, Worker, message, raw

RULES = load_rules()
SUBJECT = "ab" * 16
DAY0 = date(2026, 1, 5)
UNTIL = DAY0 + timedelta(days=400)

# The records of one citizen that versions may change. Dates are chosen so that whether R2
# (two rejections at most 90 days apart) and R3 (a vroegsignaal followed up in time) exist
# depends on which version is current.
RECORDS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "wmo-aanvraag": ("urn:wmo", "nl.wmo.aanvragen.afgewezen", {"reden": "geen-beperking"}),
    "pw-aanvraag": ("urn:pw", "nl.participatiewet.aanvragen.afgewezen", {"reden": "overig"}),
    "signaal": (
        "urn:wgs",
        "nl.wgs.vroegsignalen.ontvangen",
        {
            "signaal_id": "s-1",
            "partner": "energie",
            "bedrag_cent": 12000,
            "dagen_achterstand": 60,
            "dreiging": "geen",
        },
    ),
    "opvolging": (
        "urn:wgs",
        "nl.wgs.vroegsignalen.opgevolgd",
        {"signaal_id": "s-1", "actie": "gesprek"},
    ),
    "uitkering": ("urn:pw", "nl.participatiewet.uitkeringen.toegekend", {"regeling": "bijstand"}),
}


def event(record: str, index: int, *, sequence: str, offset: int, deletion: bool) -> TimelineEvent:
    source, event_type, data = RECORDS[record]
    datum = DAY0 + timedelta(days=offset)
    return TimelineEvent(
        id=f"{record}-v{index}",
        source=source,
        type=VERWIJDERD if deletion else event_type,
        datum=datum,
        time=None,
        data={"datum": datum} if deletion else {"datum": datum, **data},
        bronsleutel=record,
        sequence=sequence,
    )


@st.composite
def version_sets(draw: st.DrawFn) -> list[TimelineEvent]:
    """Every record 0–3 versions: sequences with ties, dates over a year, some deletions; an
    unversioned event that is its own record; then one identical redelivery."""
    events: list[TimelineEvent] = []
    for record in RECORDS:
        for index in range(draw(st.integers(0, 3))):
            events.append(
                event(
                    record,
                    index,
                    sequence=draw(st.sampled_from(["0001", "0002", "0003"])),
                    offset=draw(st.sampled_from([0, 20, 45, 100, 140, 300])),
                    deletion=draw(st.booleans()) if index else draw(st.integers(0, 4)) == 0,
                )
            )
    if draw(st.booleans()):
        events.append(
            TimelineEvent(
                "los-1",
                "urn:pw",
                "nl.participatiewet.aanvragen.afgewezen",
                DAY0 + timedelta(days=60),
                None,
                {"datum": DAY0 + timedelta(days=60), "reden": "geen-recht"},
            )
        )
    return events


def streamed(events: list[TimelineEvent]) -> CitizenState:
    """The worker's path on the replay clock: one event at a time, then the end tick."""
    state = CitizenState(subject=SUBJECT)
    for each in events:
        apply_event(state, StoredEvent(each, b""), RULES, today=None, history_limit=1000)
    advance_clock(state, UNTIL, RULES, today=None)
    return state


def batched(events: list[TimelineEvent]) -> CitizenState:
    """The batch path: everything inserted, one assessment."""
    state = CitizenState(subject=SUBJECT)
    for each in events:
        state.insert(StoredEvent(each, b""), 1000)
    close_replay(state, RULES, until=UNTIL)
    return state


def definitive(state: CitizenState) -> dict[tuple[str, str], tuple[Any, ...]]:
    """The signals that hold (not withdrawn), with what identifies and dates them."""
    return {
        key: (s.status, s.sinds, s.termijn, s.opgelost_op, s.bewijs)
        for key, s in state.signalen.items()
        if s.status != "ingetrokken"
    }


def reference(events: list[TimelineEvent]) -> CitizenState:
    """A citizen whose sources only ever sent the current versions (no keys, no deletions)."""
    return batched([replace(e, bronsleutel=None, sequence=None) for e in timeline_of(events)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version_sets(), st.randoms(use_true_random=False))
def test_any_permutation_gives_the_same_timeline_and_signals_on_both_paths(
    events: list[TimelineEvent], rnd: Any
) -> None:
    shuffled = list(events)
    rnd.shuffle(shuffled)
    redelivered = [*shuffled, *shuffled[: rnd.randint(0, len(shuffled))]]  # identical copies
    expected = reference(events)
    for state in (streamed(events), streamed(redelivered), batched(shuffled)):
        assert [e.identity for e in state.timeline] == [
            e.identity for e in timeline_of(sorted(events, key=lambda e: e.sort_key))
        ]
        assert all(e.type != VERWIJDERD for e in state.timeline)
        assert definitive(state) == definitive(expected)
        assert state.latest_datum() == max((e.datum for e in events), default=None)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version_sets(), st.randoms(use_true_random=False), st.integers(1, 4))
def test_after_every_event_the_timeline_is_that_of_the_versions_so_far(
    events: list[TimelineEvent], rnd: Any, flush_every: int
) -> None:
    """One event at a time, the rules' kept results dropped every ``flush_every`` events (what
    the worker does for a citizen after each flush, the count of versions with them): after
    every step the timeline and the latest day are those of the versions received so far, and
    the signals in the end those of both paths."""
    shuffled = list(events)
    rnd.shuffle(shuffled)
    state = CitizenState(subject=SUBJECT)
    for n, each in enumerate(shuffled, 1):
        apply_event(state, StoredEvent(each, b""), RULES, today=None, history_limit=1000)
        so_far = sorted(shuffled[:n], key=lambda e: e.sort_key)
        assert [e.identity for e in state.timeline] == [e.identity for e in timeline_of(so_far)]
        assert state.latest_datum() == max(e.datum for e in so_far)  # every version: never back
        if state.events:  # the signals told so far: those of everything at once, this clock
            anew = CitizenState(subject=SUBJECT)
            for seen in shuffled[:n]:
                anew.insert(StoredEvent(seen, b""), 1000)
            clock = state.clock(None)
            assert clock is not None
            advance_clock(anew, clock, RULES, today=None)
            assert definitive(state) == definitive(anew)
        if n % flush_every == 0:
            state.drop_derived()
    advance_clock(state, UNTIL, RULES, today=None)
    assert definitive(state) == definitive(batched(shuffled))


def test_a_first_version_is_only_added_and_keeps_the_assessment_incremental() -> None:
    """A record's first version (every sociale-dienst row, most iWmo records) changes the
    timeline as an event without ``bronsleutel`` does: the next assessment recomputes only the
    rules of its type (before, any version made it recompute every rule, for every later event
    of the citizen too). A second version of the record, or a deletion, changes which events
    of that record count: the rules reading the types of its versions are recomputed, the
    others keep their results; an event after it is again only added (before, the first
    correction made every rule recompute, then and for every later event)."""
    state = CitizenState(subject=SUBJECT)
    first = event("pw-aanvraag", 1, sequence="0001", offset=0, deletion=False)
    apply_event(state, StoredEvent(first, b""), RULES, today=None, history_limit=1000)
    other = event("uitkering", 1, sequence="0001", offset=10, deletion=False)
    state.insert(StoredEvent(other, b""), 1000)
    assert state.only_added(other)
    assert state._changed == {other.type} and state._added == [other]
    second = event("pw-aanvraag", 2, sequence="0002", offset=45, deletion=False)
    state.insert(StoredEvent(second, b""), 1000)
    assert not state.only_added(second)
    assert state._changed == {other.type, first.type} and state._added is None
    assert [e.id for e in state.timeline] == [other.id, second.id]
    unread = "vroegsignaal-zonder-opvolging"  # reads neither type
    assert next(r for r in RULES.rules if r.id == unread).leest.isdisjoint(state._changed)
    kept = state._rules[unread]
    advance_clock(state, second.datum, RULES, today=None)
    assert state._rules[unread] is kept  # its result kept, not recomputed
    timeline = state.timeline
    later = event("signaal", 1, sequence="0001", offset=100, deletion=False)
    state.insert(StoredEvent(later, b""), 1000)
    assert state.only_added(later)
    assert state._changed == {later.type} and state._added == [later]
    assert state.timeline is timeline  # placed in it, not derived again
    assert [e.id for e in timeline] == [other.id, second.id, later.id]
    assert state.latest_datum() == later.datum


def test_the_highest_sequence_wins_then_the_higher_id_and_a_current_deletion_removes() -> None:
    v1 = event("pw-aanvraag", 1, sequence="0001", offset=0, deletion=False)
    v2 = event("pw-aanvraag", 2, sequence="0002", offset=45, deletion=False)
    tie = event("pw-aanvraag", 3, sequence="0002", offset=100, deletion=False)
    gone = event("pw-aanvraag", 4, sequence="0003", offset=140, deletion=True)
    other_source = replace(v1, source="urn:other", id="x")
    assert timeline_of([v2, v1]) == [v2]
    assert timeline_of([tie, v1, v2]) == [tie]  # "pw-aanvraag-v3" > "pw-aanvraag-v2"
    assert timeline_of([gone, v2, v1]) == []
    assert current_versions([v1, gone]) == [gone]
    assert timeline_of([v1, other_source]) == [v1, other_source]  # (source, bronsleutel)


def rejections(pw_offset: int) -> list[TimelineEvent]:
    return [
        event("wmo-aanvraag", 1, sequence="0001", offset=0, deletion=False),
        event("pw-aanvraag", 1, sequence="0001", offset=pw_offset, deletion=False),
    ]


def test_a_correction_withdraws_a_signal_and_raises_it_anew_when_sinds_moves() -> None:
    state = CitizenState(subject=SUBJECT)
    for each in rejections(20):
        apply_event(state, StoredEvent(each, b""), RULES, today=None, history_limit=100)
    (signal,) = state.signalen.values()
    assert (signal.regel, signal.sinds) == ("tussen-wal-en-schip", DAY0 + timedelta(days=20))
    # the Participatiewet rejection was dated 45 days after the Wmo one: sinds moves
    moved = event("pw-aanvraag", 2, sequence="0002", offset=45, deletion=False)
    outcome = apply_event(state, StoredEvent(moved, b""), RULES, today=None, history_limit=100)
    assert sorted((c.kind, c.signal.sinds.isoformat()) for c in outcome.changes) == [
        ("gesignaleerd", "2026-02-19"),
        ("ingetrokken", "2026-01-25"),
    ]
    # the correction to 140 days later: more than 90 days apart, no signal at all
    late = event("pw-aanvraag", 3, sequence="0003", offset=140, deletion=False)
    outcome = apply_event(state, StoredEvent(late, b""), RULES, today=None, history_limit=100)
    assert [(c.kind, c.signal.sinds.isoformat()) for c in outcome.changes] == [
        ("ingetrokken", "2026-02-19")
    ]
    assert definitive(state) == {}


def test_a_deletion_withdraws_the_signal_and_a_superseded_version_again_changes_nothing() -> None:
    state = CitizenState(subject=SUBJECT)
    first, second = rejections(20)
    for each in (first, second):
        apply_event(state, StoredEvent(each, b""), RULES, today=None, history_limit=100)
    gone = event("pw-aanvraag", 2, sequence="0002", offset=30, deletion=True)
    outcome = apply_event(state, StoredEvent(gone, b""), RULES, today=None, history_limit=100)
    assert [c.kind for c in outcome.changes] == ["ingetrokken"]
    assert [e.id for e in state.timeline] == ["wmo-aanvraag-v1"]
    again = apply_event(state, StoredEvent(second, b""), RULES, today=None, history_limit=100)
    assert (again.accepted, again.changes) == (False, [])
    assert len(state.events) == 3  # every accepted version is kept (and recognised)


def wire_versions(pw_offsets: list[tuple[str, int | None]]) -> list[dict[str, Any]]:
    """A Wmo rejection and versions of one Participatiewet rejection as sources send them
    (``None`` offset: a deletion), with their envelope attributes."""
    out = [raw("wmo-1", "nl.wmo.aanvragen.afgewezen", datum="2026-01-05", reden="geen-beperking")]
    for index, (sequence, offset) in enumerate(pw_offsets):
        datum = (DAY0 + timedelta(days=offset or 30)).isoformat()
        attributes = {"bronsleutel": "aanvraag-9", "sequence": sequence}
        if offset is None:
            version = raw(f"pw-{index}", VERWIJDERD, source="urn:pw", datum=datum)
            version["domein"] = "participatiewet"
        else:
            version = raw(
                f"pw-{index}",
                "nl.participatiewet.aanvragen.afgewezen",
                source="urn:pw",
                datum=datum,
                reden="overig",
            )
        out.append({**version, **attributes})
    return out


PERMUTED_VERSIONS = [
    ([("01", 10), ("02", 60)], ["2026-03-06"]),  # corrected: R2 from the corrected date
    ([("01", 10), ("02", None)], []),  # deleted: no R2
    ([("01", 10), ("02", None), ("03", 120)], []),  # deleted, sent anew outside the window
    ([("02", 10), ("02", 60), ("01", None)], ["2026-03-06"]),  # tie: higher id; old deletion
]


@pytest.mark.parametrize(("versions", "r2_sinds"), PERMUTED_VERSIONS)
def test_worker_and_batch_agree_on_real_records_in_every_order(
    versions: list[tuple[str, int | None]], r2_sinds: list[str]
) -> None:
    records = wire_versions(versions)
    outcomes = set()
    for order in itertools.permutations(records):
        messages = [message(each, offset) for offset, each in enumerate(order)]
        worker = Worker()
        asyncio.run(worker.handle(*messages))
        batch = BatchIngest()
        batch.ingest(*messages)
        assert worker.deadletters.sent == [] and batch.producer.sent == []
        (streamed_state,) = worker.table.values()
        (batch_state,) = batch.states.values()
        close_replay(batch_state, RULES, until=None)
        timeline = tuple(e.id for e in batch_state.timeline)
        assert tuple(e.id for e in streamed_state.timeline) == timeline
        assert definitive(streamed_state) == definitive(batch_state)
        outcomes.add((timeline, tuple(sorted(definitive(batch_state).items()))))
    assert len(outcomes) == 1  # the same in every order
    assert [s.sinds.isoformat() for s in batch_state.signalen.values()] == r2_sinds


def test_a_correction_to_an_earlier_date_does_not_move_the_replay_clock_back() -> None:
    """Review E: a melding typed with a wrong, later date and corrected by the source to an
    earlier one moved the replay clock back (the latest date of the current versions), so a
    signal known by the first clock was withdrawn and raised again at ``--until``: a second
    ``gesignaleerd`` for one identity in one replay (rules.md: never; and ``ingetrokken`` only
    when facts show a signal never existed). The clock is now the latest date of every
    version received: it never goes back."""
    wens = TimelineEvent(
        "o-1",
        "urn:wmo",
        "nl.wmo.onderzoeken.afgerond",
        date(2026, 1, 5),
        None,
        {"datum": date(2026, 1, 5), "werkwens": True, "arbeidspotentieel": "gedeeltelijk"},
    )
    toegewezen = TimelineEvent(
        "t-1",
        "urn:wmo",
        "nl.wmo.voorzieningen.toegewezen",
        date(2026, 1, 10),
        None,
        {
            "datum": date(2026, 1, 10),
            "toewijzing_nummer": "T1",
            "productcategorie": "02",
            "ingangsdatum": date(2026, 1, 10),
            "einddatum": None,
        },
    )
    wrong, right = (
        TimelineEvent(
            f"m-{n}",
            "urn:wmo",
            "nl.wmo.meldingen.ontvangen",
            day,
            None,
            {"datum": day},
            bronsleutel="melding-1",
            sequence=str(n),
        )
        for n, day in ((1, date(2026, 5, 1)), (2, date(2026, 2, 1)))
    )
    state = CitizenState(subject=SUBJECT)
    told = []
    for each in (wens, toegewezen, wrong, right):
        outcome = apply_event(state, StoredEvent(each, b""), RULES, today=None, history_limit=1000)
        told += [(c.kind, c.signal.regel) for c in outcome.changes]
    assert state.clock(None) == date(2026, 5, 1)  # not back to 2026-02-01
    told += [
        (c.kind, c.signal.regel) for c in advance_clock(state, UNTIL, RULES, today=None).changes
    ]
    assert told == [("gesignaleerd", "werkpotentieel-zonder-verwijzing")]
    assert definitive(state) == definitive(batched([wens, toegewezen, wrong, right]))


def test_an_id_equal_to_another_records_bronsleutel_is_a_record_of_its_own() -> None:
    """An event without ``bronsleutel`` is its own record, kept apart from every record a
    ``bronsleutel`` names — even one spelled like its ``id`` (review G, H2: without the
    ``id:``/``key:`` prefixes the first event was taken for a superseded version and
    vanished)."""
    own = TimelineEvent("R-1", "urn:pw", "nl.participatiewet.uitkeringen.toegekend", DAY0, None)
    version = TimelineEvent(
        "x-2",
        "urn:pw",
        "nl.participatiewet.aanvragen.afgewezen",
        DAY0 + timedelta(days=1),
        None,
        {"reden": "geen-recht"},
        bronsleutel="R-1",
        sequence="0001",
    )
    assert own.record != version.record
    assert [e.id for e in timeline_of([own, version])] == ["R-1", "x-2"]
    for state in (streamed([own, version]), batched([version, own])):
        assert sorted(e.id for e in state.timeline) == ["R-1", "x-2"]
