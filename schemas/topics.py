"""Every Kafka topic of Schakel, declared once: name, partitions, cleanup policy, key and value
serde. Everything else imports these declarations instead of repeating topic names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from schemas.catalogue import SCHAKEL_PREFIX

KeySerde = Literal["pseudonym", "none", "text"]
ValueSerde = Literal["avro", "raw"]


@dataclass(frozen=True)
class TopicSpec:
    """A topic declaration. ``co_partitioned`` topics must share one partition count: they
    are all keyed by pseudonym and read together by the stream workers."""

    name: str
    cleanup_policy: Literal["delete", "compact"] = "delete"
    key: KeySerde = "pseudonym"
    value: ValueSerde = "avro"
    co_partitioned: bool = True
    doc: str = ""


PARTICIPATIEWET = TopicSpec("schakel.participatiewet.events", doc="Participatiewet events.")
WMO = TopicSpec("schakel.wmo.events", doc="Wmo events.")
WIJKTEAM = TopicSpec("schakel.wijkteam.events", doc="Sociale wijkteams events.")
WGS = TopicSpec("schakel.wgs.events", doc="Schuldhulpverlening / vroegsignalering events.")
KLOK = TopicSpec(
    "schakel.klok",
    doc="Clock ticks for the stream workers (live timer and end of replay), keyed by pseudonym.",
)
SIGNALEN = TopicSpec("schakel.signalen", doc="nl.schakel.signalen.* events, keyed by pseudonym.")
TIJDLIJNEN = TopicSpec(
    "schakel.tijdlijnen",
    cleanup_policy="compact",
    doc="Current timeline per citizen (compacted, keyed by pseudonym).",
)
INZAGE = TopicSpec(
    "schakel.inzage",
    key="text",
    co_partitioned=False,
    doc="Audit records nl.schakel.inzage.geregistreerd of every API read.",
)
DEADLETTER_STREAMS = TopicSpec(
    "schakel.deadletter.streams",
    key="none",
    value="raw",
    co_partitioned=False,
    doc="Records the stream workers could not decode or accept: original bytes, headers "
    "with source topic, partition, offset, stage, exception class and message.",
)
DEADLETTER_ADAPTERS = TopicSpec(
    "schakel.deadletter.adapters",
    key="text",
    co_partitioned=False,
    doc="Quarantined source records (nl.schakel.quarantaine): adapter, location, reason; "
    "no personal data.",
)

EVENT_TOPICS: tuple[TopicSpec, ...] = (PARTICIPATIEWET, WMO, WIJKTEAM, WGS)
ALL_TOPICS: tuple[TopicSpec, ...] = (
    *EVENT_TOPICS,
    KLOK,
    SIGNALEN,
    TIJDLIJNEN,
    INZAGE,
    DEADLETTER_STREAMS,
    DEADLETTER_ADAPTERS,
)

_BY_PREFIX = {
    "nl.participatiewet.": PARTICIPATIEWET,
    "nl.wmo.": WMO,
    "nl.wijkteams.": WIJKTEAM,
    "nl.wgs.": WGS,
    "nl.schakel.signalen.": SIGNALEN,
    "nl.schakel.inzage.": INZAGE,
}


def topic_for(event_type: str) -> TopicSpec:
    """The topic a catalogue event type is published on."""
    for prefix, spec in _BY_PREFIX.items():
        if event_type.startswith(prefix):
            return spec
    kind = "Schakel" if event_type.startswith(SCHAKEL_PREFIX) else "catalogue"
    raise KeyError(f"no topic for {kind} type {event_type!r}")


def domain_of(event_type: str) -> str:
    """The domain word of a type: participatiewet, wmo, wijkteams, wgs or schakel."""
    return event_type.split(".")[1]
