"""Review (ingest): the worker is a boundary too — any system may write to the event topics and
to ``schakel.klok`` — so every record it reads ends accepted or dead-lettered with a stage and a
reason: never a crash of the worker or of a batch run, never a BSN in an output (keys, values,
headers), and the worker and the batch path dead-letter the same records alike.

Items: (1) an erasure or clock tick whose subject is no pseudonym; (2) a tombstone (``null``
value); (3) ``time`` not RFC 3339 with an offset, or beyond what UTC holds; (4) the envelope and
identifier rules of the adapters (``schemas.envelope.validate_input``); (5) ``type`` not the
record's Avro schema; (6) no value of the record echoed in an error message.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from schemas.envelope import Event, validate_input
from schemas.pseudonym import Pseudonymiser, holds_bsn
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import (
    DEFAULT_WIRE,
    HEADER_SOURCE_OMITTED,
    HEADER_SOURCE_WITHHELD,
    VERGETEN_SCHEMA,
    WITHHELD_BSN,
    WITHHELD_PERSONAL_DATA,
)
from streams.batch_decode import FastIngest
from streams.ingest import IngestError, decode_event, withheld_as
from streams.processor import Message

from .records import BatchIngest, Worker, early_warning, message, raw

BSN = "123456782"
SPELLINGS = (BSN, "1234 56 782", "1234\t56\t782", "1234\xa056\xa0782", "１２３４５６７８２")
"""Ways a BSN is written: each one :func:`~schemas.pseudonym.holds_bsn` finds."""
REGISTRY = LocalRegistry()
SERIALIZER = RecordSerializer(REGISTRY)
CASUS = validate_input(
    raw(
        "wt-1",
        "nl.wijkteams.casussen.geopend",
        datum="2026-01-10",
        casus_id="C-1",
    )
    | {"time": "2026-01-10T09:30:00+01:00"},
    Pseudonymiser("k"),
)
TOPIC = DEFAULT_WIRE.topic_for(CASUS.type)
SUBJECT = str(CASUS.subject)


def _payload(event: Event, schema: str | None = None) -> bytes:
    return SERIALIZER.encode(TOPIC, schema or event.type, event.to_record())


def _changed(**changes: Any) -> bytes:
    return _payload(dataclasses.replace(CASUS, **changes))


def _refusal(payload: bytes | None, topic: str = TOPIC) -> IngestError:
    """What both decoders raise for ``payload`` (the same: stage, reason, message)."""
    with pytest.raises(IngestError) as reference:
        decode_event(RecordDeserializer(REGISTRY), payload, topic, DEFAULT_WIRE)
    with pytest.raises(IngestError) as fast:
        FastIngest(RecordDeserializer(REGISTRY), DEFAULT_WIRE).decode(payload, topic)
    got = (fast.value.stage, fast.value.reason, str(fast.value), fast.value.withhold)
    ref = reference.value
    assert got == (ref.stage, ref.reason, str(ref), ref.withhold)
    return ref


def _outputs(*sinks: Any) -> list[bytes]:
    """Every key, value and header value the sinks were given."""
    out: list[bytes] = []
    for sink in sinks:
        for sent in sink.sent:
            out += [sent.get("key") or b"", sent.get("value") or b""]
            out += [value or b"" for _, value in sent.get("headers") or ()]
    return out


def _no_bsn_in(outputs: list[bytes]) -> None:
    for output in outputs:
        text = output.decode("utf-8", "replace")
        assert not holds_bsn(text), text[:200]


def _worker_and_batch(record: Message) -> tuple[Worker, BatchIngest]:
    """``record`` read by a worker and by the batch path (its ingest and finish)."""
    worker = Worker(registry=REGISTRY)
    asyncio.run(worker.handle(record))
    batch = BatchIngest(registry=REGISTRY)
    batch.ingest(record)
    batch.finish()
    return worker, batch


_FAULTS: dict[str, tuple[bytes | None, str, str]] = {
    "tombstone": (None, "decode", "Tombstone"),
    "time-without-offset": (_changed(time="2026-01-10T09:30:00"), "validate", "bad-time"),
    "time-date-only": (_changed(time="2026-01-10"), "validate", "bad-time"),
    "time-basic-format": (_changed(time="20260110T093000+0100"), "validate", "bad-time"),
    "time-week-date": (_changed(time="2026-W02-6"), "validate", "bad-time"),
    "time-year-1": (_changed(time="0001-01-01"), "validate", "bad-time"),
    "time-year-0-in-utc": (_changed(time="0001-01-01T00:00:00+14:00"), "validate", "bad-time"),
    "time-year-10000-in-utc": (_changed(time="9999-12-31T23:59:59-23:59"), "validate", "bad-time"),
    "specversion": (_changed(specversion="0.3"), "validate", "bad-version"),
    "empty-id": (_changed(id=""), "validate", "bad-type"),
    "blank-source": (_changed(source="  "), "validate", "bad-type"),
    "huge-id": (_changed(id="x" * 900_000), "validate", "too-large"),
    "control-character-in-id": (_changed(id="wt\n1"), "validate", "bad-type"),
    "long-casus-id": (
        _changed(data={**CASUS.data, "casus_id": "C" * 257}),
        "validate",
        "too-large",
    ),
    "empty-sequence": (_changed(bronsleutel="rec-1", sequence=""), "validate", "bad-type"),
    "type-not-the-schema": (
        _payload(
            dataclasses.replace(CASUS, type="nl.wmo.meldingen.ontvangen"),
            "nl.wijkteams.casussen.geopend",
        ),
        "validate",
        "wrong-type",
    ),
}
_PERSONAL: dict[str, bytes] = {
    **{f"id-{i}": _changed(id=f"ev-{s}") for i, s in enumerate(SPELLINGS)},
    "source": _changed(source=f"urn:bron:{BSN}"),
    "time-fraction": _changed(time=f"2026-01-10T09:30:00.{BSN}+01:00"),
    "bronsleutel": _changed(bronsleutel=f"dossier {BSN}", sequence="1"),
    "sequence": _changed(bronsleutel="rec-1", sequence=BSN),
    "dataschema": _changed(dataschema=f"urn:schema:{BSN}"),
    "casus-id": _changed(data={**CASUS.data, "casus_id": f"casus {BSN}"}),
}
"""Records holding a possible BSN where none may be (an adapter refuses each one)."""


@pytest.mark.parametrize("name", list(_FAULTS))
def test_both_paths_dead_letter_a_bad_record_alike_and_neither_crashes(name: str) -> None:
    payload, stage, reason = _FAULTS[name]
    refused = _refusal(payload)
    assert (refused.stage, refused.reason) == (stage, reason)
    worker, batch = _worker_and_batch(Message(TOPIC, 0, 5, b"k", payload, [], 1))  # type: ignore[arg-type]
    assert worker.metrics.deadlettered.labels(stage, reason)._value.get() == 1
    assert not worker.table and not worker.snapshots.sent
    assert (batch.stats.deadlettered, batch.stats.accepted, batch.states) == (1, 0, {})
    (letter,) = worker.deadletters.sent
    (batched,) = batch.producer.sent
    same = (
        "schakel.fase",
        "schakel.fout.klasse",
        "schakel.fout.reden",
        "schakel.fout.melding",
        "schakel.bron.offset",
    )
    assert [(n, v) for n, v in letter["headers"] if n in same] == [
        (n, v) for n, v in batched["headers"] if n in same
    ]
    assert dict(letter["headers"])["schakel.fase"] == stage.encode()
    # the refusal's code, as the metric's label: the class alone says IngestError for all
    assert dict(letter["headers"])["schakel.fout.reden"] == reason.encode()


@pytest.mark.parametrize("name", list(_PERSONAL))
def test_a_bsn_where_none_may_be_is_refused_and_reaches_no_output(name: str) -> None:
    """Item 4: ``id="ev-123456782"`` and ``casus_id="casus 123456782"`` were accepted and the
    BSN published in the timeline snapshot. Refused now (``bsn-in-identifier``), and the dead
    letter keeps nothing of the record (its size and place only)."""
    payload = _PERSONAL[name]
    refused = _refusal(payload)
    # a tab is a control character: refused for that first, as an adapter refuses it
    reason = "bad-type" if name == "id-2" else "bsn-in-identifier"
    assert (refused.stage, refused.reason, refused.withhold) == ("validate", reason, WITHHELD_BSN)
    worker, batch = _worker_and_batch(Message(TOPIC, 0, 5, b"k", payload, [("h", b"v")], 1))
    _no_bsn_in(_outputs(worker.deadletters, worker.snapshots, worker.signals, batch.producer))
    assert not worker.table and (batch.stats.deadlettered, batch.states) == (1, {})
    for letter in (*worker.deadletters.sent, *batch.producer.sent):
        assert letter["value"] == b"" and letter["key"] is None  # nothing of it
        assert dict(letter["headers"])[HEADER_SOURCE_OMITTED] == str(len(payload)).encode()


def test_a_good_record_with_every_attribute_is_accepted_by_both_paths() -> None:
    payload = _changed(
        bronsleutel="rec-1", sequence="0001", datacontenttype="application/json", dataschema="x"
    )
    worker, batch = _worker_and_batch(Message(TOPIC, 0, 5, b"k", payload, [], 1))
    assert list(worker.table) == [CASUS.subject] and not worker.deadletters.sent
    assert batch.stats.accepted == 1 and not batch.stats.deadlettered


@pytest.mark.parametrize("subject", [BSN, "1234 56 782", "é", "", SUBJECT.upper()])
def test_an_event_whose_subject_is_no_pseudonym_is_dead_lettered_without_a_bsn(
    subject: str,
) -> None:
    payload = _changed(subject=subject)
    refused = _refusal(payload)
    assert (refused.stage, refused.reason, refused.withhold) == (
        "validate",
        "bad-subject",
        WITHHELD_BSN if holds_bsn(subject) else None,
    )
    worker, batch = _worker_and_batch(Message(TOPIC, 0, 5, None, payload, [], 1))
    _no_bsn_in(_outputs(worker.deadletters, worker.snapshots, batch.producer))


def test_a_type_holding_a_bsn_is_not_echoed_in_the_error_message() -> None:
    """Item 6: the message echoed the type with ``repr``, which turns a tab into ``\\t``
    before the masking of the dead letter's header: ``1234\\t56\\t782`` passed unmasked."""
    for spelling in SPELLINGS:
        changed = dataclasses.replace(CASUS, type=f"x {spelling}")
        payload = _payload(changed, CASUS.type)
        refused = _refusal(payload)
        assert refused.reason == "wrong-type" and refused.withhold
        assert "x " not in str(refused) and "56" not in str(refused)
        worker = Worker(registry=REGISTRY)
        asyncio.run(worker.handle(Message(TOPIC, 0, 1, None, payload, [], 1)))
        _no_bsn_in(_outputs(worker.deadletters))


