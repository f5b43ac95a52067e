"""Invalid rule files fail loading with a readable message: file, rule id and field."""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.exceptions import RuleConfigError, RuleFileError
from streams.rules import compile_rule, load_rules
from streams.rules.compiler import MAX_NESTING, MAX_NODES
from streams.rules.config import MAX_DAYS

from .test_loading import MELDING_RULE

R1 = "werkpotentieel-zonder-verwijzing"


def broken(**changes: object) -> dict[str, object]:
    raw = yaml.safe_load(MELDING_RULE)
    assert isinstance(raw, dict)
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not None}


def error_of(raw: object) -> RuleFileError:
    with pytest.raises(RuleFileError) as info:
        compile_rule(raw, "eigen.yaml")
    return info.value


def test_the_example_is_valid() -> None:
    rule, actief = compile_rule(broken(), "eigen.yaml")
    assert actief
    assert rule.leest == {"nl.wmo.meldingen.ontvangen", "nl.wmo.onderzoeken.afgerond"}


def test_unknown_event_type() -> None:
    err = error_of(broken(verwacht=[{"gebeurtenis": "nl.wmo.onderzoeken.gestart"}]))
    assert err.path == "eigen.yaml"
    assert err.rule_id == "melding-zonder-onderzoek"
    assert err.field == "verwacht[0].gebeurtenis"
    assert str(err) == (
        "eigen.yaml: rule 'melding-zonder-onderzoek': field 'verwacht[0].gebeurtenis': "
        "unknown event type 'nl.wmo.onderzoeken.gestart' (not an input type of events.md)"
    )


def test_schakel_output_types_cannot_be_read() -> None:
    err = error_of(broken(start={"gebeurtenis": "nl.schakel.signalen.gesignaleerd"}))
    assert err.field == "start.gebeurtenis"


def test_missing_leest_types_are_named() -> None:
    err = error_of(
        broken(
            conditie="voorziening",
            leest=["nl.wmo.meldingen.ontvangen", "nl.wmo.onderzoeken.afgerond"],
        )
    )
    assert err.field == "leest"
    assert "nl.wmo.voorzieningen.gestart (needed by state 'voorziening')" in str(err)
    assert "nl.wmo.voorzieningen.toegewezen" in str(err)
    assert "nl.wmo.voorzieningen.gestopt" in str(err)


