"""Plain value types shared by the timeline and the rule engine (no Faust, no Kafka).

A :class:`TimelineEvent` is one accepted catalogue event of one citizen, already pseudonymised
and normalised: ``data`` holds the catalogue fields of ``events.md`` (dates as
:class:`datetime.date`, identifiers as ``str``, iWmo codes as two-digit ``str``, enumerations
as their catalogue spelling such as ``"geen-recht"``; optional fields that were absent are
``None``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

SignalStatus = Literal["open", "opgelost", "ingetrokken"]


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One accepted event on a citizen's timeline."""

    id: str
    source: str
    type: str
    datum: date
    time: datetime | None
    data: Mapping[str, Any] = field(default_factory=dict)
    bronsleutel: str | None = None
    """The source's record this event is a version of (``None``: its own record)."""
    sequence: str | None = None
    """Order of the versions of one record (with ``bronsleutel``)."""

    @property
    def identity(self) -> tuple[str, str]:
        """(``source``, ``id``): an event is accepted once per identity."""
        return (self.source, self.id)

    @property
    def record(self) -> tuple[str, str]:
        """The source record this event is a version of: (``source``, ``bronsleutel``), or
        (``source``, ``"id:" + id``) for an event without ``bronsleutel`` (its own record;
        the prefix keeps it apart from any ``bronsleutel``)."""
        if self.bronsleutel is None:
            return (self.source, "id:" + self.id)
        return (self.source, "key:" + self.bronsleutel)

    @property
    def version_key(self) -> tuple[str, str]:
        """Order among the versions of one record: (``sequence``, ``id``); the highest is
        the current version (``events.md``)."""
        return (self.sequence or "", self.id)

    @property
    def sort_key(self) -> tuple[date, int, float, str, str]:
        """Timeline order of ``rules.md``: (datum, time, source, id); no time sorts first."""
        if self.time is None:
            return (self.datum, 0, 0.0, self.source, self.id)
        return (self.datum, 1, self.time.timestamp(), self.source, self.id)


@dataclass(frozen=True, slots=True)
class Signal:
    """A definitive signal of one rule for one citizen, as computed at a given clock.

    ``status`` is ``open`` or ``opgelost`` when computed; ``ingetrokken`` only appears on
    signals that were emitted earlier and no longer hold (see :mod:`streams.signals`).
    """

    regel: str
    subject: str
    sleutel: str
    sinds: date
    termijn: date | None
    status: SignalStatus
    opgelost_op: date | None
    bewijs: tuple[str, ...]
    uitleg: str
    reden: str | None = None
    """For ``opgelost``: which event (``type`` and id) or condition resolved it."""

    @property
    def identity(self) -> tuple[str, str, str]:
        """(rule, subject, sleutel): a signal is emitted once per identity."""
        return (self.regel, self.subject, self.sleutel)

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of ``api.md``."""
        return {
            "regel": self.regel,
            "subject": self.subject,
            "sleutel": self.sleutel,
            "sinds": self.sinds.isoformat(),
            "status": self.status,
            "termijn": self.termijn.isoformat() if self.termijn else None,
            "bewijs": list(self.bewijs),
            "uitleg": self.uitleg,
            "opgelost_op": self.opgelost_op.isoformat() if self.opgelost_op else None,
        }
