"""Pydantic input models generated from the ``.avsc`` files, so they agree with the schemas by
construction. Validation extras live in the schemas as ``schakel.*`` field attributes:

- ``schakel.kind: id`` — an identifier; a JSON number is accepted as its decimal string; at
  most :data:`MAX_IDENTIFIER_CHARS` characters, CloudEvents' allowable characters only (in an
  input event and in an event the worker reads from Kafka alike);
- ``schakel.kind: iwmo-code`` — a two-digit iWmo code (ASCII digits); ``7`` and ``"7"``
  become ``"07"``; a field named in :data:`IWMO_CODE_LISTS` must moreover be a code of its
  basisschema code list (:mod:`schemas.iwmo_codes`, generated from the official XSD, the one
  list the iWmo adapter checks too), whichever source sent it;
- ``schakel.min`` / ``schakel.max`` — inclusive bounds (numbers, codes, map values);
- ``schakel.keys`` — the closed set of keys of a map.

Numbers stay within what their Avro type holds (``int`` 32 bits, ``long`` 64 bits; floats
finite) and strings must be encodable as UTF-8, so every model-valid value also encodes.
Avro ``int``/``date`` logical types become strict ``YYYY-MM-DD`` dates of ASCII digits
(impossible dates such as 2026-02-30 are rejected); enums become closed ``Literal`` types in
catalogue spelling.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    create_model,
)
from pydantic_core import PydanticCustomError

from schemas import iwmo_codes
from schemas.catalogue import SchemaVersion, catalogue
from schemas.exceptions import InvalidBsn
from schemas.pseudonym import validate_bsn

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_CODE = re.compile(r"\d{1,2}", re.ASCII)
"""Digits are ASCII digits only (``re.ASCII``): with Unicode ``\\d`` the code ``０٧``
(full-width, Arabic-Indic) was accepted and published as it is, and a date in such digits was
refused as "not an existing calendar date"."""


FIRST_DATE = date(1000, 1, 1)
LAST_DATE = date(8999, 12, 31)
"""The dates a catalogue date may hold. The rules compute deadlines and windows of up to a
century (``streams.rules.config``) on either side of an event's dates, and Python's dates end
at 0001-01-01 and 9999-12-31: an event dated 9999-12-30 made every evaluation of its citizen
raise ``OverflowError`` (the worker dead-lettered it, the batch path stopped). A source that
writes 9999-12-31 for "no end" must leave the end date out."""


def parse_date(value: object) -> date:
    """A catalogue date: a :class:`date` or a ``YYYY-MM-DD`` string of ASCII digits that
    exists, from :data:`FIRST_DATE` to :data:`LAST_DATE`. Else :class:`ValueError`: ``not an
    existing calendar date`` (2026-02-30), ``date outside …`` (9999-12-31), or ``expected a
    date as YYYY-MM-DD …`` (any other text, digits of other scripts included)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return _within(value)
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError("not an existing calendar date") from exc
        return _within(parsed)
    raise ValueError("expected a date as YYYY-MM-DD (digits 0-9)")


def _within(day: date) -> date:
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ValueError(
            f"date outside {FIRST_DATE.isoformat()}…{LAST_DATE.isoformat()} "
            "(leave an end date out for no end)"
        )
    return day