def test_superfluous_leest_types_are_an_error() -> None:
    leest = [
        "nl.wmo.meldingen.ontvangen",
        "nl.wmo.onderzoeken.afgerond",
        "nl.wmo.aanvragen.afgewezen",
    ]
    err = error_of(broken(leest=leest))
    assert err.field == "leest"
    assert "does not use: nl.wmo.aanvragen.afgewezen" in str(err)


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"termijn": {"dagen": "$onbekend"}}, "termijn.dagen", "unknown parameter 'onbekend'"),
        ({"parameters": {"termijn_dagen": 42, "extra": 1}}, "parameters.extra", "not used"),
        ({"termijn": {"dagen": 42, "werkdagen": 3}}, "termijn", "exactly one"),
        ({"termijn": {"dagen": -1}}, "termijn.dagen", "greater than or equal to 0"),
        ({"termijn": {"dagen": "56"}}, "termijn.dagen", "valid integer"),
        ({"vorm": "reeks"}, "vorm", "'episode', 'gebeurtenis' or 'paar'"),
        ({"onbekend": 1}, "onbekend", "unknown field"),
        ({"titel": None}, "titel", "Field required"),
        ({"uitleg": "Sinds {sinds} en {onzin}."}, "uitleg", "unknown placeholder(s) onzin"),
        ({"uitleg": "Sinds {sinds.year}."}, "uitleg", "plain name"),
        ({"id": "Geen Slug"}, "id", "slug"),
        ({"conditie": "voorzieningen"}, "conditie", "unknown state or operator 'voorzieningen'"),
        ({"conditie": {"alle": []}}, "conditie.alle", "non-empty list"),
        ({"conditie": {"domeinen": {"minimaal": 7}}}, "conditie.domeinen.minimaal", "1 to 4"),
        (
            {"conditie": {"uitkering": {"soort": "x"}}},
            "conditie.uitkering",
            "expected {regeling: value(s)}",
        ),
        (
            {"verwacht": [{"gebeurtenis": "nl.wmo.onderzoeken.afgerond", "velden": {"x": 1}}]},
            "verwacht[0].velden.x",
            "'x' is not a field of nl.wmo.onderzoeken.afgerond",
        ),
        (
            {
                "verwacht": [
                    {
                        "gebeurtenis": "nl.wmo.onderzoeken.afgerond",
                        "velden": {"arbeidspotentieel": "veel"},
                    }
                ]
            },
            "verwacht[0].velden.arbeidspotentieel",
            "'veel' is not one of",
        ),
        (
            {"verwacht": [{"gebeurtenis": "nl.wmo.onderzoeken.afgerond", "vanaf": "gisteren"}]},
            "verwacht[0].vanaf",
            "expected sinds, onbegrensd",
        ),
        ({"verwacht": [{"iets": 1}]}, "verwacht[0]", "'gebeurtenis' or 'toestand'"),
        (
            {
                "paar": {
                    "eerste": {"gebeurtenis": "nl.wmo.meldingen.ontvangen"},
                    "tweede": {"gebeurtenis": "nl.wmo.onderzoeken.afgerond"},
                    "binnen_dagen": 3,
                }
            },
            "paar",
            "not allowed for vorm 'gebeurtenis'",
        ),
        ({"vorm": "episode"}, "start", "not allowed for vorm 'episode'"),
        ({"termijn": None}, "termijn", "required for vorm 'gebeurtenis'"),
        (
            {
                "verwacht": [
                    {"gebeurtenis": "nl.wmo.onderzoeken.afgerond", "zelfde": ["signaal_id"]}
                ]
            },
            "verwacht[0].zelfde[0]",
            "not a field of nl.wmo.meldingen.ontvangen",
        ),
    ],
)
def test_invalid_definitions(changes: dict[str, object], field: str, fragment: str) -> None:
    err = error_of(broken(**changes))
    assert err.field == field, str(err)
    assert fragment in str(err)
    assert str(err).startswith("eigen.yaml: rule ")


VOORZIENING_LEEST = [
    "nl.wmo.meldingen.ontvangen",
    "nl.wmo.onderzoeken.afgerond",
    "nl.wmo.voorzieningen.toegewezen",
    "nl.wmo.voorzieningen.gestart",
    "nl.wmo.voorzieningen.gestopt",
]


def test_productcategorie_filter_accepts_number_and_text() -> None:
    leest = VOORZIENING_LEEST
    for value in (7, "7", "07", [7, "02"]):
        raw = broken(conditie={"voorziening": {"productcategorie": value}}, leest=leest)
        compile_rule(raw, "eigen.yaml")
    err = error_of(broken(conditie={"voorziening": {"productcategorie": "xx"}}, leest=leest))
    assert err.field == "conditie.voorziening.productcategorie"


def write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(textwrap.dedent(text), encoding="utf-8")


def test_override_with_unknown_parameter(tmp_path: Path) -> None:
    write(tmp_path, "r1.yaml", f"id: {R1}\nparameters:\n  termijn: 28\n")
    with pytest.raises(RuleFileError) as info:
        load_rules(tmp_path)
    assert str(info.value) == (
        f"r1.yaml (override of built-in '{R1}'): rule '{R1}': field 'parameters.termijn': "
        "unknown parameter (known: termijn_dagen)"
    )


def test_override_with_a_value_of_another_kind(tmp_path: Path) -> None:
    write(tmp_path, "r1.yaml", f"id: {R1}\nparameters:\n  termijn_dagen: acht weken\n")
    with pytest.raises(RuleFileError, match="expected a value like 56"):
        load_rules(tmp_path)


def test_invalid_yaml(tmp_path: Path) -> None:
    write(tmp_path, "kapot.yaml", "id: [unclosed\n")
    with pytest.raises(RuleFileError, match=r"^kapot\.yaml: not valid YAML"):
        load_rules(tmp_path)


