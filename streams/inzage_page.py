"""The auditor's page, ``GET /api/v1/inzage``: one page of the audit trail on
``schakel.inzage``, newest first, as rows an auditor may read (docs/api.md).

Contract of :func:`listing` (the HTTP plumbing — token, role, purpose, paging, the audit
record of this read, the answer — is :mod:`streams.api`'s, as for every endpoint):

- Records are read from the topic (:func:`streams.topicpage.read_page`) and decoded beside
  the event loop: the registry client blocks, with retries, for up to a minute. Read as
  written (``read_uncommitted``), in every profile: the audit trail is written outside the
  worker's transactions (:mod:`streams.audit`), so none of its records is ever aborted.
- Any producer may write to the topic. A record that is no
  ``nl.schakel.inzage.geregistreerd`` (not the wire format, a schema the registry does not
  hold, another event type) is a row ``onleesbaar``: its Kafka time (null if it is no date:
  :func:`record_time`) and offset only, never its content, and never a failure of the whole
  page. So is a record whose schema id the registry refuses to tell this worker (403: a
  per-subject access rule on another producer's schema; 404): a refusal about that one id.
- An audit record (of any schema version) is shown as recorded, except that a subject that
  is no pseudonym is :data:`INVALID_PSEUDONYM` and a number that could be a BSN is masked
  (:func:`_masked`); the worker's own records hold none, so they are shown unchanged.
- The schema registry unreachable (:class:`~schemas.exceptions.RegistryUnavailable`):
  :class:`RecordsUnavailable` (transient; the API answers 503), its message free of the
  registry's address, logged as ``api.registry_unavailable`` at most a line a minute
  (:func:`registry_unavailable_log`). The registry refusing the worker itself
  (:class:`~schemas.exceptions.RegistryRefused` with status 401, or 0 for a TLS handshake:
  credentials or certificates; any other status but 403 and 404) is raised as it
  is, for the API to answer (502) and log, never with a schema or a record's content.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.exceptions import RegistryRefused, RegistryUnavailable, SerdeError, TransientError
from schemas.log_limits import RefusalLog
from schemas.pseudonym import holds_bsn, is_pseudonym, mask_bsn
from schemas.serde import RecordDeserializer
from streams.audit import AUDIT_FIELDS, AUDIT_TYPE
from streams.exceptions import StreamsError
from streams.purpose import mask_bsn_numbers
from streams.topicpage import read_page

log = logging.getLogger("schakel.api")

ROW_REFUSED = RefusalLog(log, "api.registry_row_refused")
"""The line of an audit record whose schema id the registry refuses to tell the worker (the
``status``: 403 or 404): the row is ``onleesbaar``; at most a line a minute, for the process."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HEX_TOKEN = re.compile(r"(?<![0-9a-f])([0-9a-f]{32})(?![0-9a-f])")
INVALID_PSEUDONYM = "[ongeldig]"
"""What stands for a value that is no pseudonym (it may be a BSN): a subject on this page,
and the path segment in an audit record's ``wat`` (:mod:`streams.api`)."""


def record_time(record: Any) -> str | None:
    """The Kafka timestamp of ``record`` (ms since the epoch) as ISO 8601, UTC, to the
    millisecond; None when it is no date from the year 1 to 9999 — any producer may write any
    timestamp, and one row's time is no reason to fail the page."""
    try:
        moment = _EPOCH + timedelta(milliseconds=record.timestamp)
    except OverflowError:
        return None
    return moment.isoformat(timespec="milliseconds")


ROW_REFUSALS = frozenset({403, 404})
"""Statuses of a registry refusal about one record's schema id (a per-subject access rule on
another producer's schema, an id it does not hold): that row is ``onleesbaar``. Any other
refusal (401, a TLS handshake: the worker's own credentials) fails the page (502)."""


def audit_row(deserializer: RecordDeserializer, record: Any) -> dict[str, Any]:
    """One row of the audit trail: ``id``, ``subject``, :data:`AUDIT_FIELDS`, ``onleesbaar``
    and the record's ``offset`` on the topic. Any producer may write to the topic: a record
    that is no ``nl.schakel.inzage.geregistreerd`` (not the wire format, a schema the registry
    does not hold or will not tell this worker — 403 or 404 for that schema id —, another
    event type) is ``onleesbaar`` — its Kafka time and offset only, never its content. An
    audit record (of any schema version) is shown as recorded, but a subject that is no
    pseudonym is :data:`INVALID_PSEUDONYM` and a number that could be a BSN is masked
    (:func:`_masked`; the worker's own records hold none, so they are shown unchanged).
    Raises what the deserializer raises for an outage
    (:class:`~schemas.exceptions.RegistryUnavailable`) or a refusal of the worker
    (:class:`~schemas.exceptions.RegistryRefused` other than :data:`ROW_REFUSALS`)."""
    try:
        event = deserializer(record.value)
    except SerdeError:
        event = None
    except RegistryRefused as exc:
        if exc.status not in ROW_REFUSALS:
            raise
        # said, or a registry that refuses the worker every schema id (a role missing under
        # RBAC) would show a page of unreadable rows behind a 200 without a word
        ROW_REFUSED(status=exc.status)
        event = None
    if event is None or event.type != AUDIT_TYPE:
        empty = dict.fromkeys(("id", "subject", *AUDIT_FIELDS))
        return {
            **empty,
            "tijd": record_time(record),
            "onleesbaar": True,
            "offset": record.offset,
        }
    subject = event.subject
    if subject is not None and not is_pseudonym(subject):
        subject = INVALID_PSEUDONYM
    data = {name: str(value) for name, value in event.data.items()}
    fields = {
        "wie": _masked(data.get("wie", "")),
        "rol": _masked(data.get("rol", "")),
        "doel": _masked(data.get("doel", "")),
        "wat": _masked(data.get("wat", ""), keep_pseudonyms=True),
        "tijd": _time_shown(data.get("tijd", "")),
    }
    return {
        "id": event.id if is_pseudonym(event.id) else _masked(event.id),
        "subject": subject,
        **fields,
        "onleesbaar": False,
        "offset": record.offset,
    }


