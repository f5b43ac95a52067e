"""Avro encodings of worker state (table changelog) and of the published timeline snapshot.

State (``nl.schakel.intern.toestand``) keeps every accepted event as the exact wire bytes it
arrived as, so a restored state is identical to the lost one. The snapshot
(``nl.schakel.intern.tijdlijn``, compacted topic ``schakel.tijdlijnen``) is the read model for
downstream consumers and the API: events with display fields, derived state, signals."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from schemas.envelope import jsonable
from schemas.exceptions import SerdeError
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import domain_of
from streams.exceptions import StateDecodeError
from streams.ingest import IngestError, to_timeline_event
from streams.model import TimelineEvent
from streams.signals import EmittedSignal
from streams.state import CitizenState, StoredEvent
from streams.toestand import Period

STATE_SCHEMA = "nl.schakel.intern.toestand"
SNAPSHOT_SCHEMA = "nl.schakel.intern.tijdlijn"


def _signal_record(sig: EmittedSignal) -> dict[str, Any]:
    return {
        "regel": sig.regel,
        "sleutel": sig.sleutel,
        "sinds": sig.sinds,
        "termijn": sig.termijn,
        "status": sig.status,
        "opgelost_op": sig.opgelost_op,
        "ingetrokken_op": sig.ingetrokken_op,
        "bewijs": list(sig.bewijs),
        "uitleg": sig.uitleg,
        "reden": sig.reden,
    }


def signal_from_record(rec: Mapping[str, Any]) -> EmittedSignal:
    return EmittedSignal(
        regel=rec["regel"],
        sleutel=rec["sleutel"],
        sinds=rec["sinds"],
        termijn=rec["termijn"],
        status=rec["status"],
        opgelost_op=rec["opgelost_op"],
        ingetrokken_op=rec["ingetrokken_op"],
        bewijs=tuple(rec["bewijs"]),
        uitleg=rec["uitleg"],
        reden=rec["reden"],
    )


class StateCodec:
    """Encodes/decodes :class:`CitizenState` for the table changelog."""

    def __init__(
        self, serializer: RecordSerializer, deserializer: RecordDeserializer, topic: str
    ) -> None:
        self._serializer = serializer
        self._deserializer = deserializer
        self._topic = topic

    def encode(self, state: CitizenState) -> bytes:
        record = {
            "subject": state.subject,
            "klok": state.klok,
            "events": [s.payload for s in state.events],
            "signalen": [_signal_record(s) for s in state.signalen.values()],
            "revisies": dict(state.revisies),
            "uitvoer": [{"aanleiding": k, "events": v} for k, v in state.uitvoer.items()],
            "vergeten_tot": state.vergeten_tot,
        }
        return self._serializer.encode(self._topic, STATE_SCHEMA, record)

    def _event(self, raw: bytes) -> TimelineEvent:
        return to_timeline_event(self._deserializer(raw))

    def decode(
        self, payload: bytes, event: Callable[[bytes], TimelineEvent] | None = None
    ) -> CitizenState:
        """The state in a changelog record, its stored events read by ``event`` (default:
        ``to_timeline_event(deserializer(raw))``; the batch path passes
        :meth:`~streams.batch_decode.FastIngest.event`, which gives the same). Raises a
        :class:`~schemas.exceptions.SerdeError` for bytes that do not decode and
        :class:`~streams.exceptions.StateDecodeError` for a record of another schema or a
        stored event that gives no timeline event."""
        name, record = self._deserializer.decode(payload)
        if name != STATE_SCHEMA:
            raise StateDecodeError(f"changelog record is {name}, expected {STATE_SCHEMA}")
        read = event or self._event
        try:
            events = [StoredEvent(read(raw), raw) for raw in record["events"]]
        except (SerdeError, IngestError) as exc:
            raise StateDecodeError(f"a stored event of the state does not decode: {exc}") from exc
        signals = [signal_from_record(r) for r in record["signalen"]]
        return CitizenState(
            subject=record["subject"],
            events=events,
            klok=record["klok"],
            signalen={(s.regel, s.sleutel): s for s in signals},
            revisies=dict(record["revisies"]),
            uitvoer={u["aanleiding"]: list(u["events"]) for u in record["uitvoer"]},
            vergeten_tot=record.get("vergeten_tot"),
        )


def _display(value: Any) -> str:
    if type(value) is str:  # most data fields: as jsonable would give it
        return value
    value = jsonable(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def snapshot_record(state: CitizenState, clock: date | None) -> dict[str, Any]:
    """The timeline snapshot of one citizen (``nl.schakel.intern.tijdlijn``)."""
    return {
        "subject": state.subject,
        "klok": clock or date.min,
        "events": [
            {
                "id": e.id,
                "source": e.source,
                "type": e.type,
                "domein": domain_of(e.type),
                "datum": e.datum,
                "time": e.time.isoformat() if e.time else None,
                "velden": {
                    k: _display(v) for k, v in e.data.items() if v is not None and k != "datum"
                },
            }
            for e in state.timeline
        ],
        "signalen": [_signal_record(s) for s in state.signalen.values()],
    }


def timeline_json(
    state: CitizenState, clock: date | None, periods: Iterable[Period]
) -> dict[str, Any]:
    """The JSON of the timeline endpoint, from the worker's own state: the snapshot's shape,
    with the data fields as their JSON values and the derived state periods."""
    answer = snapshot_json(snapshot_record(state, clock), periods)
    for row, event in zip(answer["tijdlijn"], state.timeline, strict=True):
        row["data"] = {
            k: jsonable(v) for k, v in event.data.items() if v is not None and k != "datum"
        }
    return answer


def snapshot_json(record: Mapping[str, Any], periods: Iterable[Period] = ()) -> dict[str, Any]:
    """A snapshot (as published on ``schakel.tijdlijnen``, data fields as display text) in the
    JSON shape of the timeline endpoint, with the derived state periods if given."""
    signals = [signal_from_record(r) for r in record["signalen"]]
    subject = record["subject"]
    return {
        "subject": subject,
        "klok": record["klok"].isoformat() if record["klok"] != date.min else None,
        "tijdlijn": [
            {
                "id": e["id"],
                "source": e["source"],
                "type": e["type"],
                "domein": e["domein"],
                "datum": e["datum"].isoformat(),
                "time": e["time"],
                "data": e["velden"],
            }
            for e in record["events"]
        ],
        "toestand": [
            {
                "naam": naam,
                "sleutel": sleutel,
                "van": van.isoformat(),
                "tot": tot.isoformat() if tot else None,
            }
            for naam, sleutel, van, tot in periods
        ],
        "signalen": [s.to_json(subject) for s in signals if s.status == "open"],
        "alle_signalen": [s.to_json(subject) for s in signals],
    }