def test_file_without_id(tmp_path: Path) -> None:
    write(tmp_path, "leeg.yaml", "titel: iets\n")
    with pytest.raises(RuleFileError) as info:
        load_rules(tmp_path)
    assert info.value.field == "id"
    assert str(info.value).startswith("leeg.yaml: field 'id'")


def test_duplicate_id_in_one_directory(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", MELDING_RULE)
    write(tmp_path, "b.yaml", MELDING_RULE)
    with pytest.raises(RuleFileError, match=r"already used by a\.yaml"):
        load_rules(tmp_path)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(RuleConfigError, match="does not exist"):
        load_rules(tmp_path / "nergens")


def test_errors_are_rule_config_errors() -> None:
    assert issubclass(RuleFileError, RuleConfigError)


def test_opent_must_name_a_state_the_start_event_opens() -> None:
    err = error_of(broken(start={"gebeurtenis": "nl.wmo.meldingen.ontvangen", "opent": "casus"}))
    assert err.field == "start.opent"
    assert str(err).endswith(
        "nl.wmo.meldingen.ontvangen does not open a period of state 'casus' (it opens: none)"
    )


def test_opent_needs_the_types_of_its_state_in_leest() -> None:
    err = error_of(
        broken(
            start={"gebeurtenis": "nl.wijkteams.casussen.geopend", "opent": "casus"},
            leest=["nl.wijkteams.casussen.geopend", "nl.wmo.onderzoeken.afgerond"],
        )
    )
    assert err.field == "leest"
    assert "nl.wijkteams.casussen.gesloten (needed by start.opent (state 'casus'))" in str(err)


# ---------------------------------------------------------------- YAML a rule file may not hold
# Review B4: an alias "bomb" of 507 bytes took more than a minute to load (worker start and
# `schakel replay` hung); a self-referencing alias or 5,000 levels of nesting raised
# RecursionError; 2026-02-30 or an integer of 4,301 digits raised ValueError — tracebacks,
# exit 1, instead of one line naming the file.

R5 = "dagbesteding-zonder-werkstap"


def alias_bomb(levels: int) -> str:
    lines = [f"id: {R5}", "x0: &x0 [a, a, a, a, a, a, a, a, a, a]"]
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join([*lines, f"conditie: {{alle: *x{levels - 1}}}"]) + "\n"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (alias_bomb(4), 2),  # 10^4 nodes: quick to expand, still refused at its first anchor
        (alias_bomb(8), 2),  # 10^8 nodes: would run for many minutes
        (f"id: {R5}\nactief: true\nconditie: &a [*a]\n", 3),  # a list that contains itself
        (f"id: {R5}\nparameters:\n  <<: {{termijn_dagen: 1}}\n  x: *y\n", 4),
    ],
    ids=["bomb-4", "bomb-8", "self-reference", "merge-alias"],
)
def test_anchors_and_aliases_are_refused_at_once(tmp_path: Path, text: str, line: int) -> None:
    write(tmp_path, "r5.yaml", text)
    with pytest.raises(RuleFileError) as info:
        load_rules(tmp_path)
    assert str(info.value).startswith(f"r5.yaml: line {line}, column ")
    assert "anchors and aliases (&name, *name) are not allowed" in str(info.value)


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 5000])
def test_nesting_deeper_than_the_limit_is_refused(tmp_path: Path, depth: int) -> None:
    write(tmp_path, "diep.yaml", f"id: x\nconditie: {'[' * depth}{']' * depth}\n")
    with pytest.raises(RuleFileError, match=r"^diep\.yaml: line 2, column \d+: nested deeper"):
        load_rules(tmp_path)


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    # top-level mapping + 31 lists = 32 levels: read, then refused for its content only
    inner = MAX_NESTING - 1
    write(tmp_path, "diep.yaml", f"id: x\nconditie: {'[' * inner}{']' * inner}\n")
    with pytest.raises(RuleFileError) as info:
        load_rules(tmp_path)
    assert info.value.rule_id == "x"  # got past the YAML into the rule's validation


def _contains_itself(kind: str) -> object:
    if kind == "mapping":
        loop: dict[str, object] = {}
        loop["alle"] = loop
        return loop
    items: list[object] = []
    items.append({"alle": items})
    return items


