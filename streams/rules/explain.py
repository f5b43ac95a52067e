"""Explanations: the ``uitleg`` template of a signal and a rule's human-readable summary.

Templates use ``{naam}`` placeholders only — no attribute access, indexing, conversions or
format specs — so an operator's template can never reach into Python objects. The set of
placeholders a rule may use follows from its definition (:func:`placeholders`); the loader
rejects any other name.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from streams.model import TimelineEvent
from streams.rules.calendar import Period
from streams.rules.catalogue import FIELDS
from streams.rules.conditions import Atom, Condition, Domains, describe_labels
from streams.rules.definitions import (
    EpisodeShape,
    EventShape,
    ExpectedEvent,
    ExpectedState,
    FieldMatch,
    PairShape,
    Rule,
)
from streams.rules.states import STATES, FactView

_FORMATTER = string.Formatter()
_COMMON = ("sinds", "termijn", "periode", "regel", "titel")


@lru_cache(maxsize=512)
def _parse(template: str) -> tuple[tuple[str, str | None], ...]:
    """(literal text, placeholder name or ``None``) pairs; validated, parsed once."""
    parts: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in _FORMATTER.parse(template):
        if name is not None and not name.isidentifier():
            raise ValueError(f"placeholder {{{name}}} must be a plain name")
        if spec or conversion:
            raise ValueError(f"placeholder {{{name}}} must not have a format spec or conversion")
        parts.append((literal, name))
    return tuple(parts)


def template_fields(template: str) -> list[str]:
    """The placeholder names in ``template``.

    Raises :class:`ValueError` for a malformed template or a placeholder with attribute access,
    indexing, a conversion or a format spec.
    """
    return [name for _literal, name in _parse(template) if name is not None]


def render(template: str, values: Mapping[str, object]) -> str:
    """Fill ``template``: dates as ISO dates, booleans as ja/nee, ``None`` as ``—``."""
    out: list[str] = []
    for literal, name in _parse(template):
        out.append(literal)
        if name is not None:
            out.append(_text(values.get(name)))
    return "".join(out)


def _text(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def rule_conditions(rule: Rule) -> Iterator[Condition]:
    """Every condition a rule uses: its shape's, its expected states' and window starts'."""
    conditie = rule.shape.conditie
    if conditie is not None:
        yield conditie
    for expected in rule.verwacht:
        if isinstance(expected, ExpectedState):
            yield expected.condition
        elif not isinstance(expected.vanaf, str):
            yield expected.vanaf


@lru_cache(maxsize=256)
def _atoms(rule: Rule) -> dict[str, Atom]:
    found: dict[str, Atom] = {}
    for condition in rule_conditions(rule):
        for atom in condition.atoms():
            found.setdefault(atom.name, atom)
    return found


def _key(name: str) -> str:
    return name.replace("-", "_")


def placeholders(rule: Rule) -> frozenset[str]:
    """Every placeholder ``rule``'s ``uitleg`` may use (see ``docs/rules.md``)."""
    names = set(_COMMON) | set(rule.parameters)
    for name in _atoms(rule):
        names |= {_key(name), f"{_key(name)}_sinds"}
    if any(isinstance(c, Domains) for c in rule_conditions(rule)):
        names |= {"domeinen", "aantal_domeinen"}
    shape = rule.shape
    if isinstance(shape, EventShape):
        names |= _event_fields("start", shape.start.type)
        if shape.vorige is not None:
            names |= _event_fields("vorige", shape.vorige.match.type) | {"dagen_na_vorige"}
    elif isinstance(shape, PairShape):
        names |= _event_fields("eerste", shape.eerste.type)
        names |= _event_fields("tweede", shape.tweede.type) | {"dagen_tussen"}
    return frozenset(names)


def _event_fields(prefix: str, event_type: str) -> set[str]:
    return {f"{prefix}_datum"} | {f"{prefix}_{name}" for name in FIELDS[event_type]}


@dataclass(frozen=True, slots=True)
class SignalFacts:
    """What one signal's explanation is rendered from."""

    sinds: date
    termijn: date | None
    period: Period | None
    start: TimelineEvent | None = None
    vorige: TimelineEvent | None = None
    eerste: TimelineEvent | None = None
    tweede: TimelineEvent | None = None


