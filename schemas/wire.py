"""The wire map: everything Schakel puts on Kafka, declared once.

Every topic (:class:`TopicSpec`: partitions, cleanup policy, retention, key and value serde
and the schemas it carries), the worker's consumer group and table changelog, and the header
names of the streams dead-letter topic. Adapters, stream workers, the CLI, ``deploy/``,
benchmarks and tests import these declarations instead of repeating names.

**Naming rule.** A :class:`Wire` is the wire of one *namespace* (setting
``SCHAKEL_NAMESPACE``). Every name below is the name in the default namespace (empty: the
names of ``events.md``, e.g. ``schakel.wmo.events``); in namespace ``N`` every topic, the
changelog and the consumer group are called ``N.<default name>`` (``N.schakel.wmo.events``,
``N.schakel-worker``). Names are computed by :meth:`Wire.name` and nowhere else. Two
namespaces share no topic and no group, so several municipalities can share one cluster and a
replay in a fresh namespace touches nothing of a running deployment.

**Partitions and replication.** Co-partitioned topics (keyed by pseudonym, read together by
the workers) get ``SCHAKEL_PARTITIONS`` partitions; the others one (read whole by every
reader). Every topic is created with ``SCHAKEL_REPLICATION_FACTOR`` replicas and
``min.insync.replicas`` from :func:`min_insync_replicas`.

**Retention.** ``retention_ms=None`` on a ``delete`` topic means the broker's
``log.retention.*``: the municipality's retention policy (deploy/README.md "Retention").
Compacted topics keep the latest value per key until a tombstone (``schakel forget``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from schemas.exceptions import SettingsError
from schemas.pseudonym import holds_bsn, mask_bsn

KeySerde = Literal["pseudonym", "none", "text"]
ValueSerde = Literal["avro", "raw"]
Cleanup = Literal["delete", "compact"]

GROUP = "schakel-worker"
"""Consumer group of the stream workers, also their Faust app id (default namespace). Faust
creates one topic of its own from it, ``<group>-__assignor-__leader``, so that one is in the
namespace too."""
TABLE = "burgers"
"""The workers' table: pseudonym → state (``nl.schakel.intern.toestand``)."""

NAMESPACE_PATTERN = r"^([a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?)?$"
"""A namespace: empty (the default), or 1–40 lowercase letters, digits and inner hyphens. No
``.`` (the separator) and no ``_`` (Kafka refuses topic names that differ only in ``.``/``_``)."""
_NAMESPACE = re.compile(NAMESPACE_PATTERN)


@dataclass(frozen=True)
class TopicSpec:
    """One topic, by its name in the default namespace.

    ``carries`` lists the catalogue schemas (``.avsc`` record names) written to the topic:
    full names, or a family ``prefix.*``. Empty for a topic of raw copies (the streams
    dead letters keep the bytes that could not be processed, with :data:`DEADLETTER_HEADERS`).
    """

    name: str
    carries: tuple[str, ...]
    cleanup_policy: Cleanup = "delete"
    key: KeySerde = "pseudonym"
    value: ValueSerde = "avro"
    co_partitioned: bool = True
    retention_ms: int | None = None
    doc: str = ""

    def partitions(self, configured: int) -> int:
        """The partition count: ``configured`` (``SCHAKEL_PARTITIONS``) if co-partitioned,
        else 1."""
        return configured if self.co_partitioned else 1

    def configs(self, replication_factor: int) -> dict[str, str]:
        """Topic configuration to create the topic with."""
        configs = {
            "cleanup.policy": self.cleanup_policy,
            "min.insync.replicas": str(min_insync_replicas(replication_factor)),
        }
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        return configs

    def carries_schema(self, record_name: str) -> bool:
        """Whether records of schema ``record_name`` travel on this topic."""
        return any(
            record_name.startswith(c[:-1]) if c.endswith(".*") else record_name == c
            for c in self.carries
        )


def min_insync_replicas(replication_factor: int) -> int:
    """2 from three replicas on (a write survives one broker down and is on two), else 1."""
    return 2 if replication_factor >= 3 else 1