# --- schakel.klok -------------------------------------------------------------------------


def _klok(schema: str, record: dict[str, Any], offset: int = 1) -> Message:
    value = SERIALIZER.encode(DEFAULT_WIRE.klok, schema, record)
    return Message(DEFAULT_WIRE.klok, 0, offset, None, value, [], 1_700_000_000_000)


def _tick(tot: date, partition: int, offset: int) -> Message:
    value = SERIALIZER.encode(
        DEFAULT_WIRE.klok,
        "nl.schakel.intern.klok",
        {"subject": None, "tot": tot, "modus": "replay"},
    )
    return Message(DEFAULT_WIRE.klok, partition, offset, None, value, [], 1)


@pytest.mark.parametrize("subject", ["é", BSN, "1234\t56\t782", "", "ABC"])
def test_an_erasure_whose_subject_is_no_pseudonym_is_dead_lettered(subject: str) -> None:
    """Item 1: the subject was stored as a table key: a non-ASCII one made every broadcast
    tick fail (the partitioner encodes keys as ASCII) — the live clock stopped for everyone,
    after restarts too —, and a BSN became a key on the changelog and timeline topics."""
    worker = Worker(registry=REGISTRY)
    asyncio.run(worker.handle(message(early_warning("2026-01-01"), 1)))
    citizens = list(worker.table)
    before = len(worker.snapshots.sent)
    asyncio.run(worker.handle(_klok(VERGETEN_SCHEMA, {"subject": subject, "tijd": "x"})))
    assert list(worker.table) == citizens and len(worker.snapshots.sent) == before
    assert worker.metrics.deadlettered.labels("validate", "bad-subject")._value.get() == 1
    assert worker.metrics.forgotten._value.get() == 0
    _no_bsn_in(_outputs(worker.deadletters, worker.snapshots))
    for partition in range(4):  # the clock goes on: the early warning opens its signal
        asyncio.run(worker.handle(_tick(date(2026, 6, 1), partition, 10 + partition)))
    assert len(worker.deadletters.sent) == 1 and worker.signals.sent