def _identifier(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and not value.strip():
        raise ValueError("an identifier must not be empty")
    return value


IWMO_CODE_LISTS: Mapping[str, str] = {"reden_beeindiging": "LDT_RedenBeeindiging"}
"""``schakel.kind: iwmo-code`` fields → the basisschema code list their codes come from
(``sources.md``: code lists come from the basisschema; ``events.md``: enumerations are closed).
Checked for every source — outbox, webhook, JSON lines as well as iWmo — against the list in
:mod:`schemas.iwmo_codes`; a code outside it is ``unknown-value``."""


def _code(lo: int, hi: int, code_list: str | None = None) -> BeforeValidator:
    allowed = iwmo_codes.CODE_LISTS[code_list] if code_list is not None else None

    def check(value: object) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not _CODE.fullmatch(value):
            raise ValueError("expected a one- or two-digit iWmo code (digits 0-9)")
        if not lo <= int(value) <= hi:
            raise ValueError(f"iWmo code must be {lo:02d}–{hi:02d}")
        code = value.zfill(2)
        if allowed is not None and code not in allowed:
            raise PydanticCustomError(
                "unknown_code",
                "not a code of the iWmo {release} code list {name} (basisschema {code_list}: "
                "{codes})",
                {
                    "release": iwmo_codes.RELEASE,
                    "name": str(code_list).removeprefix("LDT_"),
                    "code_list": str(code_list),
                    "codes": ", ".join(allowed),
                },
            )
        return code

    return BeforeValidator(check)


MAX_IDENTIFIER_CHARS = 256
"""Longest identifier an input event may carry, in characters: the ``schakel.kind: id`` fields
of ``data`` (``casus_id``, ``traject_id``, ``signaal_id``, ``toewijzing_nummer``) and the
identifying CloudEvents attributes (:data:`schemas.envelope.MAX_ATTRIBUTE_CHARS`). Source
systems' record numbers are a few to a few dozen characters; a longer value is refused
(``string_too_long``) before it reaches Kafka, whose records are at most 1 MiB."""

_AVRO_INT_RANGE = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def _unicode_text(value: str) -> str:
    """A string that can be written as UTF-8 (Avro strings are UTF-8): no lone surrogates,
    which a JSON ``\\ud800`` escape produces."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "bad_text", "must be valid Unicode text (no lone surrogate escapes)"
        ) from None
    return value


_TEXT = AfterValidator(_unicode_text)

NOT_ALLOWABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ufdd0-\ufdef"
    + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
    + "]"
)
"""Characters CloudEvents' ``String`` type disallows (spec.md, "Type System"): the control
characters U+0000–U+001F and U+007F–U+009F, and Unicode's noncharacters (U+FDD0–U+FDEF and the
last two code points of every plane). A lone surrogate is refused by :func:`_unicode_text`."""
ALLOWABLE_RULE = (
    "must not contain control characters (U+0000-U+001F, U+007F-U+009F) or Unicode noncharacters"
)
"""The rule a value holding a :data:`NOT_ALLOWABLE` character breaks (the value is never
echoed: a line break in an identifier is most often a cell that ran into the next one)."""


def not_allowable(value: str) -> bool:
    """Whether ``value`` holds a :data:`NOT_ALLOWABLE` character. Printable ASCII (nearly
    every identifier) is answered without the regular expression, which is slow to search."""
    return not (value.isascii() and value.isprintable()) and NOT_ALLOWABLE.search(value) is not None


def _allowable(value: str) -> str:
    """An identifier of an input event: only CloudEvents' allowable characters
    (:data:`NOT_ALLOWABLE`)."""
    if not_allowable(value):
        raise PydanticCustomError("bad_text", ALLOWABLE_RULE)
    return value


_ALLOWABLE = AfterValidator(_allowable)


def _identifier_chars(value: str) -> str:
    """An identifier of at most :data:`MAX_IDENTIFIER_CHARS` characters."""
    if len(value) > MAX_IDENTIFIER_CHARS:
        raise PydanticCustomError(
            "string_too_long",
            "longer than {limit} characters",
            {"limit": MAX_IDENTIFIER_CHARS},
        )
    return value


_IDENTIFIER_CHARS = AfterValidator(_identifier_chars)


def _bounded_int(avro_type: str, spec: Mapping[str, Any]) -> Any:
    """An integer within the schema's ``schakel.min``/``schakel.max`` and within what the Avro
    type holds (an ``int`` 32 bits, a ``long`` 64): a larger number would not encode."""
    lo, hi = _AVRO_INT_RANGE[avro_type]
    ge = max(lo, spec.get("schakel.min", lo))
    le = min(hi, spec.get("schakel.max", hi))
    return Annotated[int, Strict(), Field(ge=ge, le=le)]


def _string_type(spec: Mapping[str, Any]) -> Any:
    """The pydantic type of an Avro string field (see :func:`_python_type`)."""
    kind = spec.get("schakel.kind")
    if kind == "id":
        return Annotated[
            str, BeforeValidator(_identifier), Strict(), _IDENTIFIER_CHARS, _TEXT, _ALLOWABLE
        ]
    if kind == "iwmo-code":
        code_list = IWMO_CODE_LISTS.get(spec.get("name", ""))
        return Annotated[str, _code(spec["schakel.min"], spec["schakel.max"], code_list)]
    return Annotated[str, Strict(), _TEXT]


def _python_type(avro_type: Any, spec: Mapping[str, Any]) -> Any:  # noqa: PLR0911 - one branch per Avro type
    """The pydantic type of a field, with the limits of an input event
    (:data:`MAX_IDENTIFIER_CHARS`)."""
    if isinstance(avro_type, list):
        (inner,) = [t for t in avro_type if t != "null"]
        return _python_type(inner, spec) | None
    if isinstance(avro_type, dict):
        kind = avro_type["type"]
        if avro_type.get("logicalType") == "date":
            return Annotated[date, BeforeValidator(parse_date)]
        if kind == "enum":
            symbols = tuple(s.replace("_", "-") for s in avro_type["symbols"])
            return Literal[symbols]
        if kind == "map":
            keys = spec.get("schakel.keys")
            key_type: Any = Literal[tuple(keys)] if keys else Annotated[str, _TEXT]
            return dict[key_type, _python_type(avro_type["values"], spec)]  # type: ignore[misc]  # built at run time
        if kind == "array":
            return list[_python_type(avro_type["items"], spec)]  # type: ignore[misc]  # built at run time
        return _python_type(kind, spec)
    if avro_type == "string":
        return _string_type(spec)
    if avro_type in ("int", "long"):
        return _bounded_int(avro_type, spec)
    if avro_type in ("float", "double"):
        bounds = Field(ge=spec.get("schakel.min"), le=spec.get("schakel.max"), allow_inf_nan=False)
        return Annotated[float, bounds]
    if avro_type == "boolean":
        return Annotated[bool, Strict()]
    raise TypeError(f"unsupported Avro type {avro_type!r}")


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _check_bsn(value: object) -> str:
    try:
        return validate_bsn(value, field="")
    except InvalidBsn as exc:  # let pydantic report it with the other errors
        raise ValueError(str(exc).removeprefix(": ")) from None


def _build(schema: SchemaVersion, *, with_bsn: bool) -> type[BaseModel]:
    (data_field,) = [f for f in schema.raw["fields"] if f["name"] == "data"]
    fields: dict[str, Any] = {}
    for spec in data_field["type"]["fields"]:
        annotation = _python_type(spec["type"], spec)
        default = None if "default" in spec else ...
        fields[spec["name"]] = (annotation, Field(default=default, description=spec.get("doc")))
    if with_bsn:
        fields["bsn"] = (Annotated[str, BeforeValidator(_check_bsn)], ...)
    model_name = schema.name.replace(".", "_") + ("_input" if with_bsn else "_data")
    return create_model(model_name, __base__=_Data, **fields)


@cache
def input_model(event_type: str) -> type[BaseModel]:
    """The model of ``data`` of an input event of ``event_type`` (catalogue fields + ``bsn``)."""
    return _build(catalogue().latest(event_type), with_bsn=True)


@cache
def data_model(event_type: str) -> type[BaseModel]:
    """The model of ``data`` as it travels inside Kafka (catalogue fields, no ``bsn``), with
    the limits of an input event (identifiers at most :data:`MAX_IDENTIFIER_CHARS`
    characters, CloudEvents' allowable characters): the worker checks what it reads with it,
    and any system may write to the event topics, not only an adapter."""
    return _build(catalogue().latest(event_type), with_bsn=False)