VERWIJDERD = "nl.schakel.bron.verwijderd"
"""A source withdrew a record (``events.md``, "Corrections and deletions"). The one schema
carried by more than one topic: it travels on the event topic of the domain of the record it
withdraws (every event topic carries it), so that a topic still holds everything its domain's
sources said, and a consumer of one domain sees the withdrawals of that domain. All event
topics are co-partitioned and keyed by pseudonym, so the withdrawal reaches the same worker
as the record whichever topic it is on. :func:`carrier` refuses it (no *one* topic);
:meth:`Wire.topic_for` picks the topic by ``domain``, :func:`carriers` lists them all."""

PARTICIPATIEWET = TopicSpec(
    "schakel.participatiewet.events",
    ("nl.participatiewet.*", VERWIJDERD),
    doc="Participatiewet events.",
)
WMO = TopicSpec("schakel.wmo.events", ("nl.wmo.*", VERWIJDERD), doc="Wmo events.")
WIJKTEAM = TopicSpec(
    "schakel.wijkteam.events", ("nl.wijkteams.*", VERWIJDERD), doc="Sociale wijkteams events."
)
WGS = TopicSpec(
    "schakel.wgs.events",
    ("nl.wgs.*", VERWIJDERD),
    doc="Schuldhulpverlening / vroegsignalering events.",
)
KLOK_SCHEMA = "nl.schakel.intern.klok"
"""A clock tick on ``schakel.klok``: a citizen's clock (or, without subject, every citizen's of
the partition) moves to ``tot``."""
VERGETEN_SCHEMA = "nl.schakel.intern.vergeten"
"""An erasure request on ``schakel.klok`` (``schakel forget``)."""
KLOK = TopicSpec(
    "schakel.klok",
    (KLOK_SCHEMA, VERGETEN_SCHEMA),
    doc="Clock ticks for the stream workers (live timer and end of replay) and erasure "
    "requests, keyed by pseudonym (a broadcast tick: no key, sent to every partition).",
)
SIGNALEN = TopicSpec(
    "schakel.signalen", ("nl.schakel.signalen.*",), doc="Signal events, keyed by pseudonym."
)
TIJDLIJNEN = TopicSpec(
    "schakel.tijdlijnen",
    ("nl.schakel.intern.tijdlijn",),
    cleanup_policy="compact",
    doc="Current timeline per citizen (compacted, keyed by pseudonym).",
)
INZAGE = TopicSpec(
    "schakel.inzage",
    ("nl.schakel.inzage.geregistreerd",),
    key="text",
    co_partitioned=False,
    doc="Audit records of every API read, keyed by the API client's name.",
)
DEADLETTER_STREAMS = TopicSpec(
    "schakel.deadletter.streams",
    (),
    key="none",
    value="raw",
    co_partitioned=False,
    doc="Records the stream workers could not decode or accept: the original key, value and "
    "headers, plus the DEADLETTER_HEADERS.",
)
DEADLETTER_ADAPTERS = TopicSpec(
    "schakel.deadletter.adapters",
    ("nl.schakel.intern.quarantaine",),
    key="text",
    co_partitioned=False,
    doc="Quarantined source records: adapter, location, reason; no personal data. Keyed by "
    "adapter name.",
)
DEADLETTER_REPLAYED = TopicSpec(
    "schakel.deadletter.herhaald",
    (),
    cleanup_policy="compact",
    key="text",
    value="raw",
    co_partitioned=False,
    doc="Which streams dead letters `schakel dlq replay` re-published: keyed by the dead "
    "letter's id, the value when (ISO 8601, UTC); compacted. No personal data.",
)
CHANGELOG = TopicSpec(
    f"{GROUP}-{TABLE}-changelog",
    ("nl.schakel.intern.toestand",),
    cleanup_policy="compact",
    key="text",
    doc="Changelog of the worker table (state per citizen; compacted, keyed by pseudonym as "
    "text, partitioned like the event topics).",
)

