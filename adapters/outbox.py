"""``schakel adapter outbox DSN``: a transactional outbox in the source system's PostgreSQL.

Table ``schakel_outbox(id bigserial primary key, created_at timestamptz, event jsonb)``; each
``event`` is a structured-mode CloudEvent with ``data.bsn``. Rows are read in ``id`` order in
batches; the cursor is ``{"last_id": N}`` (stored by the runner after the broker's ack). An
event without ``time`` gets the row's ``created_at`` (the moment the row was read if it has
none; :meth:`OutboxSource._registered`).

Ids of a sequence are handed out in order but committed in any order: when row 11 is visible
while row 10 is still in an open transaction, reading on past 10 would lose it. So the source
only passes a *gap* in the ids once it is settled:

- no other transaction holds a write lock on the table and the gap lies below the sequence's
  high-water mark read before that check (every id up to it is then committed or rolled back
  for good — this assumes the sequence's ``CACHE 1``, the default), or
- the gap has been seen for ``gap_grace_s`` seconds (rolled-back ids under constant write
  load; also the fallback when the adapter may not read the sequence).

Otherwise a run stops at the gap and the next poll continues there. Settled can be wrong (an
id taken with ``nextval()`` before its ``INSERT`` holds no lock; a transaction may outlast the
grace period), so every gap passed is watched for a week and a row that commits in it later
is read then (:mod:`adapters.outbox_gaps`); the cursor is then ``{"last_id": N, "gaps":
[[first, last, passed_at], …]}``. The DSN (it may hold a
password) is never logged, and no error shows its password (:func:`dsn_secrets`): a DSN that
psycopg cannot parse, or would read differently from what was meant, is reported by the class
of the error and the variable to check; a connection error keeps psycopg's first line with the
password replaced by ``***``.

**Record versions** (``events.md``, "Corrections and deletions"; :func:`versioned_row`). A row
whose ``event`` carries the CloudEvents extension ``bronsleutel`` (the business key of the
changed record, no personal data in clear) is a version of that record: the adapter sets its
``sequence`` to the outbox id, zero-padded to 20 digits, so the latest committed change wins.
A key that holds a possible BSN (:func:`schemas.pseudonym.holds_bsn`: a case system that keys
its records by citizen, ``999990111/aanvraag-1``), an e-mail address or an IBAN
(:func:`schemas.personal.personal_data_in`: ``aanvraag/j.jansen@example.nl``) is published as
its keyed token (:func:`published_key`), the same for every version of the record.
The extension ``operatie`` says what the change was: ``insert`` or ``update`` (a version), or
``delete`` — published as ``nl.schakel.bron.verwijderd`` of that key, on the topic of the
domain of the row's ``type``, ``datum`` = the row's ``data.datum`` (the day of deletion).
``update``/``delete`` without ``bronsleutel`` and an unknown ``operatie`` are rejected. Every
row's ``event`` needs its own ``id`` (an update that reuses an earlier id is a redelivery).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict

from adapters.base import Cursor, Location, Record, Source, digest
from adapters.exceptions import AdapterError, Rejection, SourceUnavailable
from adapters.jsonlines import json_object
from adapters.outbox_gaps import LATE_ROWS, NO_GAPS, REGISTERED_AT, WatchedGaps
from schemas.personal import personal_data_in
from schemas.pseudonym import Pseudonymiser, holds_bsn
from schemas.wire import DOMAINS, VERWIJDERD

log = logging.getLogger("schakel.adapters")

TABLE = "schakel_outbox"
OPERATIONS = ("insert", "update", "delete")
"""Values of the ``operatie`` extension of an outbox row's event."""
SEQUENCE_WIDTH = 20
"""Digits of a ``sequence`` made from an outbox id (a bigserial fits in 19)."""


KEY_TOKEN_KIND = "bronsleutel"  # noqa: S105 - a label, not a secret
"""The ``kind`` of the token of a business key (:meth:`Pseudonymiser.token`)."""

KEY_TOKEN_PREFIX = "bk-"  # noqa: S105 - a label, not a secret
"""What a published ``bronsleutel`` that is a token starts with."""