def test_a_clock_tick_whose_subject_is_no_pseudonym_is_dead_lettered() -> None:
    worker = Worker(registry=REGISTRY)
    for subject in ("é", BSN):
        tick = _klok(
            "nl.schakel.intern.klok", {"subject": subject, "tot": date(2026, 6, 1), "modus": "live"}
        )
        asyncio.run(worker.handle(tick))
    assert worker.metrics.deadlettered.labels("validate", "bad-subject")._value.get() == 2
    _no_bsn_in(_outputs(worker.deadletters))


def test_a_broadcast_tick_skips_a_table_key_that_is_no_pseudonym() -> None:
    """A table written before the fix may hold an erasure's bad subject as a key: the clock
    goes on for the citizens of the partition."""
    worker = Worker(registry=REGISTRY)
    asyncio.run(worker.handle(message(early_warning("2026-01-01"), 1)))
    worker.table["é"] = next(iter(worker.table.values()))
    for partition in range(4):
        asyncio.run(worker.handle(_tick(date(2026, 6, 1), partition, 10 + partition)))
    assert not worker.deadletters.sent and worker.signals.sent


def test_a_tombstone_on_the_clock_topic_is_a_decode_dead_letter() -> None:
    worker = Worker(registry=REGISTRY)
    asyncio.run(worker.handle(Message(DEFAULT_WIRE.klok, 0, 1, None, None, [], 1)))  # type: ignore[arg-type]
    assert worker.metrics.deadlettered.labels("decode", "Tombstone")._value.get() == 1