EVENT_TOPICS: tuple[TopicSpec, ...] = (PARTICIPATIEWET, WMO, WIJKTEAM, WGS)
"""The input topics, written by adapters."""
TOPICS: tuple[TopicSpec, ...] = (
    *EVENT_TOPICS,
    KLOK,
    SIGNALEN,
    TIJDLIJNEN,
    INZAGE,
    DEADLETTER_STREAMS,
    DEADLETTER_ADAPTERS,
    DEADLETTER_REPLAYED,
    CHANGELOG,
)
"""Every topic of a namespace; created before any adapter or worker starts."""
PER_CITIZEN_COMPACTED: tuple[TopicSpec, ...] = (TIJDLIJNEN, CHANGELOG)
"""The compacted topics keyed by a citizen's pseudonym: ``schakel forget`` writes a tombstone
for the citizen on each. (``schakel.deadletter.herhaald``, compacted too, is keyed by dead
letter id and holds nothing of a citizen.)"""

# --- headers of the streams dead-letter topic ------------------------------------------------

HEADER_SOURCE_TOPIC = "schakel.bron.topic"
HEADER_SOURCE_PARTITION = "schakel.bron.partitie"
HEADER_SOURCE_OFFSET = "schakel.bron.offset"
HEADER_SOURCE_TIMESTAMP = "schakel.bron.tijdstip"
"""The original record's Kafka timestamp (ms since the epoch, decimal): when it was registered.
``schakel dlq replay`` re-publishes the record with it, so a citizen's erasure (which drops
every event registered up to it) also drops a dead letter of that citizen replayed later."""
HEADER_SOURCE_OMITTED = "schakel.bron.weggelaten"
"""On a dead letter written without the original's value (it would not fit the output limit:
:func:`schemas.binding.fitted_deadletter`): the value's size in bytes (decimal). The original
is read from its topic at :data:`HEADER_SOURCE_TOPIC`/:data:`HEADER_SOURCE_PARTITION`/
:data:`HEADER_SOURCE_OFFSET` while retention keeps it; ``schakel dlq replay`` skips it."""
HEADER_SOURCE_OMITTED_REST = "schakel.bron.weggelaten.overig"
"""On a dead letter whose key and original headers did not fit either (with
:data:`HEADER_SOURCE_OMITTED`): their size in bytes (decimal); both are left out too."""
HEADER_SOURCE_WITHHELD = "schakel.bron.achtergehouden"
"""On a dead letter written without anything of the original (key, value, its headers)
because the original holds a possible BSN where none may be (``withhold`` of
:func:`schemas.binding.deadletter_record`): ``mogelijk-bsn``; or an e-mail address or an IBAN
in an identifier (:func:`schemas.personal.personal_data_in`): ``persoonsgegevens``. The sizes
headers are there too; the original must be corrected at its source."""
WITHHELD_BSN = b"mogelijk-bsn"
"""A value of :data:`HEADER_SOURCE_WITHHELD`: the original holds a possible BSN."""
WITHHELD_PERSONAL_DATA = b"persoonsgegevens"
"""A value of :data:`HEADER_SOURCE_WITHHELD`: the original holds an e-mail address or an IBAN
in an identifier (and no possible BSN)."""
WITHHELD: tuple[bytes, ...] = (WITHHELD_BSN, WITHHELD_PERSONAL_DATA)
"""Every value of :data:`HEADER_SOURCE_WITHHELD`."""
HEADER_STAGE = "schakel.fase"
HEADER_ERROR_CLASS = "schakel.fout.klasse"
HEADER_ERROR_REASON = "schakel.fout.reden"
"""Why the record was refused, as a code: the reason of its stage — ``wrong-type``,
``bad-subject``, ``history-limit``, ``too-large``, … (docs/operations.md, the table of stages
and reasons) — or, for a record that did not decode or failed in processing, the error's
class (``ForeignSchema``, ``KeyError``). The label ``reason`` of
``schakel_worker_deadlettered_total``: a short code from a closed set (:data:`REASON_CODE`),
never a message or a value. :data:`HEADER_ERROR_CLASS` alone says ``IngestError`` for every
refusal at ``decode`` and ``validate``."""
HEADER_ERROR_MESSAGE = "schakel.fout.melding"
DEADLETTER_HEADERS = (
    HEADER_SOURCE_TOPIC,
    HEADER_SOURCE_PARTITION,
    HEADER_SOURCE_OFFSET,
    HEADER_SOURCE_TIMESTAMP,
    HEADER_STAGE,
    HEADER_ERROR_CLASS,
    HEADER_ERROR_REASON,
    HEADER_ERROR_MESSAGE,
)
"""Header names added to a record copied to ``schakel.deadletter.streams``
(:data:`HEADER_SOURCE_TIMESTAMP` only when the record had a timestamp); a dead letter that
would not fit with all of the original also has :data:`HEADER_SOURCE_OMITTED` (and perhaps
:data:`HEADER_SOURCE_OMITTED_REST`)."""
MAX_ERROR_MESSAGE = 1000
REASON_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}", re.ASCII)
"""What :data:`HEADER_ERROR_REASON` holds: a code of ASCII letters, digits, ``-`` and ``_`` (a
reason such as ``bad-time``, or a class name), at most 64 characters."""
UNKNOWN_REASON = "?"
""":data:`HEADER_ERROR_REASON` of a reason that is no code (:data:`REASON_CODE`; a defect of
the caller): never written as given."""


