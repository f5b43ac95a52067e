"""Signal lifecycle: compare what the rules say now with what was told before, and emit only
the differences as ``nl.schakel.signalen.gesignaleerd`` / ``…opgelost`` / ``…ingetrokken``.

- new identity (or one withdrawn earlier that holds again) → ``gesignaleerd`` (and, if it is
  already resolved, ``opgelost`` right after);
- open → opgelost, or a changed ``opgelost_op`` → ``opgelost``;
- opgelost → open (a late fact undid the resolution) → ``gesignaleerd`` again;
- told before, no longer in the definitive set → ``ingetrokken`` (it never held);
- told before, still there but with another ``sinds`` or ``termijn`` (R3's identity is its
  ``signaal_id``, not its ``sinds``) → ``ingetrokken``, then ``gesignaleerd`` anew (and
  ``opgelost`` if it is resolved): ``events.md``, "one whose ``sinds`` moved is withdrawn and
  raised anew".

Event ids are deterministic — a hash of (rule, subject, key, kind, revision) — so a change
re-emitted after a crash carries the same id as its first copy and is recognisably the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Literal

from schemas.envelope import Event
from streams.model import Signal, SignalStatus

ChangeKind = Literal["gesignaleerd", "opgelost", "ingetrokken"]
SIGNAL_TYPES = tuple(
    f"nl.schakel.signalen.{k}" for k in ("gesignaleerd", "opgelost", "ingetrokken")
)
"""The CloudEvents types of the signal events, one per :data:`ChangeKind`."""


@dataclass(frozen=True)
class EmittedSignal:
    """A signal as last told to the world (plus its current details, for the API)."""

    regel: str
    sleutel: str
    sinds: date
    termijn: date | None
    status: SignalStatus
    opgelost_op: date | None
    ingetrokken_op: date | None
    bewijs: tuple[str, ...]
    uitleg: str
    reden: str | None

    def to_json(self, subject: str) -> dict[str, Any]:
        """The JSON shape of ``api.md`` (that of :meth:`streams.model.Signal.to_json`)."""
        return Signal(
            regel=self.regel,
            subject=subject,
            sleutel=self.sleutel,
            sinds=self.sinds,
            termijn=self.termijn,
            status=self.status,
            opgelost_op=self.opgelost_op,
            bewijs=self.bewijs,
            uitleg=self.uitleg,
        ).to_json()


@dataclass(frozen=True)
class SignalChange:
    """One signal event to emit."""

    kind: ChangeKind
    event_id: str
    subject: str
    signal: EmittedSignal
    datum: date | None
    reden: str | None


def _from(signal: Signal) -> EmittedSignal:
    return EmittedSignal(
        regel=signal.regel,
        sleutel=signal.sleutel,
        sinds=signal.sinds,
        termijn=signal.termijn,
        status=signal.status,
        opgelost_op=signal.opgelost_op,
        ingetrokken_op=None,
        bewijs=signal.bewijs,
        uitleg=signal.uitleg,
        reden=signal.reden,
    )


def signal_event_id(subject: str, regel: str, sleutel: str, kind: str, revision: int) -> str:
    text = "\x1f".join((regel, subject, sleutel, kind, str(revision)))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def diff_signals(
    subject: str,
    told: MutableMapping[tuple[str, str], EmittedSignal],
    current: Sequence[Signal],
    *,
    clock: date,
    trigger: str,
    revisions: MutableMapping[str, int],
) -> list[SignalChange]:
    """Update ``told`` to ``current`` and return the changes to emit, in a stable order."""
    changes: list[SignalChange] = []

    def emit(kind: ChangeKind, sig: EmittedSignal, datum: date | None, reden: str | None) -> None:
        counter = f"{sig.regel}|{sig.sleutel}|{kind}"
        revision = revisions.get(counter, 0)
        revisions[counter] = revision + 1
        event_id = signal_event_id(subject, sig.regel, sig.sleutel, kind, revision)
        changes.append(SignalChange(kind, event_id, subject, sig, datum, reden))

    def withdraw(old: EmittedSignal) -> None:
        withdrawn = replace(
            old, status="ingetrokken", ingetrokken_op=clock, reden=f"nieuw feit: {trigger}"
        )
        emit("ingetrokken", withdrawn, clock, withdrawn.reden)
        told[(old.regel, old.sleutel)] = withdrawn

    now = {(s.regel, s.sleutel): s for s in current}
    for key in sorted(now):
        new = _from(now[key])
        old = told.get(key)
        if old is not None and old.status != "ingetrokken" and _moved(old, new):
            # the signal as told never held: withdrawn, and raised anew below
            withdraw(old)
            old = told[key]
        if (
            old is None
            or old.status == "ingetrokken"
            or (old.status == "opgelost" and new.status == "open")
        ):
            emit("gesignaleerd", new, new.sinds, None)
            if new.status == "opgelost":
                emit("opgelost", new, new.opgelost_op, new.reden)
        elif new.status == "opgelost" and (
            old.status == "open" or old.opgelost_op != new.opgelost_op
        ):
            emit("opgelost", new, new.opgelost_op, new.reden)
        told[key] = new
    for key in sorted(set(told) - set(now)):
        if told[key].status != "ingetrokken":
            withdraw(told[key])
    return changes


def _moved(old: EmittedSignal, new: EmittedSignal) -> bool:
    """Whether the same identity now starts or is due on another day (R3, keyed by its
    ``signaal_id``: a late earlier copy or a corrected date moves ``sinds``; its first copy's
    ``dreiging`` sets the ``termijn``): the signal told never held in that form."""
    return old.sinds != new.sinds or old.termijn != new.termijn


def signal_event(change: SignalChange, source: str) -> Event:
    """The CloudEvent of a signal change (shared by the worker and the batch path)."""
    sig = change.signal
    data: dict[str, object] = {
        "regel": sig.regel,
        "sleutel": sig.sleutel,
        "bewijs": list(sig.bewijs),
    }
    if change.kind == "gesignaleerd":
        data |= {"sinds": sig.sinds, "termijn": sig.termijn, "uitleg": sig.uitleg}
    else:
        data |= {"datum": change.datum, "reden": change.reden or ""}
    return Event(
        id=change.event_id,
        source=source,
        type=f"nl.schakel.signalen.{change.kind}",
        subject=change.subject,
        time=datetime.now(UTC).isoformat(timespec="milliseconds"),
        data=data,
    )


def encoded_signals(
    changes: Iterable[SignalChange], source: str, encode: Callable[[Event], bytes]
) -> list[tuple[Event, bytes]]:
    """The signal events of one step's ``changes`` (:func:`signal_event`) with their
    payloads (``encode``: the serializer of the signal topic), in order: what the worker
    and the batch path send and remember (``uitvoer``) alike."""
    events = [signal_event(change, source) for change in changes]
    return [(event, encode(event)) for event in events]