class _Reader:
    def __init__(self, *values: bytes | None) -> None:
        self.values = values

    def read(self, spans: Any) -> Any:
        yield [
            SimpleNamespace(
                topic=DEFAULT_WIRE.klok, partition=0, offset=i, key=None, value=v, timestamp=i
            )
            for i, v in enumerate(self.values)
        ]


def test_the_batch_path_skips_an_erasure_whose_subject_is_no_pseudonym() -> None:
    """Item 1, batch path: the run crashed (``UnicodeEncodeError``). It skips the record now,
    as it skips every klok record the worker refuses; the worker dead-letters it (the klok
    offsets are not committed by a batch run)."""
    good = _klok(VERGETEN_SCHEMA, {"subject": CASUS.subject, "tijd": "x"}).value
    bad = [_klok(VERGETEN_SCHEMA, {"subject": s, "tijd": "x"}).value for s in ("é", BSN, "")]
    erasures = BatchIngest(registry=REGISTRY).rebuild._erasures(
        _Reader(*bad, None, good),  # type: ignore[arg-type]  # what _erasures reads of it
        [],
    )
    assert [subject for found in erasures.values() for subject, _ in found] == [CASUS.subject]


# --- a record refused before its fields were checked --------------------------------------


def _withheld(worker: Worker) -> dict[str, bytes]:
    (letter,) = worker.deadletters.sent
    assert letter["key"] is None and letter["value"] == b""  # nothing of it
    headers = dict(letter["headers"])
    assert headers[HEADER_SOURCE_WITHHELD] == WITHHELD_BSN
    return headers


def test_an_event_with_a_bsn_on_the_clock_topic_is_withheld() -> None:
    """A review found it copied whole: refused as ``wrong-type`` on ``schakel.klok`` before
    the check that withholds a record holding a possible BSN."""
    bad = dataclasses.replace(CASUS, data={**CASUS.data, "casus_id": f"C-{BSN}"})
    value = SERIALIZER.encode(DEFAULT_WIRE.klok, bad.type, bad.to_record())
    worker = Worker(registry=REGISTRY)
    asyncio.run(worker.handle(Message(DEFAULT_WIRE.klok, 0, 5, None, value, [], 1)))
    assert _withheld(worker)["schakel.fase"] == b"validate"
    _no_bsn_in(_outputs(worker.deadletters))


def test_an_erasure_with_a_bsn_on_an_event_topic_is_withheld() -> None:
    """Refused at ``decode`` (an erasure is no CloudEvent): its subject was copied."""
    value = SERIALIZER.encode(TOPIC, VERGETEN_SCHEMA, {"subject": BSN, "tijd": "x"})
    worker = Worker(registry=REGISTRY)
    asyncio.run(worker.handle(Message(TOPIC, 0, 6, None, value, [], 1)))
    assert _withheld(worker)["schakel.fase"] == b"decode"
    _no_bsn_in(_outputs(worker.deadletters))