def explain(rule: Rule, view: FactView, facts: SignalFacts) -> str:
    """The rendered ``uitleg`` of one signal of ``rule``."""
    wanted = frozenset(template_fields(rule.uitleg))
    values: dict[str, object] = {
        "sinds": facts.sinds,
        "termijn": facts.termijn,
        "periode": facts.period.describe() if facts.period else None,
        "regel": rule.id,
        "titel": rule.titel,
    }
    values.update({k: v for k, v in rule.parameters.items() if k in wanted})
    day = facts.sinds.toordinal()
    for name, atom in _atoms(rule).items():
        if _key(name) in wanted or f"{_key(name)}_sinds" in wanted:
            values[f"{_key(name)}_sinds"] = atom.run_start(view, day)
            values[_key(name)] = describe_labels(atom, atom.labels_on(view, day))
    if "domeinen" in wanted or "aantal_domeinen" in wanted:
        active = next(
            (d.active_on(view, day) for d in rule_conditions(rule) if isinstance(d, Domains)), []
        )
        values["domeinen"] = _and_list(active)
        values["aantal_domeinen"] = len(active)
    for prefix, event in (
        ("start", facts.start),
        ("vorige", facts.vorige),
        ("eerste", facts.eerste),
        ("tweede", facts.tweede),
    ):
        if event is not None:
            values[f"{prefix}_datum"] = event.datum
            for key, value in event.data.items():
                if f"{prefix}_{key}" in wanted:
                    values[f"{prefix}_{key}"] = value
    if facts.start is not None and facts.vorige is not None:
        values["dagen_na_vorige"] = (facts.start.datum - facts.vorige.datum).days
    if facts.eerste is not None and facts.tweede is not None:
        values["dagen_tussen"] = abs((facts.tweede.datum - facts.eerste.datum).days)
    return render(rule.uitleg, values)


def _and_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " en " + items[-1]


# --- summaries ----------------------------------------------------------------------------


def _filters(velden: tuple[FieldMatch, ...]) -> str:
    parts = []
    for f in velden:
        values = "/".join(sorted(str(v) for v in f.values))
        parts.append(f"{f.field} {'≠' if f.negated else '='} {values}")
    return f" ({', '.join(parts)})" if parts else ""


def _event_shape_lines(shape: EventShape) -> list[str]:
    start = f"Start: {shape.start.type}{_filters(shape.start.velden)}"
    if shape.sleutel:
        start += f", eerste per {shape.sleutel}"
    if shape.vorige is not None:
        start += (
            f", direct voorafgegaan door {shape.vorige.match.type}"
            f"{_filters(shape.vorige.match.velden)} binnen {shape.vorige.max_days} dagen"
        )
    lines = [start]
    if shape.opent is not None:
        opened = STATES[shape.opent].beschrijving
        lines.append(f"Zolang geldt: de {opened} die met de start begint (tot het einde ervan)")
    if shape.conditie is not None:
        lines.append(f"Zolang geldt: {shape.conditie.describe()}")
    return lines


def describe_rule(rule: Rule) -> str:
    """A plain-Dutch, multi-line summary of ``rule`` for operators and the API."""
    lines = [f"{rule.titel} [{rule.id}]", f"Doel: {rule.doel.strip()}"]
    lines.append(f"Grondslag: {rule.grondslag.strip()}")
    shape = rule.shape
    if isinstance(shape, EpisodeShape):
        lines.append(f"Signaal als zonder onderbreking geldt: {shape.conditie.describe()}")
    elif isinstance(shape, EventShape):
        lines += _event_shape_lines(shape)
    else:
        lines.append(
            f"Signaal bij {shape.eerste.type}{_filters(shape.eerste.velden)} en "
            f"{shape.tweede.type}{_filters(shape.tweede.velden)} binnen "
            f"{shape.binnen_dagen} dagen"
        )
        if shape.conditie is not None:
            lines.append(f"Als op de laatste datum geldt: {shape.conditie.describe()}")
    if rule.termijn is not None:
        text = f"Termijn: {rule.termijn.period.describe()}"
        for override in rule.termijn.overrides:
            text += f"; {override.period.describe()} als{_filters(override.velden)}"
        lines.append(text)
    for expected in rule.verwacht:
        if isinstance(expected, ExpectedEvent):
            window = (
                expected.vanaf
                if isinstance(expected.vanaf, str)
                else (f"begin van {expected.vanaf.describe()}")
            )
            same = f", zelfde {', '.join(expected.zelfde)}" if expected.zelfde else ""
            lines.append(
                f"Verwacht: {expected.match.type}{_filters(expected.match.velden)}"
                f" vanaf {window}{same}"
            )
        else:
            lines.append(f"Verwacht: {expected.condition.describe()} op {expected.op}")
    lines.append(f"Leest: {', '.join(sorted(rule.leest))}")
    return "\n".join(lines)
