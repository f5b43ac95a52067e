"""Compile one raw rule mapping (parsed YAML, overrides already merged) into a :class:`Rule`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from streams.rules import catalogue as cat
from streams.rules.conditions import Condition
from streams.rules.config import (
    PARAM_SECTIONS,
    SLUG,
    PaarModel,
    RuleCompiler,
    RuleModel,
    StartModel,
    TermijnModel,
    VerwachtEventModel,
    VerwachtToestandModel,
)
from streams.rules.definitions import (
    Deadline,
    EpisodeShape,
    EventShape,
    Expected,
    ExpectedEvent,
    ExpectedState,
    PairShape,
    ParameterValue,
    PeriodOverride,
    Previous,
    Rule,
    Shape,
)
from streams.rules.explain import placeholders, rule_conditions, template_fields
from streams.rules.states import STATES

MAX_NESTING: Final = 32
"""Deepest nesting of lists and mappings in a rule (the built-ins need 6), the rule's own mapping
counting as the first level. A rule file nested deeper is refused before it is built
(:mod:`streams.rules.loading`: PyYAML composes it recursively, 5,000 levels raised
``RecursionError``); a rule given from Python is refused by :func:`compile_rule` before its
recursive passes."""

MAX_NODES: Final = 10_000
"""Most values a rule may hold: every list, mapping and scalar counts, as often as it occurs
(a value shared by several places counts once per place), and a ``$name`` in a section that
takes parameters counts as the values of parameter ``name`` it is replaced by — the size of
the tree the compiler builds. The built-ins hold 32 to 43; a rule that lists all 99 iWmo codes
in a filter still holds fewer than 150. A rule file cannot share a value (the YAML loader
refuses anchors and aliases), but a rule given from Python can: ``x = {"alle": [x, x, x, x]}``
fifteen times over is 30 objects, nested within :data:`MAX_NESTING`, and 4^15 (a billion)
values to the recursive passes (parameter substitution, validation, the conditions): 4^10
took 3 seconds, each further level four times as long and as much memory.
:func:`compile_rule` counts before those passes and stops at the limit, so refusing takes at
most this many steps."""


def compile_rule(raw: Any, source: str, bron: tuple[Path, ...] = ()) -> tuple[Rule, bool]:
    """Validate and compile one rule; returns the rule and whether it is active (``actief``).

    ``raw`` may be any Python value: lists and mappings nested deeper than :data:`MAX_NESTING`,
    one that contains itself, or more than :data:`MAX_NODES` values in all (one value shared
    by many places counts at each) are refused like any other problem. Raises
    :class:`~streams.exceptions.RuleFileError` on the first problem found.
    """
    if not isinstance(raw, Mapping):
        raise RuleCompiler(source, None).error(None, "a rule file must be a YAML mapping")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not SLUG.fullmatch(rule_id):
        raise RuleCompiler(source, rule_id if isinstance(rule_id, str) else None).error(
            "id", "required: a slug of lowercase letters, digits and dashes"
        )
    comp = RuleCompiler(source, rule_id)
    _Structure(comp, raw).check()
    substituted, used = comp.substitute(raw)
    model = comp.model(RuleModel, substituted, "")
    shape = _shape(comp, model)
    termijn = _termijn(comp, model, shape)
    verwacht = tuple(
        _expected(comp, model, shape, i, item) for i, item in enumerate(model.verwacht)
    )
    parameters: dict[str, ParameterValue] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in model.parameters.items()
    }
    rule = Rule(
        id=model.id,
        titel=model.titel.strip(),
        doel=model.doel.strip(),
        grondslag=model.grondslag.strip(),
        leest=frozenset(model.leest),
        parameters=parameters,
        shape=shape,
        termijn=termijn,
        verwacht=verwacht,
        uitleg=model.uitleg.strip(),
        bron=bron,
    )
    _check_leest(comp, model, rule)
    used |= _check_uitleg(comp, rule)
    for name in model.parameters:
        if name not in used:
            raise comp.error(f"parameters.{name}", "parameter is not used by the rule")
    return rule, model.actief


class _Structure:
    """The structure checks of a raw rule, before anything is built from it: refused with the
    top-level key concerned, a list or mapping that contains itself, one nested deeper than
    :data:`MAX_NESTING`, or more than :data:`MAX_NODES` values in all. Every value is walked
    as often as it occurs, in the tree as the compiler will expand it (a ``$name`` in
    :data:`~streams.rules.config.PARAM_SECTIONS` as its parameter's value), so the walk stops
    after at most :data:`MAX_NODES` steps; its recursion is at most :data:`MAX_NESTING` deep."""

    def __init__(self, comp: RuleCompiler, raw: Mapping[Any, Any]) -> None:
        self.comp = comp
        self.raw = raw
        params = raw.get("parameters")
        self.params: Mapping[Any, Any] = params if isinstance(params, Mapping) else {}
        self.nodes = 1  # the rule's own mapping

    def check(self) -> None:
        for key, value in self.raw.items():
            field = str(key)
            self._walk(field, value, 2, {id(self.raw)}, substitute=key in PARAM_SECTIONS)

    def _walk(self, field: str, node: Any, depth: int, path: set[int], *, substitute: bool) -> None:
        """Walk ``node``, the value of top-level key ``field`` at nesting level ``depth``
        inside the containers ``path``; ``substitute``: a ``$name`` is replaced here."""
        if substitute and isinstance(node, str) and node.startswith("$"):
            name = node[1:]
            if name in self.params:  # an unknown name is the substitution's error
                self._walk(field, self.params[name], depth, path, substitute=False)
                return
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.comp.error(
                field, f"more than {MAX_NODES} values (lists, mappings and scalars) in the rule"
            )
        if not isinstance(node, Mapping | list | tuple):
            return
        if id(node) in path:
            raise self.comp.error(field, "a list or mapping that contains itself")
        if depth > MAX_NESTING:
            raise self.comp.error(field, f"nested deeper than {MAX_NESTING} levels")
        path.add(id(node))
        for child in node.values() if isinstance(node, Mapping) else node:
            self._walk(field, child, depth + 1, path, substitute=substitute)
        path.discard(id(node))


def _forbid(comp: RuleCompiler, model: RuleModel, fields: tuple[str, ...]) -> None:
    for name in fields:
        if getattr(model, name) not in (None, []):
            raise comp.error(name, f"not allowed for vorm '{model.vorm}'")


def _shape(comp: RuleCompiler, model: RuleModel) -> Shape:
    conditie = None if model.conditie is None else comp.condition(model.conditie, "conditie")
    if model.vorm == "episode":
        _forbid(comp, model, ("start", "paar"))
        if conditie is None:
            raise comp.error("conditie", "required for vorm 'episode'")
        return EpisodeShape(conditie)
    if model.vorm == "gebeurtenis":
        _forbid(comp, model, ("paar",))
        if model.start is None:
            raise comp.error("start", "required for vorm 'gebeurtenis'")
        return _event_shape(comp, model.start, conditie)
    _forbid(comp, model, ("start", "termijn", "verwacht"))
    if model.paar is None:
        raise comp.error("paar", "required for vorm 'paar'")
    return _pair_shape(comp, model.paar, conditie)


def _event_shape(comp: RuleCompiler, start: StartModel, conditie: Condition | None) -> EventShape:
    match = comp.event_match(start, "start")
    if start.sleutel is not None:
        spec = comp.field_spec(match.type, start.sleutel, "start.sleutel")
        if spec.kind not in ("id", "enum", "code", "int"):
            raise comp.error("start.sleutel", "must be an identifier or enumeration field")
    vorige = None
    if start.vorige is not None:
        among = frozenset(
            comp.event_type(t, f"start.vorige.onder[{i}]") for i, t in enumerate(start.vorige.onder)
        )
        previous = comp.event_match(start.vorige, "start.vorige")
        if previous.type not in among or match.type not in among:
            raise comp.error(
                "start.vorige.onder", "must list both the start type and the vorige type"
            )
        vorige = Previous(among, previous, start.vorige.binnen_dagen)
    if start.opent is not None:
        state = STATES.get(start.opent)
        if state is None or state.opener != match.type:
            opened = sorted(name for name, s in STATES.items() if s.opener == match.type)
            raise comp.error(
                "start.opent",
                f"{match.type} does not open a period of state '{start.opent}' "
                f"(it opens: {', '.join(opened) or 'none'})",
            )
    return EventShape(match, start.sleutel, vorige, conditie, start.opent)


def _pair_shape(comp: RuleCompiler, paar: PaarModel, conditie: Condition | None) -> PairShape:
    eerste = comp.event_match(paar.eerste, "paar.eerste")
    tweede = comp.event_match(paar.tweede, "paar.tweede")
    return PairShape(eerste, tweede, paar.binnen_dagen, conditie, paar.niet_opnieuw_zolang_open)


def _termijn(comp: RuleCompiler, model: RuleModel, shape: Shape) -> Deadline | None:
    if isinstance(shape, PairShape):
        return None
    termijn: TermijnModel | None = model.termijn
    if termijn is None:
        raise comp.error("termijn", f"required for vorm '{model.vorm}'")
    overrides: list[PeriodOverride] = []
    for i, item in enumerate(termijn.uitzonderingen):
        where = f"termijn.uitzonderingen[{i}]"
        if not isinstance(shape, EventShape):
            raise comp.error(where, "only a rule that starts at an event can vary its period")
        velden = comp.velden(shape.start.type, item.velden, f"{where}.velden")
        overrides.append(PeriodOverride(velden, item.period()))
    return Deadline(termijn.period(), tuple(overrides))


def _expected(
    comp: RuleCompiler, model: RuleModel, shape: Shape, index: int, item: Mapping[str, Any]
) -> Expected:
    where = f"verwacht[{index}]"
    if "toestand" in item:
        state = comp.model(VerwachtToestandModel, item, where)
        return ExpectedState(comp.condition(state.toestand, f"{where}.toestand"), state.op)
    if "gebeurtenis" not in item:
        raise comp.error(where, "expected a mapping with 'gebeurtenis' or 'toestand'")
    event = comp.model(VerwachtEventModel, item, where)
    match = comp.event_match(event, where)
    vanaf: Any = event.vanaf
    if isinstance(vanaf, Mapping) and set(vanaf) == {"begin_van"}:
        vanaf = comp.condition(vanaf["begin_van"], f"{where}.vanaf.begin_van")
    elif vanaf not in ("sinds", "onbegrensd"):
        raise comp.error(f"{where}.vanaf", "expected sinds, onbegrensd or {begin_van: <conditie>}")
    for i, name in enumerate(event.zelfde):
        if not isinstance(shape, EventShape):
            raise comp.error(f"{where}.zelfde", "only a rule that starts at an event has 'zelfde'")
        comp.field_spec(shape.start.type, name, f"{where}.zelfde[{i}]")
        comp.field_spec(match.type, name, f"{where}.zelfde[{i}]")
    return ExpectedEvent(match, vanaf, tuple(event.zelfde))


def _needed(rule: Rule) -> dict[str, list[str]]:
    """Event type → what in the definition needs it."""
    needed: dict[str, list[str]] = {}

    def need(types: frozenset[str] | set[str], why: str) -> None:
        for t in types:
            needed.setdefault(t, []).append(why)

    for condition in rule_conditions(rule):
        for atom in condition.atoms():
            need(STATES[atom.name].types, f"state '{atom.name}'")
    shape = rule.shape
    if isinstance(shape, EventShape):
        need({shape.start.type}, "start")
        if shape.vorige is not None:
            need(set(shape.vorige.among), "start.vorige")
        if shape.opent is not None:
            need(STATES[shape.opent].types, f"start.opent (state '{shape.opent}')")
    elif isinstance(shape, PairShape):
        need({shape.eerste.type}, "paar.eerste")
        need({shape.tweede.type}, "paar.tweede")
    for i, expected in enumerate(rule.verwacht):
        if isinstance(expected, ExpectedEvent):
            need({expected.match.type}, f"verwacht[{i}]")
    return needed


def _check_leest(comp: RuleCompiler, model: RuleModel, rule: Rule) -> None:
    for i, event_type in enumerate(model.leest):
        comp.event_type(event_type, f"leest[{i}]")
    if len(set(model.leest)) != len(model.leest):
        raise comp.error("leest", "lists a type more than once")
    needed = _needed(rule)
    missing = sorted(set(needed) - rule.leest)
    if missing:
        detail = "; ".join(
            f"{t} (needed by {', '.join(dict.fromkeys(needed[t]))})" for t in missing
        )
        raise comp.error("leest", f"does not declare types the rule reads: {detail}")
    extra = sorted(rule.leest - set(needed))
    if extra:
        raise comp.error("leest", f"declares types the rule does not use: {', '.join(extra)}")
    assert all(t in cat.FIELDS for t in rule.leest)


def _check_uitleg(comp: RuleCompiler, rule: Rule) -> set[str]:
    try:
        names = template_fields(rule.uitleg)
    except ValueError as exc:
        raise comp.error("uitleg", str(exc)) from exc
    allowed = placeholders(rule)
    unknown = sorted(set(names) - allowed)
    if unknown:
        raise comp.error(
            "uitleg",
            f"unknown placeholder(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
        )
    return set(names) & set(rule.parameters)