def published_key(key: object, pseudonymiser: Pseudonymiser) -> object:
    """What is published of a row's ``bronsleutel``: the key itself, unless it is a string that
    holds a possible BSN (:func:`schemas.pseudonym.holds_bsn`), an e-mail address or an IBAN
    (:func:`schemas.personal.personal_data_in`) — then ``bk-`` and its keyed token
    (``events.md``: "never a BSN or other personal data in clear: hash it with the pseudonym
    key when the source key contains one").

    The token is the same for the same key under the same pseudonym key, so an insert, its
    updates and its delete still share their ``bronsleutel``; it holds at least four letters
    a–f, so the check for BSNs takes it for a random token, and it is never the pseudonym of a
    citizen (the token's input is ``bronsleutel`` + the key). Anything that is not a string is
    returned as it is, for validation to refuse."""
    if isinstance(key, str) and (holds_bsn(key) or personal_data_in(key) is not None):
        return KEY_TOKEN_PREFIX + pseudonymiser.token(KEY_TOKEN_KIND, key)
    return key


def versioned_row(
    row_id: int, event: dict[str, Any], pseudonymiser: Pseudonymiser
) -> dict[str, Any]:
    """The event of outbox row ``row_id`` as a record version (see the module docstring):
    unchanged without ``bronsleutel`` and ``operatie``; otherwise with the key as published
    (:func:`published_key`, ``pseudonymiser`` makes the token), ``sequence`` = the zero-padded
    outbox id and, for ``delete``, turned into ``nl.schakel.bron.verwijderd``. Raises
    :class:`Rejection` naming the extension and the rule."""
    operatie = event.pop("operatie", None)
    key = event.get("bronsleutel")
    if operatie is not None and operatie not in OPERATIONS:
        raise Rejection(
            "event.operatie: must be one of " + ", ".join(OPERATIONS), reason="unknown-value"
        )
    if key is None:
        if operatie in ("update", "delete"):
            raise Rejection(
                f"event.bronsleutel: required with operatie {operatie} (the business key of "
                "the changed record)",
                reason="missing-field",
            )
        return event
    versioned = {
        **event,
        "bronsleutel": published_key(key, pseudonymiser),
        "sequence": str(row_id).zfill(SEQUENCE_WIDTH),
    }
    if operatie != "delete":
        return versioned
    event_type, data = event.get("type"), event.get("data")
    domain = event_type.split(".")[1] if isinstance(event_type, str) and "." in event_type else ""
    if domain not in DOMAINS or not isinstance(data, dict):
        raise Rejection(
            "event.type: a delete names the catalogue type of the deleted record, with data",
            reason="unknown-value",
        )
    kept = {name: data[name] for name in ("bsn", "datum") if name in data}
    return {**versioned, "type": VERWIJDERD, "domein": domain, "data": kept}


CANNOT_CONNECT = "outbox: cannot connect to the database"
SYNTAX = "check the syntax of SCHAKEL_OUTBOX_DSN (or of the DSN argument)"
MISREAD = (
    "the user name or password holds a character that must be percent-encoded in a "
    "postgresql:// URL (@ as %40, / as %2F, % as %25, a space as %20); " + SYNTAX
)
_URL_SCHEMES = ("postgresql://", "postgres://")


def dsn_secrets(dsn: str) -> list[str]:
    """The password of ``dsn`` in every spelling an error message could quote (as psycopg
    parsed it, and as written in a URL), for :func:`redact`.

    Raises :class:`AdapterError` naming only the class of psycopg's error and the variable to
    check when psycopg cannot parse ``dsn`` (its message quotes the offending part, often the
    password), and when it parses a ``postgresql://`` URL differently from what was meant: an
    unencoded ``@`` or ``/`` in the password ends libpq's user info early, and the rest of the
    password would become the host (looked up in DNS and quoted in the error), the port or
    the database name."""
    try:
        parsed = conninfo_to_dict(dsn)
    except psycopg.Error as exc:
        raise AdapterError(f"{CANNOT_CONNECT}: {type(exc).__name__}: {SYNTAX}") from None
    secrets = [str(parsed.get("password") or "")]
    if dsn.lower().startswith(_URL_SCHEMES):
        if any(
            "@" in str(parsed.get(name) or "") for name in ("host", "hostaddr", "port", "dbname")
        ):
            raise AdapterError(f"{CANNOT_CONNECT}: {MISREAD}")
        authority = dsn.split("://", 1)[1].split("/", 1)[0]
        userinfo, at, _ = authority.rpartition("@")
        if at:
            written = userinfo.partition(":")[2]
            secrets += [written, unquote(written)]
    return sorted({s for s in secrets if s}, key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every occurrence of each of ``secrets`` replaced by ``***``."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


_REGISTERED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", re.ASCII)
_ROWS = (
    f"SELECT id, {REGISTERED_AT}, event::text FROM schakel_outbox "  # noqa: S608 - constants
    "WHERE id > %s ORDER BY id LIMIT %s"
)
_HIGH_WATER = "SELECT pg_sequence_last_value(pg_get_serial_sequence('schakel_outbox', 'id'))"
_WRITERS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' "
    "AND relation = 'schakel_outbox'::regclass AND mode = 'RowExclusiveLock' "
    "AND pid IS DISTINCT FROM pg_backend_pid()"
)