def reason_code(reason: str) -> str:
    """``reason`` as :data:`HEADER_ERROR_REASON` holds it: itself if it is a code
    (:data:`REASON_CODE`) without a possible BSN, else :data:`UNKNOWN_REASON`."""
    if REASON_CODE.fullmatch(reason) and not holds_bsn(reason):
        return reason
    return UNKNOWN_REASON


def deadletter_headers(
    topic: str,
    partition: int,
    offset: int,
    stage: str,
    error: BaseException,
    *,
    reason: str,
    timestamp: int | None = None,
) -> list[tuple[str, bytes]]:
    """The :data:`DEADLETTER_HEADERS` of a record that failed at ``stage`` for ``reason``
    (the metric's label: :data:`HEADER_ERROR_REASON`, :func:`reason_code`): where it came
    from and when it was registered (``timestamp``, its Kafka timestamp in ms; left out when
    ``None``), the stage, the exception class, the reason and the error's message (BSNs
    masked, at most :data:`MAX_ERROR_MESSAGE` characters)."""
    registered = [] if timestamp is None else [(HEADER_SOURCE_TIMESTAMP, str(timestamp).encode())]
    return [
        (HEADER_SOURCE_TOPIC, topic.encode()),
        (HEADER_SOURCE_PARTITION, str(partition).encode()),
        (HEADER_SOURCE_OFFSET, str(offset).encode()),
        *registered,
        (HEADER_STAGE, stage.encode()),
        (HEADER_ERROR_CLASS, type(error).__name__.encode()),
        (HEADER_ERROR_REASON, reason_code(reason).encode()),
        (HEADER_ERROR_MESSAGE, mask_bsn(str(error))[:MAX_ERROR_MESSAGE].encode()),
    ]


# --- CloudEvents headers (Kafka protocol binding, binary content mode) ------------------------

HEADER_CE_SPECVERSION = "ce_specversion"
HEADER_CE_ID = "ce_id"
HEADER_CE_SOURCE = "ce_source"
HEADER_CE_TYPE = "ce_type"
HEADER_CE_SUBJECT = "ce_subject"
HEADER_CE_TIME = "ce_time"
HEADER_CONTENT_TYPE = "content-type"
CE_HEADER_PREFIX = "ce_"
CE_EXTENSIONS = ("sequence", "bronsleutel", "dataref")
"""Extension attributes carried as ``ce_<name>`` headers: the record-version attributes
(``sequence`` of the NL GOV profile v1.1, ``bronsleutel``; also envelope fields) and the NL GOV
``dataref`` (only a header: the envelope has no field for it)."""
CONTENT_TYPE_AVRO = "application/avro"
"""Every Avro value (Confluent wire format)."""
CONTENT_TYPE_RAW = "application/octet-stream"
"""A streams dead letter: the bytes as read, which may not decode."""
HEADER_ORIGINAL_PREFIX = "schakel.bron."
"""A streams dead letter keeps the original record's CloudEvents headers under this prefix
(``schakel.bron.ce_id``, …) so that its own ``ce_*`` headers describe the dead letter."""

