"""The CloudEvents envelope (NL GOV profile) and input validation at the adapter boundary."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError

from schemas.catalogue import SCHAKEL_PREFIX, catalogue
from schemas.exceptions import InvalidBsn, InvalidEvent, UnknownEventType
from schemas.models import ALLOWABLE_RULE, MAX_IDENTIFIER_CHARS, input_model, not_allowable
from schemas.personal import personal_data_in
from schemas.pseudonym import holds_bsn, mask_bsn
from schemas.wire import DOMAINS, VERWIJDERD

SPECVERSION = "1.0"

_REASONS = {
    "missing": "missing-field",
    "literal_error": "unknown-value",
    "unknown_code": "unknown-value",
    "greater_than_equal": "out-of-range",
    "less_than_equal": "out-of-range",
    "int_type": "bad-type",
    "string_type": "bad-type",
    "bool_type": "bad-type",
    "float_type": "bad-type",
    "dict_type": "bad-type",
    "list_type": "bad-type",
    "bad_text": "bad-type",
    "finite_number": "out-of-range",
    "string_too_long": "too-large",
}

MAX_URI_CHARS = 2048
"""Longest ``dataschema`` / ``dataref`` (URI references) of an input event."""

MAX_ATTRIBUTE_CHARS: Mapping[str, int] = {
    "id": MAX_IDENTIFIER_CHARS,
    "source": MAX_IDENTIFIER_CHARS,
    "time": 64,
    "datacontenttype": MAX_IDENTIFIER_CHARS,
    "dataschema": MAX_URI_CHARS,
    "dataref": MAX_URI_CHARS,
    "bronsleutel": MAX_IDENTIFIER_CHARS,
    "sequence": MAX_IDENTIFIER_CHARS,
}
"""Longest value, in characters, of each CloudEvents attribute of an input event that leaves
the adapter; a longer one is refused (reason ``too-large``, the field named). The CloudEvents
spec sets no length per attribute; these bounds are far above what any source sends (an id
derived by an adapter is 32 characters, a ``source`` URN about 50, an RFC 3339 ``time`` at
most 35, an iWmo ``bronsleutel`` about 70, a URI rarely over a few hundred) and keep every
valid input event far below the 64 KiB that CloudEvents asks every intermediary to forward
and the 1 MiB a Kafka record may have. ``type`` is checked against the catalogue instead;
an input ``subject`` never leaves (the pseudonym replaces it). Identifiers in ``data``:
:data:`schemas.models.MAX_IDENTIFIER_CHARS`."""


@dataclass(frozen=True, slots=True)
class Event:
    """A catalogue event inside Schakel: pseudonymised (``subject``), no BSN in ``data``.

    ``data`` holds Python values: dates as :class:`datetime.date`, enums in catalogue spelling.
    ``bronsleutel`` and ``sequence`` are the record-version extension attributes of
    ``events.md`` ("Corrections and deletions"), fields of the Avro envelope: both or neither
    on a version of a source record. ``domein`` is routing only, for a
    :data:`~schemas.wire.VERWIJDERD`: the domain whose event topic carries it (not
    serialized; the topic it travels on says it).
    """

    id: str
    source: str
    type: str
    subject: str | None
    data: Mapping[str, Any]
    time: str | None = None
    specversion: str = SPECVERSION
    datacontenttype: str | None = None
    dataschema: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)
    bronsleutel: str | None = None
    sequence: str | None = None
    domein: str | None = field(default=None, compare=False)

    @property
    def datum(self) -> date | None:
        value = self.data.get("datum")
        return value if isinstance(value, date) else None

    @property
    def parsed_time(self) -> datetime | None:
        return datetime.fromisoformat(self.time) if self.time else None

    def to_record(self) -> dict[str, Any]:
        """The Avro record (catalogue spelling; :func:`schemas.catalogue.to_avro` translates)."""
        return {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time,
            "subject": self.subject,
            "datacontenttype": self.datacontenttype,
            "dataschema": self.dataschema,
            "bronsleutel": self.bronsleutel,
            "sequence": self.sequence,
            "data": dict(self.data),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Event:
        return cls(
            specversion=record["specversion"],
            id=record["id"],
            source=record["source"],
            type=record["type"],
            time=record.get("time"),
            subject=record.get("subject"),
            datacontenttype=record.get("datacontenttype"),
            dataschema=record.get("dataschema"),
            data=record["data"],
            bronsleutel=record.get("bronsleutel"),
            sequence=record.get("sequence"),
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-safe structured-mode CloudEvent (absent optional attributes left out)."""
        out: dict[str, Any] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
        }
        for name in ("time", "subject", "datacontenttype", "dataschema", "bronsleutel", "sequence"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out["data"] = {k: jsonable(v) for k, v in self.data.items()}
        return out


def jsonable(value: Any) -> Any:
    """Dates as ISO strings, containers recursively; everything else unchanged."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _nonempty_str(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if value is None:
        raise InvalidEvent(
            f"{name}: required CloudEvents attribute is missing", field=name, reason="missing-field"
        )
    if not isinstance(value, str) or not value.strip():
        raise InvalidEvent(f"{name}: must be a non-empty string", field=name, reason="bad-type")
    return value


def _required_str(raw: Mapping[str, Any], name: str) -> str:
    return _text(_nonempty_str(raw, name), name)


def _bounded(value: str, name: str) -> str:
    """``value`` unless it is longer than :data:`MAX_ATTRIBUTE_CHARS` allows for attribute
    ``name`` (``too-large``)."""
    limit = MAX_ATTRIBUTE_CHARS.get(name)
    if limit is not None and len(value) > limit:
        raise InvalidEvent(
            f"{name}: longer than {limit} characters", field=name, reason="too-large"
        )
    return value


def _text(value: str, name: str) -> str:
    """``value`` if it is valid Unicode within its length bound (:func:`_bounded`) and holds
    only characters CloudEvents allows in a ``String`` (:data:`~schemas.models.NOT_ALLOWABLE`:
    no control characters — a line break in ``id`` could not travel as an HTTP header or a
    log line — nor noncharacters); else :class:`InvalidEvent` (``bad-type``)."""
    _bounded(value, name)
    try:
        if not value.isascii():
            value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidEvent(
            f"{name}: must be valid Unicode text (no lone surrogate escapes)",
            field=name,
            reason="bad-type",
        ) from None
    if not_allowable(value):
        raise InvalidEvent(f"{name}: {ALLOWABLE_RULE}", field=name, reason="bad-type")
    return value


def _optional_str(raw: Mapping[str, Any], name: str) -> str | None:
    """An optional string attribute; a value of another type is left out (as before)."""
    value = raw.get(name)
    return _no_bsn(_text(value, name), name) if isinstance(value, str) else None


BSN_IN_IDENTIFIER = "bsn-in-identifier"
"""Reason code of a record refused because an identifier or attribute holds a possible BSN."""
BSN_IN_IDENTIFIER_RULE = (
    "holds a number that passes the BSN elfproef; identifiers and attributes must not contain "
    "a BSN (only data.bsn may)"
)
"""The rule a :data:`BSN_IN_IDENTIFIER` rejection states, after the name of the field, column
or element (never the value)."""


def _no_bsn(value: str, name: str) -> str:
    """``value`` unless it holds a possible BSN (:func:`schemas.pseudonym.holds_bsn`):
    identifiers and attributes travel in clear to Kafka and API answers."""
    if holds_bsn(value):
        raise InvalidEvent(
            f"{name}: {BSN_IN_IDENTIFIER_RULE}", field=name, reason=BSN_IN_IDENTIFIER
        )
    return value


PERSONAL_DATA_IN_IDENTIFIER = "personal-data-in-identifier"
"""Reason code of a record refused because an identifier holds an e-mail address or an IBAN
(:func:`schemas.personal.personal_data_in`)."""


def personal_data_rule(kind: str) -> str:
    """The rule a :data:`PERSONAL_DATA_IN_IDENTIFIER` rejection states, after the name of the
    field, column or element: which kind of data was found, never the value."""
    article = "an" if kind[0] in "aeiouAEIOU" else "a"
    return (
        f"holds {article} {kind}; identifiers must not contain personal data "
        "(e-mail addresses, IBANs)"
    )


def _identifier(value: str, name: str) -> str:
    """``value`` unless it holds a possible BSN (:func:`_no_bsn`) or other personal data
    (:func:`schemas.personal.personal_data_in`, reason :data:`PERSONAL_DATA_IN_IDENTIFIER`):
    for identifiers (``id``, ``bronsleutel``, ``sequence``, ``dataref`` and every string in
    ``data``), not
    for attributes that name a system or a format (``source``, ``dataschema``: a functional
    mailbox in a ``mailto:`` source is no citizen's)."""
    _no_bsn(value, name)
    kind = personal_data_in(value)
    if kind is not None:
        raise InvalidEvent(
            f"{name}: {personal_data_rule(kind)}", field=name, reason=PERSONAL_DATA_IN_IDENTIFIER
        )
    return value


_NO_TEXT = frozenset({date, bool, float, type(None)})
"""Types of data values that hold no text nor whole number (:func:`no_personal_data_in_data`)."""
_NINE_DIGITS_LOW = 100_000_000
_NINE_DIGITS_HIGH = 1_000_000_000


def _no_personal_data_inside(value: Any, name: str, *, personal: bool = True) -> None:
    """:func:`_identifier` (:func:`_no_bsn` only, without ``personal``) for every string and
    :func:`_no_bsn` for every whole number in a (nested) data value, map keys included; the
    field named is the catalogue field (a key is never echoed). Numbers count: a BSN shifted
    into ``dagen_achterstand`` by a mixed-up export column would otherwise be published as it
    is."""
    if isinstance(value, str):
        _identifier(value, name) if personal else _no_bsn(value, name)
    elif isinstance(value, bool | date | float) or value is None:
        return  # the common values, before the costlier checks below
    elif isinstance(value, int):
        if _NINE_DIGITS_LOW <= abs(value) < _NINE_DIGITS_HIGH:  # else no run of nine digits
            _no_bsn(str(value), name)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _no_personal_data_inside(key, name, personal=personal)
            _no_personal_data_inside(item, name, personal=personal)
    elif isinstance(value, list | tuple):
        for item in value:
            _no_personal_data_inside(item, name, personal=personal)


_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
"""RFC 3339's ``date-time`` (what CloudEvents requires of ``time``): Python's
``fromisoformat`` also takes ISO 8601 forms other consumers refuse (``20260101T000000+0100``,
week dates, ``T00+01:00``, a decimal comma, an offset with seconds). Upper-case ``T`` and
``Z`` only, as before: RFC 3339 allows lower case, which Python 3.11 cannot read."""


def _validate_time(value: object) -> str | None:
    """``value`` if it is ``None`` or an RFC 3339 ``date-time`` with an offset (:data:`_RFC3339`)
    that names an instant Python can hold in UTC — ``0001-01-01T00:00:00+14:00`` is in year 0
    there, ``9999-12-31T23:59:59-23:59`` in year 10000, and ordering events by it would
    overflow (:attr:`streams.model.TimelineEvent.sort_key`); else :class:`InvalidEvent`
    (``bad-time``, the value not echoed)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = _bounded(value, "time")  # Python parses a fraction of any length
        try:
            parsed = datetime.fromisoformat(value) if _RFC3339.fullmatch(value) else None
            if parsed is not None and parsed.tzinfo is not None:
                parsed.astimezone(UTC)
                return value
        except (ValueError, OverflowError):  # no existing instant (2026-02-30, 25:00, year 0)
            pass
    raise InvalidEvent(
        "time: must be an RFC 3339 timestamp with offset, e.g. 2026-01-10T09:30:00+01:00",
        field="time",
        reason="bad-time",
    )


def _value_error_reason(message: str) -> str:
    """Reason codes for the checks of :mod:`schemas.models` (pydantic calls them value_error)."""
    if "date" in message:
        return "bad-date"
    if "iWmo code must be" in message:
        return "out-of-range"
    if "iWmo code" in message:
        return "bad-type"
    return "invalid"


MAX_MESSAGE_CHARS = 200
"""Longest message of an :class:`InvalidEvent` / rejection that is stored or answered."""


def short_message(text: str) -> str:
    """``text`` as it may be stored or answered: BSN-like numbers masked, at most
    :data:`MAX_MESSAGE_CHARS` characters (cut with ``…``), valid UTF-8."""
    text = mask_bsn(text).encode("utf-8", "replace").decode("utf-8")
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    return text[: MAX_MESSAGE_CHARS - 1] + "…"


@cache
def _catalogue_keys() -> frozenset[str]:
    """Every closed map key of the catalogue (``schakel.keys``, e.g. the ZRM domains)."""
    keys: set[str] = set()
    for name in catalogue().input_types:
        for spec in _data_fields(catalogue().latest(name).raw):
            keys.update(spec.get("schakel.keys", ()))
    return frozenset(keys)


def _data_fields(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    (data,) = [f for f in raw["fields"] if f["name"] == "data"]
    return list(data["type"]["fields"])


def _location(prefix: str, loc: tuple[int | str, ...]) -> str:
    """The dotted path of an error without submitted values: after the catalogue field, a
    map key is shown only if it is a catalogue key (``data.scores.financien``), any other key
    as ``<key>``; list positions are shown."""
    parts = [prefix, str(loc[0])] if loc else [prefix]
    for part in loc[1:]:
        if isinstance(part, int) or part == "[key]" or part in _catalogue_keys():
            parts.append(str(part))
        else:
            parts.append("<key>")
    return ".".join(parts)


def describe_validation_error(exc: ValidationError, prefix: str) -> InvalidEvent:
    """Turn a pydantic error into an :class:`InvalidEvent` without echoing input values: each
    problem is its field path (map keys that are not catalogue keys shown as ``<key>``) and
    pydantic's description of the rule; the message is at most :data:`MAX_MESSAGE_CHARS`."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    parts = [
        f"{_location(prefix, err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
        for err in errors
    ]
    message = short_message("; ".join(dict.fromkeys(parts)))  # the same problem once
    first = errors[0]
    loc = _location(prefix, first["loc"])
    if loc == "data.bsn":
        return InvalidBsn(message)
    reason = _REASONS.get(first["type"]) or _value_error_reason(first["msg"])
    return InvalidEvent(message, field=loc, reason=reason)


def _versioning(raw: Mapping[str, Any], event_type: str) -> tuple[str | None, str | None]:
    """``bronsleutel`` and ``sequence`` of an input event: each absent or a non-empty string
    without a BSN; ``sequence`` required with ``bronsleutel``; both required on a
    :data:`~schemas.wire.VERWIJDERD`."""
    if event_type != VERWIJDERD and raw.get("bronsleutel") is None and raw.get("sequence") is None:
        return None, None  # most events: neither
    values: dict[str, str | None] = {}
    for name in ("bronsleutel", "sequence"):
        value = raw.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InvalidEvent(f"{name}: must be a non-empty string", field=name, reason="bad-type")
        values[name] = None if value is None else _identifier(_text(value, name), name)
    bronsleutel, sequence = values["bronsleutel"], values["sequence"]
    if event_type == VERWIJDERD and bronsleutel is None:
        raise InvalidEvent(
            "bronsleutel: required on nl.schakel.bron.verwijderd (the record it withdraws)",
            field="bronsleutel",
            reason="missing-field",
        )
    if bronsleutel is not None and sequence is None:
        raise InvalidEvent(
            "sequence: required with bronsleutel (it orders the versions of the record)",
            field="sequence",
            reason="missing-field",
        )
    return bronsleutel, sequence


def _domain(raw: Mapping[str, Any], event_type: str) -> str | None:
    """The ``domein`` attribute of an input :data:`~schemas.wire.VERWIJDERD` (required: the
    domain of the record it withdraws, which picks its topic); ignored on other types."""
    if event_type != VERWIJDERD:
        return None
    value = raw.get("domein")
    if value not in DOMAINS:
        raise InvalidEvent(
            "domein: required on nl.schakel.bron.verwijderd, one of " + ", ".join(DOMAINS),
            field="domein",
            reason="missing-field" if value is None else "unknown-value",
        )
    return str(value)


def _check_specversion(raw: Mapping[str, Any]) -> None:
    specversion = raw.get("specversion")
    if specversion != SPECVERSION:
        raise InvalidEvent(
            'specversion: must be "1.0"',
            field="specversion",
            reason="missing-field" if specversion is None else "bad-version",
        )


def _identity(raw: Mapping[str, Any]) -> tuple[str, str]:
    """``id`` and ``source``: non-empty strings within their bounds, allowable characters,
    no possible BSN."""
    return (
        _identifier(_required_str(raw, "id"), "id"),
        _checked_source(_nonempty_str(raw, "source")),
    )


@lru_cache(maxsize=256)
def _checked_source(value: str) -> str:
    """:func:`_text` and :func:`_no_bsn` of a ``source``: the same URN on most events of a
    system, so a good one is remembered (a refusal is raised anew each time). The BSN check
    of a URN with a long number in it (an OIN) is the costliest check of an event."""
    return _no_bsn(_text(value, "source"), "source")


def _time(raw: Mapping[str, Any]) -> str | None:
    """``time``: absent or RFC 3339 with an offset (:func:`_validate_time`), no possible BSN."""
    time = _validate_time(raw.get("time"))
    if time is not None:
        _no_bsn(time, "time")  # fractions of a second are free digits
    return time


def no_personal_data_in_data(data: Mapping[str, Any], *, personal: bool = True) -> None:
    """:class:`InvalidEvent` (the first field found named) if a string or whole number
    anywhere in ``data`` (catalogue fields; map keys included) holds a possible BSN
    (``bsn-in-identifier``), or — unless ``personal`` is false — a string holds an e-mail
    address or an IBAN (``personal-data-in-identifier``,
    :func:`schemas.personal.personal_data_in`)."""
    for name, value in data.items():
        kind = value.__class__
        if kind in _NO_TEXT:  # the common cases
            continue
        if kind is str and not holds_bsn(value) and not (personal and personal_data_in(value)):
            continue
        _no_personal_data_inside(value, f"data.{name}", personal=personal)


def validate_record(record: Mapping[str, Any]) -> None:
    """The envelope rules of :func:`validate_input` for an event read from an event topic (an
    Avro record, catalogue spelling): a system may write there directly, not only an adapter,
    so the worker checks what an adapter would have checked. ``specversion`` 1.0; ``id`` and
    ``source`` non-empty, within :data:`MAX_ATTRIBUTE_CHARS`, allowable characters; ``time``
    absent or RFC 3339 with an offset; ``bronsleutel`` and ``sequence`` (:func:`_versioning`);
    ``datacontenttype`` and ``dataschema`` as :func:`validate_input` keeps them; none of them
    holding a possible BSN, nor ``id``, ``bronsleutel`` and ``sequence`` an e-mail address or
    an IBAN. ``type``, ``subject`` (a pseudonym here) and ``data`` are the reader's to check
    (:func:`no_personal_data_in_data`). Raises :class:`InvalidEvent` with the reason
    :func:`validate_input` gives (the value never in the message)."""
    _check_specversion(record)
    _identity(record)
    _time(record)
    _versioning(record, str(record.get("type")))
    for name in ("datacontenttype", "dataschema"):
        _optional_str(record, name)


def validate_input(raw: object, pseudonymise: Callable[[str], str]) -> Event:
    """Validate one structured-mode input CloudEvent and pseudonymise it.

    Checks the envelope (``specversion`` 1.0, ``id``, ``source``, ``type`` in the catalogue,
    optional RFC 3339 ``time``) and ``data`` against the type's model, including ``data.bsn``.
    Every string that leaves the adapter — ``id``, ``source``, ``time``, ``datacontenttype``,
    ``dataschema`` and every string in ``data`` (``casus_id``, ``traject_id``, ``signaal_id``,
    ``toewijzing_nummer``, …, and whole numbers), ``bronsleutel`` and ``sequence`` — must
    not hold a possible BSN (:func:`holds_bsn`; reason ``bsn-in-identifier``); the
    identifiers among them (``id``, ``bronsleutel``, ``sequence``, ``dataref``, the strings in
    ``data``) must not hold an e-mail address or an IBAN either (:func:`_identifier`; reason
    ``personal-data-in-identifier``); none may be longer than its bound
    (:data:`MAX_ATTRIBUTE_CHARS`, identifiers in ``data``
    :data:`~schemas.models.MAX_IDENTIFIER_CHARS`; reason ``too-large``). A
    ``nl.schakel.bron.verwijderd`` (the one ``nl.schakel.*`` type a source may send) needs
    ``bronsleutel``, ``sequence`` and ``domein`` (:func:`_versioning`, :func:`_domain`). An
    input ``subject`` is not checked: it never leaves, the pseudonym replaces it. Returns an
    :class:`Event` whose ``subject`` is the pseudonym and whose ``data`` holds only catalogue
    fields. Raises :class:`InvalidEvent` (never with a value of the event in the message).
    """
    if not isinstance(raw, Mapping):
        raise InvalidEvent("the event must be a JSON object", reason="bad-type")
    _check_specversion(raw)
    event_id, source = _identity(raw)
    event_type = _required_str(raw, "type")
    if event_type.startswith(SCHAKEL_PREFIX) and event_type != VERWIJDERD:
        raise UnknownEventType(
            f"type: {SCHAKEL_PREFIX}* types are produced by Schakel itself and are not "
            "accepted as input"
        )
    if event_type not in catalogue().input_types and event_type != VERWIJDERD:
        raise UnknownEventType("type: not in the event catalogue (events.md)")
    bronsleutel, sequence = _versioning(raw, event_type)
    domein = _domain(raw, event_type)
    time = _time(raw)
    data = raw.get("data")
    if not isinstance(data, Mapping):
        raise InvalidEvent("data: required object is missing", field="data", reason="missing-field")
    try:
        model = input_model(event_type).model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(exc, "data") from None
    values = model.model_dump()
    subject = pseudonymise(values.pop("bsn"))
    no_personal_data_in_data(values)
    return Event(
        id=event_id,
        source=source,
        type=event_type,
        subject=subject,
        data=values,
        time=time,
        datacontenttype=_optional_str(raw, "datacontenttype"),
        dataschema=_optional_str(raw, "dataschema"),
        extra=_extensions(raw),
        bronsleutel=bronsleutel,
        sequence=sequence,
        domein=domein,
    )


EXTENSIONS = ("dataref",)
"""NL GOV profile v1.1 extension attributes kept from the input in :attr:`Event.extra`: the
Avro envelope has no field for them (``sequence`` has one), they travel only as ``ce_<name>``
headers (:mod:`schemas.binding`)."""


def _extensions(raw: Mapping[str, Any]) -> dict[str, str]:
    """The :data:`EXTENSIONS` of the input that are non-empty strings; each is an identifier
    (:func:`_identifier`: no possible BSN, e-mail address or IBAN) — ``dataref`` locates this
    event's own payload, a per-record reference (``…/klanten/<e-mail>/dossier``), not the name
    of a system or a format like ``source`` and ``dataschema``. Asked as written and, if it
    holds a ``%``, percent-decoded too (``j.jansen%40example.nl`` is an e-mail address in a
    URI); a URI with a user part (``https://svc@host.nl/…``) is refused as one."""
    out = {}
    for name in EXTENSIONS:
        value = _optional_str(raw, name)
        if value:
            out[name] = _identifier(value, name)
            if "%" in value:
                _identifier(unquote(value), name)
    return out
