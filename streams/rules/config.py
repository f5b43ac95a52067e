"""Validation and compilation of one rule definition (a YAML mapping) into a :class:`Rule`.

The vocabulary is documented in ``docs/rules.md``. Validation is strict: unknown keys, unknown
event types, unknown fields or enumeration values, unknown or unused parameters, a ``leest``
that differs from the types the definition needs, and unknown template placeholders are all
errors, raised as :class:`~streams.exceptions.RuleFileError` naming file, rule id and field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from streams.exceptions import RuleFileError
from streams.rules import catalogue as cat
from streams.rules.calendar import Period
from streams.rules.conditions import All, AnyOf, Atom, Condition, Domains, Not
from streams.rules.definitions import (
    EventMatch,
    FieldMatch,
    Scalar,
)
from streams.rules.states import STATES

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_CODE = re.compile(r"0*([1-9][0-9]?)", re.ASCII)
"""An iWmo code of a filter: 1–99 in ASCII digits, leading zeros allowed (group 1 without
them). ``str.isdigit`` also took ``²`` (then ``int`` raised ``ValueError``) and ``٠٧`` (taken
as ``07``)."""
_PARAM_NAME = re.compile(r"[a-z_][a-z0-9_]*")
PARAM_SECTIONS = ("conditie", "start", "paar", "termijn", "verwacht")
"""The top-level keys of a rule in which :meth:`RuleCompiler.substitute` replaces a
``$name`` by the value of parameter ``name``."""
MAX_DAYS = 36_525
"""Longest period a rule may state (``dagen``, ``werkdagen``, ``binnen_dagen``): 100 years.
A longer one passed validation and then raised ``OverflowError`` at every evaluation (a date
beyond the year 9999)."""

LABEL_FILTERS: Mapping[str, tuple[str, str]] = {
    "voorziening": ("productcategorie", cat.VOORZIENING_TOEGEWEZEN),
    "traject": ("soort", cat.TRAJECT_GESTART),
    "uitkering": ("regeling", cat.UITKERING_TOEGEKEND),
    "regie": ("rol", cat.REGIE_TOEGEWEZEN),
}
"""State → (filter key, the catalogue type whose field defines its values)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EventModel(_Strict):
    gebeurtenis: str
    velden: dict[str, Any] = Field(default_factory=dict)


class VorigeModel(EventModel):
    onder: list[str] = Field(min_length=1)
    binnen_dagen: int = Field(ge=0, le=MAX_DAYS)


class StartModel(EventModel):
    sleutel: str | None = None
    vorige: VorigeModel | None = None
    opent: str | None = None


class PaarModel(_Strict):
    eerste: EventModel
    tweede: EventModel
    binnen_dagen: int = Field(ge=0, le=MAX_DAYS)
    niet_opnieuw_zolang_open: bool = True


class _PeriodModel(_Strict):
    dagen: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    werkdagen: int | None = Field(default=None, ge=0, le=MAX_DAYS)

    @model_validator(mode="after")
    def _one_unit(self) -> _PeriodModel:
        if (self.dagen is None) == (self.werkdagen is None):
            raise ValueError("give exactly one of 'dagen' and 'werkdagen'")
        return self

    def period(self) -> Period:
        if self.werkdagen is not None:
            return Period(self.werkdagen, working_days=True)
        assert self.dagen is not None
        return Period(self.dagen)


class UitzonderingModel(_PeriodModel):
    velden: dict[str, Any] = Field(min_length=1)


class TermijnModel(_PeriodModel):
    uitzonderingen: list[UitzonderingModel] = Field(default_factory=list)


class VerwachtEventModel(EventModel):
    vanaf: Any = "sinds"
    zelfde: list[str] = Field(default_factory=list)


class VerwachtToestandModel(_Strict):
    toestand: Any
    op: Literal["sinds", "termijn"]