# --- schemas → topics --------------------------------------------------------------------------


def carriers(record_name: str) -> tuple[TopicSpec, ...]:
    """Every topic that carries records of schema ``record_name``: one, except for
    :data:`VERWIJDERD` (every event topic)."""
    return tuple(spec for spec in TOPICS if spec.carries_schema(record_name))


def carrier(record_name: str) -> TopicSpec:
    """The one topic that carries records of schema ``record_name`` (an event type or one of
    Schakel's own records). Raises :class:`KeyError` for a name no topic declares, or one
    that several topics carry (:data:`VERWIJDERD`: use :func:`domain_topic`)."""
    found = carriers(record_name)
    if not found:
        raise KeyError(f"no topic carries {record_name!r}")
    if len(found) > 1:
        raise KeyError(f"{record_name!r} travels on the topic of a domain: name the domain")
    return found[0]


DOMAINS: tuple[str, ...] = ("participatiewet", "wmo", "wijkteams", "wgs")
"""The domain words of the input types (``nl.<domain>.…``), one per event topic."""


def domain_topic(domain: str) -> TopicSpec:
    """The event topic of ``domain`` (one of :data:`DOMAINS`); :class:`KeyError` otherwise."""
    if domain not in DOMAINS:
        raise KeyError(f"no event topic for domain {domain!r}")
    return carrier(f"nl.{domain}.*")


def domain_of(event_type: str) -> str:
    """The domain word of a type: participatiewet, wmo, wijkteams, wgs or schakel."""
    return event_type.split(".")[1]


# --- one namespace -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Wire:
    """The names of one namespace (see the module's naming rule). ``Wire()`` is the default
    namespace, with the names of ``events.md``."""

    namespace: str = ""

    def __post_init__(self) -> None:
        if not _NAMESPACE.fullmatch(self.namespace):
            raise SettingsError(
                "SCHAKEL_NAMESPACE / --namespace: 1-40 lowercase letters, digits and inner "
                "hyphens, or empty"
            )

    def name(self, spec: TopicSpec) -> str:
        """The topic's name in this namespace."""
        return self._qualify(spec.name)

    def _qualify(self, name: str) -> str:
        return f"{self.namespace}.{name}" if self.namespace else name

    @property
    def group_id(self) -> str:
        """Consumer group and Faust app id of the stream workers."""
        return self._qualify(GROUP)

    @property
    def changelog(self) -> str:
        return self.name(CHANGELOG)

    @property
    def klok(self) -> str:
        return self.name(KLOK)

    @property
    def signalen(self) -> str:
        return self.name(SIGNALEN)

    @property
    def tijdlijnen(self) -> str:
        return self.name(TIJDLIJNEN)

    @property
    def inzage(self) -> str:
        return self.name(INZAGE)

    @property
    def deadletter_streams(self) -> str:
        return self.name(DEADLETTER_STREAMS)

    @property
    def deadletter_adapters(self) -> str:
        return self.name(DEADLETTER_ADAPTERS)

    @property
    def deadletter_replayed(self) -> str:
        return self.name(DEADLETTER_REPLAYED)

    @property
    def event_topics(self) -> tuple[str, ...]:
        """The four input topics."""
        return tuple(self.name(spec) for spec in EVENT_TOPICS)

    def topics(self) -> dict[str, TopicSpec]:
        """Every topic of the namespace: name → declaration."""
        return {self.name(spec): spec for spec in TOPICS}

    def topic_for(self, record_name: str, domain: str | None = None) -> str:
        """The name of the topic that carries ``record_name`` (:func:`carrier`); for
        :data:`VERWIJDERD`, the event topic of ``domain`` (:func:`domain_topic`)."""
        if record_name == VERWIJDERD and domain is not None:
            return self.name(domain_topic(domain))
        return self.name(carrier(record_name))

    def topics_for(self, record_name: str) -> tuple[str, ...]:
        """The names of every topic that carries ``record_name`` (:func:`carriers`)."""
        return tuple(self.name(spec) for spec in carriers(record_name))


DEFAULT_WIRE = Wire()
"""The default namespace."""