@pytest.mark.parametrize("kind", ["mapping", "list"])
def test_a_definition_from_python_that_contains_itself_is_a_rule_error(kind: str) -> None:
    # the YAML loader refuses aliases; a caller in Python can build the loop itself
    error = error_of(broken(conditie=_contains_itself(kind)))
    assert (error.field, error.detail) == ("conditie", "a list or mapping that contains itself")
    assert "\n" not in str(error)


def test_a_rule_that_is_its_own_value_is_a_rule_error() -> None:
    raw = broken()
    raw["conditie"] = {"alle": [raw]}
    assert error_of(raw).field == "conditie"


@pytest.mark.parametrize("depth", [MAX_NESTING, 5000])
def test_a_definition_from_python_nested_deeper_than_the_limit_is_a_rule_error(
    depth: int,
) -> None:
    # the rule mapping + conditie's lists: MAX_NESTING lists make MAX_NESTING + 1 levels
    conditie: object = "wmo-melding"
    for _ in range(depth):
        conditie = [conditie]
    error = error_of(broken(conditie=conditie))
    assert (error.field, error.detail) == ("conditie", f"nested deeper than {MAX_NESTING} levels")


def test_nesting_from_python_up_to_the_limit_is_compiled_far_enough_to_be_judged() -> None:
    conditie: object = "wmo-melding"
    for _ in range(MAX_NESTING - 1):
        conditie = [conditie]
    assert "nested" not in error_of(broken(conditie=conditie)).detail


def test_the_same_value_twice_is_not_a_loop() -> None:
    item = {"gebeurtenis": "nl.wmo.onderzoeken.afgerond"}
    rule, _ = compile_rule(broken(verwacht=[item, item]), "eigen.yaml")
    assert len(rule.verwacht) == 2


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2026-04-31", "not an existing date or time"),
        ("9" * 4301, "an integer beyond"),
        ("-" + "1" * 5000, "an integer beyond"),
        (":".join(["1"] * 30), "an integer beyond"),  # YAML 1.1 base 60: 60**29
        ("9223372036854775808", "an integer beyond"),
        ("-9223372036854775808", "an integer beyond"),  # review G, L2: the lower bound
    ],
    ids=["impossible-date", "4301-digits", "5000-digits", "sexagesimal", "2**63", "-2**63"],
)
def test_scalars_python_cannot_hold_are_refused_with_their_position(
    tmp_path: Path, value: str, problem: str
) -> None:
    write(tmp_path, "r5.yaml", f"id: {R5}\nparameters:\n  termijn_dagen: {value}\n")
    with pytest.raises(RuleFileError) as info:
        load_rules(tmp_path)
    assert str(info.value).startswith("r5.yaml: line 3, column 18: " + problem)
    assert value not in str(info.value)


@pytest.mark.parametrize("code", ["²", "٠٧", "０７", "7²", "¹", "0", "100", "07.0", " 7"])
def test_a_code_filter_in_other_digits_or_out_of_range_is_refused(
    tmp_path: Path, code: str
) -> None:
    """``"²".isdigit()`` is true and ``int("²")`` raised ``ValueError``; ``"٠٧"`` was taken
    as ``07``. Through an override of R5's parameter and in a filter of one's own rule."""
    write(tmp_path, "r5.yaml", f'id: {R5}\nparameters:\n  productcategorie: "{code}"\n')
    with pytest.raises(RuleFileError, match='is not an iWmo code such as "07"') as info:
        load_rules(tmp_path)
    assert info.value.field == "conditie.alle[0].voorziening.productcategorie"


_digits = st.characters(categories=["Nd", "No"])  # every script's digits, ², ½, …


@given(st.one_of(st.text(_digits | st.sampled_from("0123456789 x"), max_size=4), st.integers()))
def test_a_code_filter_is_an_ascii_number_from_1_to_99_or_an_error(code: object) -> None:
    raw = broken(conditie={"voorziening": {"productcategorie": code}}, leest=VOORZIENING_LEEST)
    try:
        rule, _ = compile_rule(raw, "eigen.yaml")
    except RuleFileError as exc:
        assert exc.field == "conditie.voorziening.productcategorie"
        text = str(code)
        assert not (text.isascii() and text.isdigit() and 1 <= int(text) <= 99)
    else:
        text = str(code)
        assert text.isascii() and text.isdigit() and 1 <= int(text) <= 99
        assert f"'{int(text):02d}'" in repr(rule.shape)