OUTAGE_STATES = ("08", "53300", "57P01", "57P02", "57P03")
"""SQLSTATEs of a database that is gone for now: class 08 (connection exception),
``too_many_connections``, ``admin_shutdown``, ``crash_shutdown`` and ``cannot_connect_now``
(starting up or shutting down)."""
_SERVER_SAID = re.compile(r"\b(?:FATAL|ERROR):")
"""How libpq quotes an error the server sent while a connection was set up (psycopg gives no
SQLSTATE for those)."""
_FOR_NOW = (
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "too many clients",
    "too many connections",
    "remaining connection slots are reserved",
)
"""What such a server error says when it refuses only for now."""


def _outage(exc: psycopg.Error) -> bool:
    """Whether ``exc`` says the database does not answer for now (:class:`SourceUnavailable`)
    rather than that something must be fixed — a wrong password or database name, a missing
    table, no privilege (``AdapterError``). With a SQLSTATE: :data:`OUTAGE_STATES`. Without
    one (psycopg gives none for errors while connecting) an ``OperationalError`` is an outage
    when no server answered — refused, timed out, a connection that broke — or when the
    server said it refuses only for now (:data:`_FOR_NOW`). A server whose messages are not
    in English is taken at its word only for the SQLSTATEs: its refusals while connecting
    count as outages (retried and logged, never lost)."""
    state = exc.sqlstate
    if state is not None:
        return state.startswith(OUTAGE_STATES)
    if not isinstance(exc, psycopg.OperationalError):
        return False
    text = str(exc)
    return not _SERVER_SAID.search(text) or any(phrase in text for phrase in _FOR_NOW)


