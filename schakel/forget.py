"""``schakel forget --bsn-file F``: the right to erasure (GDPR art. 17).

For every BSN in the file (one per line; the file never leaves this process): compute the
pseudonym, write tombstones for the key on every compacted topic (``schakel.tijdlijnen`` and
the worker table changelog) and, once the broker acknowledged them, tell the workers to erase
the citizen (a control record on ``schakel.klok``; the worker keeps an erasure marker, see
docs/operations.md). Events on the delete-retention event topics expire with their retention
(docs/operations.md)."""

from __future__ import annotations

import argparse
import codecs
import sys
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaProducer

from schakel import wiring
from schakel.cli import one_line
from schakel.topics import require_topics
from schemas import kafka_client
from schemas.binding import component_source, record_headers
from schemas.exceptions import InvalidBsn, PermanentError
from schemas.pseudonym import Pseudonymiser, mask_bsn
from schemas.serde import RecordSerializer
from schemas.settings import ForgetSettings
from schemas.wire import PER_CITIZEN_COMPACTED, VERGETEN_SCHEMA


def forget(settings: ForgetSettings, bsns: list[str], bootstrap: str) -> list[str]:
    """Forget the citizens; return their pseudonyms (for the operator's own records). Raises,
    before anything is written, :class:`~schakel.wiring.BrokerUnreachable` if Kafka does not
    answer (:func:`~schakel.wiring.reachable`) and :class:`~schakel.topics.MissingTopics` if
    a topic it writes to does not exist in the namespace (a mistyped ``SCHAKEL_NAMESPACE``:
    the records would go to topics no worker reads, which a broker that creates topics on
    demand would create uncompacted, and nothing would be erased)."""
    wiring.reachable(bootstrap)
    wire = settings.wire()
    klok = wire.klok
    compacted = [(wire.name(t), t.carries[0]) for t in PER_CITIZEN_COMPACTED]
    require_topics(
        bootstrap,
        wire,
        [*(topic for topic, _ in compacted), klok],
        consequence="nothing was forgotten",
    )
    registry = wiring.registry(settings)
    pseudonymise = wiring.pseudonymiser(settings, announce=False)
    del settings  # nothing else of it is needed below
    serializer = RecordSerializer(registry)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        **kafka_client.current().kafka_python(),
    )
    source = component_source("forget")
    subjects = []
    now = datetime.now(UTC).isoformat(timespec="seconds")
    keys = []
    for bsn in bsns:
        subject = pseudonymise(bsn)
        key = subject.encode("ascii")
        for topic, schema in compacted:
            tombstone = record_headers(
                schema, f"tombstone:{subject}", source=source, subject=subject
            )
            producer.send(topic, key=key, value=None, headers=tombstone)
        keys.append((subject, key))
    # The tombstones are acknowledged before any erasure record is sent: the worker answers an
    # erasure record with an erasure marker on the changelog, and a tombstone written after
    # that marker would wipe it at the next table rebuild (the citizen's backlog would return).
    producer.flush()
    for subject, key in keys:
        value = serializer.encode(klok, VERGETEN_SCHEMA, {"subject": subject, "tijd": now})
        headers = record_headers(VERGETEN_SCHEMA, value, source=source, subject=subject, time=now)
        producer.send(klok, key=key, value=value, headers=headers)
        subjects.append(subject)
    producer.flush()
    producer.close()
    return subjects


class BsnFileError(PermanentError):
    """The ``--bsn-file`` is not UTF-8 text; the message names the file, the line and the
    byte, never what the file holds (BSNs)."""


def read_bsn_file(path: Path, pseudonymise: Pseudonymiser) -> list[str]:
    """The BSNs of ``path``: UTF-8 text, one BSN per line; a UTF-8 byte order mark at the
    start (Excel and Notepad write one) is skipped, and so are blank lines and lines starting
    with ``#``. Lines end at ``\n``, ``\r\n`` or ``\r``.

    Raises :class:`BsnFileError` for a line that is not UTF-8 and
    :class:`~schemas.exceptions.InvalidBsn` for a line that is no BSN, each naming
    ``<file>:<line>`` and never the content — the file's name with every number that could be
    a BSN masked (:func:`~schemas.pseudonym.mask_bsn`: a file may be named after the citizen);
    :class:`OSError` if the file cannot be read."""
    data = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    name = mask_bsn(path.name)
    bsns = []
    for number, raw in enumerate(data.splitlines(), 1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise BsnFileError(
                f"{name}:{number}: byte {exc.start + 1} of the line is not UTF-8; "
                "save the file as UTF-8 text"
            ) from None
        if not line or line.startswith("#"):
            continue
        pseudonymise(line, field=f"{name}:{number}")
        bsns.append(line)
    return bsns


def run(args: argparse.Namespace, settings: ForgetSettings) -> int:
    """Forget the citizens of ``--bsn-file`` (:func:`read_bsn_file`); ``settings`` hold the
    key of the running pipeline (:class:`ForgetSettings` refuses to load without one). A file
    that is not UTF-8 or holds a line that is no BSN: one line naming the file and line on
    stderr, exit 2, nothing forgotten, no BSN printed (not in the file's name either: every
    line this command prints is masked, :func:`~schakel.cli.one_line`)."""
    pseudonymise = wiring.pseudonymiser(settings, announce=False)
    try:
        bsns = read_bsn_file(Path(args.bsn_file), pseudonymise)
    except (BsnFileError, InvalidBsn) as exc:
        print(f"schakel forget: {one_line(exc)}", file=sys.stderr)
        return 2
    subjects = forget(settings, bsns, wiring.bootstrap(settings))
    print(f"schakel forget: {len(subjects)} burger(s) vergeten; tombstones geschreven")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bsn-file", required=True, help="file with one BSN per line")