class RuleModel(_Strict):
    """The top level of a rule file."""

    id: str
    titel: str = Field(min_length=1)
    doel: str = Field(min_length=1)
    grondslag: str = Field(min_length=1)
    actief: bool = True
    leest: list[str] = Field(min_length=1)
    parameters: dict[str, int | bool | str | list[str]] = Field(default_factory=dict)
    vorm: Literal["episode", "gebeurtenis", "paar"]
    conditie: Any = None
    start: StartModel | None = None
    paar: PaarModel | None = None
    termijn: TermijnModel | None = None
    verwacht: list[dict[str, Any]] = Field(default_factory=list)
    uitleg: str = Field(min_length=1)


_M = TypeVar("_M", bound=BaseModel)


def _loc(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class RuleCompiler:
    """Compiles one raw rule mapping; every error names ``source``, the rule id and the field."""

    def __init__(self, source: str, rule_id: str | None) -> None:
        self.source = source
        self.rule_id = rule_id

    def error(self, field: str | None, message: str) -> RuleFileError:
        """An error located in this rule."""
        return RuleFileError(self.source, self.rule_id, field, message)

    def model(self, model: type[_M], raw: Any, field: str) -> _M:
        """Validate ``raw`` against a pydantic model, converting the first error."""
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = _loc([*([field] if field else []), *first["loc"]])
            message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
            raise self.error(where or None, message) from exc

    # --- parameters -----------------------------------------------------------------------

    def substitute(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
        """Replace every ``$name`` in the definition sections by its parameter value."""
        params = raw.get("parameters") or {}
        if not isinstance(params, Mapping):
            raise self.error("parameters", "must be a mapping of name to value")
        for name in params:
            if not isinstance(name, str) or not _PARAM_NAME.fullmatch(name):
                raise self.error(f"parameters.{name}", "name must match [a-z_][a-z0-9_]*")
        used: set[str] = set()
        out = dict(raw)
        for section in PARAM_SECTIONS:
            if section in out:
                out[section] = self._substitute(out[section], params, used, section)
        return out, used

    def _substitute(self, node: Any, params: Mapping[str, Any], used: set[str], path: str) -> Any:
        if isinstance(node, str) and node.startswith("$"):
            name = node[1:]
            if name not in params:
                known = ", ".join(sorted(params)) or "none"
                raise self.error(path, f"unknown parameter '{name}' (defined: {known})")
            used.add(name)
            value = params[name]
            return list(value) if isinstance(value, list) else value
        if isinstance(node, Mapping):
            return {k: self._substitute(v, params, used, f"{path}.{k}") for k, v in node.items()}
        if isinstance(node, list):
            return [self._substitute(v, params, used, f"{path}[{i}]") for i, v in enumerate(node)]
        return node

    # --- building blocks --------------------------------------------------------------------

    def event_type(self, value: str, field: str) -> str:
        """A catalogue input type, or an error."""
        if value not in cat.FIELDS:
            raise self.error(
                field, f"unknown event type '{value}' (not an input type of events.md)"
            )
        return value

    def field_spec(self, event_type: str, name: str, field: str) -> cat.FieldSpec:
        """The catalogue spec of a filterable field of ``event_type``."""
        spec = cat.FIELDS[event_type].get(name)
        if spec is None or not spec.filterable:
            usable = sorted(n for n, s in cat.FIELDS[event_type].items() if s.filterable)
            raise self.error(
                field, f"'{name}' is not a field of {event_type} to filter on (fields: {usable})"
            )
        return spec

    def value(self, spec: cat.FieldSpec, raw: Any, field: str) -> Scalar:
        """A filter value normalised like event data: codes two-digit, ids as strings."""
        if spec.kind == "enum":
            if not isinstance(raw, str) or raw not in spec.values:
                raise self.error(field, f"{raw!r} is not one of {sorted(spec.values)}")
            return raw
        if spec.kind == "code":
            text = str(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
            match = _CODE.fullmatch(text)
            if match is None:
                raise self.error(field, f'{raw!r} is not an iWmo code such as "07" (01–99)')
            return match[1].zfill(2)
        if spec.kind == "id":
            if isinstance(raw, bool) or not isinstance(raw, int | str):
                raise self.error(field, f"{raw!r} is not an identifier")
            return str(raw)
        if spec.kind == "bool":
            if not isinstance(raw, bool):
                raise self.error(field, f"{raw!r} is not true or false")
            return raw
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise self.error(field, f"{raw!r} is not a whole number")
        return raw

    def values(self, spec: cat.FieldSpec, raw: Any, field: str) -> frozenset[Scalar]:
        """One value or a non-empty list of values."""
        if isinstance(raw, list):
            if not raw:
                raise self.error(field, "an empty list matches nothing")
            return frozenset(self.value(spec, v, f"{field}[{i}]") for i, v in enumerate(raw))
        return frozenset({self.value(spec, raw, field)})

    def velden(self, event_type: str, raw: Mapping[str, Any], field: str) -> tuple[FieldMatch, ...]:
        """Field filters: ``veld: waarde``, ``veld: [waarden]`` or ``veld: {niet: …}``."""
        out: list[FieldMatch] = []
        for name, spec_raw in raw.items():
            where = f"{field}.{name}"
            spec = self.field_spec(event_type, name, where)
            if isinstance(spec_raw, Mapping):
                if set(spec_raw) != {"niet"}:
                    raise self.error(where, "a mapping here must be {niet: value(s)}")
                values = self.values(spec, spec_raw["niet"], f"{where}.niet")
                out.append(FieldMatch(name, values, negated=True))
            else:
                out.append(FieldMatch(name, self.values(spec, spec_raw, where)))
        return tuple(out)

    def event_match(self, model: EventModel, field: str) -> EventMatch:
        """An event type with its field filters."""
        event_type = self.event_type(model.gebeurtenis, f"{field}.gebeurtenis")
        return EventMatch(event_type, self.velden(event_type, model.velden, f"{field}.velden"))

    def condition(self, raw: Any, field: str) -> Condition:
        """Parse the condition vocabulary (see ``docs/rules.md``)."""
        if isinstance(raw, str):
            return self._atom(raw, None, field)
        if not isinstance(raw, Mapping) or len(raw) != 1:
            raise self.error(
                field,
                "expected a state name or a mapping with one key: alle, een_van, niet, "
                "domeinen or a state name",
            )
        key, value = next(iter(raw.items()))
        where = f"{field}.{key}"
        if key in ("alle", "een_van"):
            if not isinstance(value, list) or not value:
                raise self.error(where, "expected a non-empty list of conditions")
            parts = tuple(self.condition(v, f"{where}[{i}]") for i, v in enumerate(value))
            if len(parts) == 1:
                return parts[0]
            return All(parts) if key == "alle" else AnyOf(parts)
        if key == "niet":
            return Not(self.condition(value, where))
        if key == "domeinen":
            if not isinstance(value, Mapping) or set(value) != {"minimaal"}:
                raise self.error(where, "expected {minimaal: <number of domains>}")
            minimum = value["minimaal"]
            if isinstance(minimum, bool) or not isinstance(minimum, int) or not 1 <= minimum <= 4:
                raise self.error(f"{where}.minimaal", "expected a whole number from 1 to 4")
            return Domains(minimum)
        return self._atom(str(key), value, field)

    def _atom(self, name: str, filters: Any, field: str) -> Atom:
        if name not in STATES:
            known = ", ".join([*STATES, "alle", "een_van", "niet", "domeinen"])
            raise self.error(field, f"unknown state or operator '{name}' (known: {known})")
        if filters is None or filters == {}:
            return Atom(name)
        label = LABEL_FILTERS.get(name)
        where = f"{field}.{name}"
        if label is None:
            raise self.error(where, f"state '{name}' takes no filter")
        if not isinstance(filters, Mapping) or set(filters) != {label[0]}:
            raise self.error(where, f"expected {{{label[0]}: value(s)}}")
        spec = cat.FIELDS[label[1]][label[0]]
        values = self.values(spec, filters[label[0]], f"{where}.{label[0]}")
        return Atom(name, frozenset(str(v) for v in values))