class OutboxSource(Source):
    """Polls the outbox table of one PostgreSQL database.

    Guarantees: rows are yielded in increasing ``id`` order, except a row that committed in
    a gap already passed, which is yielded first in the next run, and a row is never skipped
    because a transaction with a lower id committed late (see the module doc) within a week; a
    row whose ``event`` is not a JSON object is rejected, not skipped. A database that does
    not answer, or a lost connection, raises :class:`~adapters.exceptions.SourceUnavailable`
    (an outage: the run stops without checkpoint, and is repeated with backoff, or ``--once``
    exits 75; the next run reconnects); a database that refuses (a wrong password, no table,
    no privilege) raises :class:`~adapters.exceptions.AdapterError` (exit 2). Not guaranteed:
    that rows are deleted — cleaning the table up is the source system's business (rows up
    to ``last_id`` are no longer needed)."""

    name = "outbox"

    def __init__(
        self,
        dsn: str,
        *,
        pseudonymiser: Pseudonymiser,
        batch_size: int = 1000,
        gap_grace_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """``pseudonymiser`` is the runner's (the same pseudonym key): it makes the token of a
        ``bronsleutel`` that holds a possible BSN (:func:`published_key`); ``clock`` times the
        grace period of a gap; ``wall`` (epoch seconds, kept in the cursor across restarts)
        how long a passed gap is watched (:mod:`adapters.outbox_gaps`)."""
        if not dsn:
            raise AdapterError("outbox: no DSN given (argument or SCHAKEL_OUTBOX_DSN)")
        self._dsn = dsn
        self._pseudonymiser = pseudonymiser
        self.batch_size = batch_size
        self.gap_grace_s = gap_grace_s
        self._clock = clock
        self._wall = wall
        self._conn: psycopg.Connection[Any] | None = None
        self._gaps: dict[int, float] = {}

    def __repr__(self) -> str:  # never show the DSN
        return "OutboxSource(dsn=***)"

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            secrets = dsn_secrets(self._dsn)  # AdapterError when psycopg would misread it
            try:
                self._conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=10)
            except psycopg.ProgrammingError as exc:  # not parsed after all: no detail
                raise AdapterError(f"{CANNOT_CONNECT}: {type(exc).__name__}: {SYNTAX}") from None
            except psycopg.Error as exc:
                detail = (str(exc).strip().splitlines() or [""])[0]
                error = SourceUnavailable if _outage(exc) else AdapterError
                raise error(
                    f"{CANNOT_CONNECT}: {type(exc).__name__}: {redact(detail, secrets)}"
                ) from None
        return self._conn

    def _settled_below(self, conn: psycopg.Connection[Any]) -> int:
        """Ids up to the returned one are final (0 when that cannot be established now)."""
        try:
            row = conn.execute(_HIGH_WATER).fetchone()
            high = int(row[0]) if row is not None and row[0] is not None else 0
            writers = conn.execute(_WRITERS).fetchone()
        except psycopg.errors.InsufficientPrivilege:
            return 0
        return high if writers is not None and writers[0] == 0 else 0

    def _gap_passable(self, last_id: int, row_id: int, settled: int) -> bool:
        if row_id == last_id + 1 or row_id <= settled:
            self._gaps.pop(last_id, None)
            return True
        first_seen = self._gaps.setdefault(last_id, self._clock())
        if self._clock() - first_seen >= self.gap_grace_s:
            log.warning(
                "adapter.outbox_gap_skipped",
                extra={"adapter": self.name, "after_id": last_id, "next_id": row_id},
            )
            self._gaps.pop(last_id, None)
            return True
        log.info(
            "adapter.outbox_gap_waiting",
            extra={"adapter": self.name, "after_id": last_id, "next_id": row_id},
        )
        return False

    def records(self, cursor: Cursor) -> Iterator[Record]:
        last_id = int(cursor.get("last_id", 0))
        watched = WatchedGaps.load(cursor.get("gaps"), self._wall())
        conn = self._connection()
        try:
            if watched.gaps:
                late = conn.execute(LATE_ROWS, watched.bounds()).fetchall()
                for row_id, registered, text in late:
                    watched = watched.found(int(row_id))
                    log.info(
                        "adapter.outbox_late_row",
                        extra={"adapter": self.name, "id": int(row_id), "cursor_id": last_id},
                    )
                    yield self._record(int(row_id), text, last_id, watched, registered)
            while True:
                settled = self._settled_below(conn)
                rows = conn.execute(_ROWS, (last_id, self.batch_size)).fetchall()
                for row_id, registered, text in rows:
                    if not self._gap_passable(last_id, int(row_id), settled):
                        return
                    if int(row_id) > last_id + 1:
                        watched = watched.passed(last_id + 1, int(row_id) - 1, self._wall())
                    last_id = int(row_id)
                    yield self._record(last_id, text, last_id, watched, registered)
                if len(rows) < self.batch_size:
                    return
        except psycopg.errors.UndefinedTable:
            raise AdapterError(f"outbox: the table {TABLE} does not exist") from None
        except psycopg.Error as exc:
            self.close()
            error = SourceUnavailable if _outage(exc) else AdapterError
            raise error(f"outbox: reading {TABLE} failed: {type(exc).__name__}") from None

    def _record(
        self,
        row_id: int,
        text: str | None,
        last_id: int | None = None,
        watched: WatchedGaps = NO_GAPS,
        registered: str | None = None,
    ) -> Record:
        """Row ``row_id``, after which the cursor is ``last_id`` (default ``row_id``) and the
        gaps ``watched``; ``registered`` is its ``created_at`` (:data:`REGISTERED_AT`), the
        ``time`` of an event that has none (:meth:`_registered`)."""
        location = Location(TABLE, path=f"id={row_id}")
        cursor: dict[str, Any] = {"last_id": row_id if last_id is None else last_id}
        if watched.gaps:
            cursor["gaps"] = watched.cursor()
        raw = text or ""
        try:
            value = versioned_row(row_id, json_object(raw, "event"), self._pseudonymiser)
        except Rejection as exc:
            return Record(location, cursor, digest=digest(raw), rejection=exc)
        if value.get("time") is None:
            value["time"] = self._registered(registered)
        return Record(location, cursor, event=value, digest=digest(raw))

    def _registered(self, created_at: str | None) -> str:
        """The ``time`` of a row's event that carries none (``events.md``: "an adapter that
        lacks it uses the moment it read the record"): the row's ``created_at`` — the moment
        the source system registered the change, in the transaction that made it — in UTC;
        only when the row has none (NULL, ``infinity``), the moment it is read (``wall``).
        From ``created_at``, reading a row again gives the same event; the event ``id`` is the
        row's own either way."""
        if created_at is not None and _REGISTERED.fullmatch(created_at):
            return created_at
        return datetime.fromtimestamp(self._wall(), UTC).isoformat(timespec="microseconds")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