_yaml_values = st.one_of(
    st.sampled_from(
        ["2026-02-30", "2026-13-01", "&a [1]", "*a", "&a [*a]", "1:2:3", "0x1F", "~", "!!binary x"]
    ),
    st.builds(
        lambda digits, times, sign: sign + digits * times,
        st.text("0123456789", min_size=1, max_size=8),
        st.integers(1, 800),
        st.sampled_from(["", "-", "+"]),
    ),
    st.builds(lambda n: "[" * n + "]" * n, st.integers(0, 3000)),
    st.builds(lambda n: "{a: " * n + "1" + "}" * n, st.integers(0, 3000)),
    st.text(max_size=12),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([R5, "eigen-regel", "x"]),
    st.lists(
        st.tuples(st.sampled_from(["parameters", "conditie", "foo", "termijn", "x"]), _yaml_values),
        max_size=4,
    ),
)
def test_whatever_a_rule_file_holds_loading_raises_only_a_rule_config_error(
    rule_id: str, entries: list[tuple[str, str]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        text = f"id: {rule_id}\n" + "".join(f"{key}: {value}\n" for key, value in entries)
        Path(tmp, "r.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_rules(Path(tmp))
        except RuleConfigError as exc:
            assert str(exc).startswith("r.yaml")


def test_a_bad_rule_file_stops_replay_in_one_line_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from schakel.cli import main

    rules = tmp_path / "regels"
    rules.mkdir()
    write(rules, "r5.yaml", f"id: {R5}\nfoo: 2026-02-30\n")
    events = tmp_path / "events.jsonl"
    events.write_text("")
    monkeypatch.setenv("SCHAKEL_RULES_DIR", str(rules))
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(tmp_path / "data"))
    assert main(["replay", str(events)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "schakel: RuleFileError: r5.yaml: line 2, column 6: not an existing date or time "
        "(such as 2026-02-30)\n"
    )


@pytest.mark.parametrize(
    ("rule_id", "parameter", "field"),
    [
        (R5, "termijn_dagen", "termijn.dagen"),
        ("vroegsignaal-zonder-opvolging", "termijn_werkdagen_bij_dreiging", "termijn"),
        ("tussen-wal-en-schip", "venster_dagen", "paar.binnen_dagen"),
        ("terugval-zonder-nazorg", "terugval_dagen", "start.vorige.binnen_dagen"),
    ],
)
def test_a_period_beyond_100_years_is_refused_at_load(
    tmp_path: Path, rule_id: str, parameter: str, field: str
) -> None:
    """A period of 3,000,000 days loaded, and then every evaluation of the rule raised
    ``OverflowError`` (a date beyond the year 9999)."""
    write(tmp_path, "r.yaml", f"id: {rule_id}\nparameters:\n  {parameter}: 3000000\n")
    with pytest.raises(RuleFileError, match=f"less than or equal to {MAX_DAYS}") as info:
        load_rules(tmp_path)
    assert (info.value.field or "").startswith(field)
    write(tmp_path, "r.yaml", f"id: {rule_id}\nparameters:\n  {parameter}: {MAX_DAYS}\n")
    load_rules(tmp_path)


def test_a_value_shared_shallow_and_deep_is_judged_at_its_deepest() -> None:
    chain: object = "wmo-melding"
    for _ in range(MAX_NESTING - 2):
        chain = [chain]
    # fits at level 3 (as the first item), not at level 34 (under 31 more lists)
    deep: object = chain
    for _ in range(MAX_NESTING - 1):
        deep = [deep]
    error = error_of(broken(conditie={"alle": [chain, deep]}))
    assert error.detail == f"nested deeper than {MAX_NESTING} levels"


TOO_MANY = f"more than {MAX_NODES} values (lists, mappings and scalars) in the rule"


def values_in(node: object, seen: dict[int, int] | None = None) -> int:
    """The values of ``node`` counted as often as they occur, without walking a shared one
    twice (so a bomb is counted at once): what the compiler would expand."""
    seen = {} if seen is None else seen
    if id(node) not in seen:
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        seen[id(node)] = 1 + sum(values_in(child, seen) for child in children)
    return seen[id(node)]


def shared_bomb(levels: int, width: int = 4) -> object:
    """``levels`` mappings ``{alle: [x, x, …]}``, each holding the previous one ``width``
    times: a few dozen objects, ``width ** levels`` values once expanded (the Python form of
    a YAML alias bomb)."""
    condition: object = "werkwens"
    for _ in range(levels):
        condition = {"alle": [condition] * width}
    return condition


@pytest.mark.timeout(60)  # before the limit, 4^15 values ran for most of an hour
@pytest.mark.parametrize("levels", [7, 15])  # 16,384 and 1,073,741,824 values
def test_a_value_shared_many_times_from_python_is_refused_at_the_limit(levels: int) -> None:
    raw = broken(conditie=shared_bomb(levels))
    assert values_in(raw) > MAX_NODES
    error = error_of(raw)
    assert (error.field, error.detail) == ("conditie", TOO_MANY)


def test_a_parameter_counts_at_every_place_it_is_replaced() -> None:
    """99 codes used in 102 places: 554 values in the rule as given, 10,559 once the
    parameter is substituted."""
    codes = [f"{n:02d}" for n in range(1, 100)]
    places = [{"voorziening": {"productcategorie": "$codes"}} for _ in range(102)]
    raw = broken(leest=VOORZIENING_LEEST, conditie={"een_van": places})
    raw["parameters"] = {**raw["parameters"], "codes": codes}  # type: ignore[dict-item]
    assert values_in(raw) < MAX_NODES
    error = error_of(raw)
    assert (error.field, error.detail) == ("conditie", TOO_MANY)
    raw["conditie"] = {"een_van": places[:50]}  # 50 × 100 values: compiles
    rule, _ = compile_rule(raw, "eigen.yaml")
    assert "'99'" in repr(rule.shape)


def test_a_rule_of_exactly_the_limit_compiles_and_one_value_more_is_refused() -> None:
    base = values_in(broken(conditie={"een_van": []}))
    parts: list[object] = [{"niet": {"niet": "werkwens"}}] * ((MAX_NODES - base) // 3)
    parts += ["werkwens"] * ((MAX_NODES - base) % 3)
    raw = broken(conditie={"een_van": parts})
    assert values_in(raw) == MAX_NODES
    rule, _ = compile_rule(raw, "eigen.yaml")
    assert rule.id == "melding-zonder-onderzoek"
    raw = broken(conditie={"een_van": [*parts, "werkwens"]})
    assert (error_of(raw).field, error_of(raw).detail) == ("conditie", TOO_MANY)


@st.composite
def shared_conditions(draw: st.DrawFn) -> object:
    """A condition of 6 to 13 levels, each holding the one before twice and up to five
    earlier ones (``niet``: the one before once): a few dozen objects, nested at most 32
    levels deep in the rule, from a few hundred to 7^13 values once expanded."""
    made: list[object] = ["werkwens", {"werkpotentieel": {}}]
    for _ in range(draw(st.integers(6, 13))):
        op = draw(st.sampled_from(["alle", "een_van", "niet", "alle", "een_van"]))
        more = draw(st.lists(st.sampled_from(made), max_size=5))
        made.append({"niet": made[-1]} if op == "niet" else {op: [made[-1], made[-1], *more]})
    return {"een_van": [made[-1], "werkpotentieel"]}  # reads every type of ``leest`` below


@settings(max_examples=60, deadline=None)
@given(shared_conditions())
def test_a_rule_with_shared_values_is_compiled_or_refused_by_its_expanded_size(
    conditie: object,
) -> None:
    leest = [*VOORZIENING_LEEST[:2], "nl.participatiewet.arbeidsvermogen.vastgesteld"]
    raw = broken(conditie=conditie, leest=leest)
    try:
        compile_rule(raw, "eigen.yaml")
    except RuleFileError as exc:
        assert (exc.detail == TOO_MANY) == (values_in(raw) > MAX_NODES), exc
    else:
        assert values_in(raw) <= MAX_NODES