def test_a_record_with_a_bsn_only_in_a_header_is_withheld() -> None:
    worker = Worker(registry=REGISTRY)
    record = Message(TOPIC, 0, 7, None, b"\x00x", [("herkomst", f"bsn {BSN}".encode())], 1)
    asyncio.run(worker.handle(record))
    _withheld(worker)
    _no_bsn_in(_outputs(worker.deadletters))


@pytest.mark.parametrize(
    ("key", "value", "headers"),
    [
        (b"klant/j.jansen@example.nl", b"\x00x", []),  # an e-mail address in the key
        (None, b"\x00\x02iban NL91ABNA0417164300\x00", []),  # an IBAN in an Avro string
        (None, b"\x00x", [("herkomst", b"mail j.jansen@example.nl")]),  # in a header
    ],
)
def test_a_record_with_personal_data_refused_before_its_fields_is_withheld(
    key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
) -> None:
    """A review found it copied whole: a record that does not decode was withheld only when it
    held a possible BSN, not an e-mail address or IBAN, which a decoded record's identifiers
    are withheld for (``withheld_as``)."""
    worker = Worker(registry=REGISTRY)
    asyncio.run(worker.handle(Message(TOPIC, 0, 9, key, value, headers, 1)))
    (letter,) = worker.deadletters.sent
    assert letter["key"] is None and letter["value"] == b""  # nothing of it
    kept = dict(letter["headers"])
    assert kept[HEADER_SOURCE_WITHHELD] == WITHHELD_PERSONAL_DATA
    assert "herkomst" not in kept
    assert not any(b"example.nl" in v or b"ABNA" in v for v in kept.values())


def test_a_decoded_record_from_a_mailto_source_is_copied_not_withheld() -> None:
    """A review of the change above: the scan for an e-mail address ran over every refused
    record, and a decoded one from a functional mailbox (``mailto:`` source, which adapters
    accept) lost its content and could not be replayed. A record that decoded is withheld for
    personal data only in its identifiers (``withheld_as``)."""
    value = _changed(source="mailto:wijkteam-noord@gemeente.nl", time="2026-01-10")
    worker = Worker(registry=REGISTRY)
    asyncio.run(worker.handle(Message(TOPIC, 0, 10, None, value, [], 1)))
    (letter,) = worker.deadletters.sent
    assert dict(letter["headers"])["schakel.fase"] == b"validate"
    assert letter["value"] == value
    assert HEADER_SOURCE_WITHHELD not in dict(letter["headers"])


def test_a_dead_letter_refused_for_another_reason_is_still_copied() -> None:
    worker = Worker(registry=REGISTRY)
    asyncio.run(worker.handle(Message(TOPIC, 0, 8, b"k", b"\x00garbage", [], 1)))
    (letter,) = worker.deadletters.sent
    assert letter["value"] == b"\x00garbage" and letter["key"] == b"k"
    assert HEADER_SOURCE_WITHHELD not in dict(letter["headers"])


# --- an e-mail address or an IBAN in an identifier ----------------------------------------

EMAIL_ADDRESS = "j.jansen@example.nl"
ACCOUNT = "NL91 ABNA 0417 1643 00"
_PERSONAL_DATA: dict[str, bytes] = {
    "id": _changed(id=f"melding-{EMAIL_ADDRESS}"),
    "bronsleutel": _changed(bronsleutel=f"klant/{EMAIL_ADDRESS}", sequence="1"),
    "sequence": _changed(bronsleutel="rec-1", sequence=ACCOUNT),
    "casus-id": _changed(data={**CASUS.data, "casus_id": f"schuld {ACCOUNT}"}),
}
"""Records a producer other than an adapter wrote with personal data in an identifier (an
adapter refuses each one: ``personal-data-in-identifier``)."""