def _masked(text: str, *, keep_pseudonyms: bool = False) -> str:
    """``text`` with every number that could be a BSN masked, and nothing else: an audit
    trail shows what was recorded. A number that cannot be one (it fails the elfproef: a case
    number, a client's name with digits, a rule id) is shown as written — the purpose is
    stored so (:func:`streams.purpose.clean_purpose`), and :func:`mask_bsn`, which masks
    every nine digits, would show ``zaak 123456789`` as ``zaak *********``. Masked: what the
    purpose's masking finds (:func:`streams.purpose.mask_bsn_numbers`), then, if
    :func:`holds_bsn` still finds one (a spelling only it reads: a run of invisible
    characters within), :func:`mask_bsn` of it all. ``keep_pseudonyms``: 32 lower-case hex
    digits standing on their own are kept as they are (the pseudonym the worker writes in
    ``wat``: about one in 160 holds nine digits that could be a BSN); elsewhere (a purpose, a
    client's name) they are text like any other."""
    parts = _HEX_TOKEN.split(text) if keep_pseudonyms else [text]
    return "".join(
        part if keep_pseudonyms and is_pseudonym(part) else _bsns_masked(part) for part in parts
    )


def _bsns_masked(text: str) -> str:
    masked = mask_bsn_numbers(text)
    return mask_bsn(masked) if holds_bsn(masked) else masked


def _time_shown(text: str) -> str:
    """An audit record's ``tijd`` as recorded when it is a time (ISO 8601: its digits are a
    time, ``18:50:57.123`` no BSN); anything else :func:`_masked`."""
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return _masked(text)
    return text


class RecordsUnavailable(StreamsError, TransientError):
    """Transient: the records of a page cannot be decoded now (the schema registry does not
    answer for a schema id not looked up yet). 503 with ``Retry-After``, not audited (nothing
    was read), as every read during an outage."""


def registry_unavailable_log() -> RefusalLog:
    """The line ``api.registry_unavailable`` (the endpoint) of a page that could not be
    decoded because the schema registry does not answer: every read of the page meets it for
    as long as the outage lasts, so the first at once, then at most a line a minute with
    ``weggelaten`` (:class:`~schemas.log_limits.RefusalLog`). One per API
    (:func:`streams.api.register_api`)."""
    return RefusalLog(log, "api.registry_unavailable")


def _read_rows(
    bootstrap: str,
    topic: str,
    deserializer: RecordDeserializer,
    page: int,
    per_page: int,
    *,
    unavailable: RefusalLog,
) -> tuple[list[dict[str, Any]], int]:
    """The rows of one page of the audit trail and the records on the topic: read and
    decoded in the caller's thread (the registry client blocks, with retries)."""
    # read as written: the audit trail's producer writes outside any transaction
    # (streams.audit), so no record of it is ever aborted, and a transaction some other
    # producer left open on the topic must not hide the records after it
    found = read_page(bootstrap, topic, page, per_page, committed=False)
    try:
        rows = [audit_row(deserializer, record) for record in found.records]
    except RegistryUnavailable as exc:  # its message names the registry: not for the answer
        unavailable(endpoint="inzage")
        raise RecordsUnavailable("inzage: het schemaregister is nu niet bereikbaar") from exc
    return rows, found.total


async def listing(
    bootstrap: str,
    topic: str,
    deserializer: RecordDeserializer,
    page: int,
    per_page: int,
    *,
    unavailable: RefusalLog,
) -> dict[str, Any]:
    """The answer to ``GET /api/v1/inzage``: ``inzage``, the rows of page ``page`` (of
    ``per_page`` rows) of the audit trail on ``topic``, newest first (:func:`audit_row`),
    ``pagina``, ``per_pagina`` and ``totaal``, the records on the topic; read and decoded
    beside the event loop. Raises :class:`streams.topicpage.TopicUnavailable`,
    :class:`RecordsUnavailable` (told to ``unavailable``, :func:`registry_unavailable_log`)
    or :class:`~schemas.exceptions.RegistryRefused` (see the module docstring)."""
    read = (bootstrap, topic, deserializer, page, per_page)
    rows, total = await asyncio.to_thread(_read_rows, *read, unavailable=unavailable)
    return {"inzage": rows, "pagina": page, "per_pagina": per_page, "totaal": total}