@pytest.mark.parametrize("name", list(_PERSONAL_DATA))
def test_personal_data_in_an_identifier_is_dead_lettered_and_withheld_by_both_paths(
    name: str,
) -> None:
    """The worker and the batch path refuse such a record as an adapter would, and its dead
    letter keeps nothing of it: the header says ``persoonsgegevens`` (not ``mogelijk-bsn``)."""
    payload = _PERSONAL_DATA[name]
    refused = _refusal(payload)
    assert (refused.stage, refused.reason, refused.withhold) == (
        "validate",
        "personal-data-in-identifier",
        WITHHELD_PERSONAL_DATA,
    )
    worker, batch = _worker_and_batch(Message(TOPIC, 0, 5, b"k", payload, [("h", b"v")], 1))
    assert not worker.table and (batch.stats.deadlettered, batch.states) == (1, {})
    for letter in (*worker.deadletters.sent, *batch.producer.sent):
        assert letter["value"] == b"" and letter["key"] is None  # nothing of it
        headers = dict(letter["headers"])
        assert headers[HEADER_SOURCE_WITHHELD] == WITHHELD_PERSONAL_DATA
        text = b" ".join(value or b"" for value in headers.values()).lower()
        assert b"jansen" not in text and b"abna" not in text


def test_a_bsn_and_an_email_address_are_withheld_as_a_possible_bsn() -> None:
    payload = _changed(id=f"ev-{BSN}", data={**CASUS.data, "casus_id": EMAIL_ADDRESS})
    assert _refusal(payload).withhold == WITHHELD_BSN


def test_a_bsn_in_data_after_personal_data_in_data_is_withheld_as_a_possible_bsn() -> None:
    """The data is walked for a possible BSN first: the header says ``mogelijk-bsn`` whatever
    field order put an e-mail address before it."""
    record = {"id": "ev-1", "data": {"casus_id": EMAIL_ADDRESS, "kenmerk": f"x {BSN}"}}
    assert withheld_as(record) == WITHHELD_BSN
    assert (
        withheld_as({"id": "ev-1", "data": {"casus_id": EMAIL_ADDRESS}}) == WITHHELD_PERSONAL_DATA
    )
    assert withheld_as({"id": "ev-1", "data": {"casus_id": "C-1"}}) is None


def _on_klok(event: Event) -> Message:
    value = SERIALIZER.encode(DEFAULT_WIRE.klok, event.type, event.to_record())
    return Message(DEFAULT_WIRE.klok, 0, 5, None, value, [], 1)


_DECODED_WITH_PERSONAL_DATA: dict[str, Message] = {
    "event-on-klok-email-casus-id": _on_klok(
        dataclasses.replace(CASUS, data={**CASUS.data, "casus_id": EMAIL_ADDRESS})
    ),
    "event-on-klok-iban-bronsleutel": _on_klok(
        dataclasses.replace(CASUS, bronsleutel="NL91ABNA0417164300", sequence="1")
    ),
    "erasure-email-subject": _klok(VERGETEN_SCHEMA, {"subject": EMAIL_ADDRESS, "tijd": "x"}),
    "email-in-key": Message(
        TOPIC, 0, 9, f"klant/{EMAIL_ADDRESS}".encode(), _changed(time="2026-01-10"), [], 1
    ),
    "email-in-header": Message(
        TOPIC,
        0,
        9,
        None,
        _changed(time="2026-01-10"),
        [("herkomst", f"mail {EMAIL_ADDRESS}".encode())],
        1,
    ),
    "email-subject": Message(TOPIC, 0, 11, None, _changed(subject=EMAIL_ADDRESS), [], 1),
    "iban-subject": Message(TOPIC, 0, 11, None, _changed(subject="NL91ABNA0417164300"), [], 1),
}
"""Records that decode and are refused, holding an e-mail address or IBAN where a review of
the change below found them copied into the dead letter (the first version asked a decoded
record's identifiers only)."""


@pytest.mark.parametrize("name", list(_DECODED_WITH_PERSONAL_DATA))
def test_a_decoded_record_with_personal_data_outside_its_identifiers_is_withheld(
    name: str,
) -> None:
    worker = Worker(registry=REGISTRY)
    asyncio.run(worker.handle(_DECODED_WITH_PERSONAL_DATA[name]))
    (letter,) = worker.deadletters.sent
    headers = dict(letter["headers"])
    assert headers[HEADER_SOURCE_WITHHELD] == WITHHELD_PERSONAL_DATA
    kept = (letter["key"] or b"") + (letter["value"] or b"") + b"".join(headers.values())
    assert b"jansen" not in kept and b"ABNA" not in kept
