"""Loading rules: built-ins, overrides, disabling, new rules and visibility of types."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest
import yaml

from streams.rules import BUILTIN_DIR, BUILTIN_IDS, RuleSet, describe_rule, load_rules
from streams.rules import catalogue as c

from .conftest import SUBJECT, Events, d, only, signals_of

R1 = "werkpotentieel-zonder-verwijzing"
R3 = "vroegsignaal-zonder-opvolging"

MELDING_RULE = """
id: melding-zonder-onderzoek
titel: Melding zonder onderzoek
doel: Na een Wmo-melding volgt binnen zes weken een afgerond onderzoek.
grondslag: Wmo 2015 art. 2.3.2 lid 1 (onderzoek binnen zes weken na de melding).
leest:
  - nl.wmo.meldingen.ontvangen
  - nl.wmo.onderzoeken.afgerond
parameters:
  termijn_dagen: 42
vorm: gebeurtenis
start:
  gebeurtenis: nl.wmo.meldingen.ontvangen
termijn:
  dagen: $termijn_dagen
verwacht:
  - gebeurtenis: nl.wmo.onderzoeken.afgerond
uitleg: Melding op {sinds}; geen afgerond onderzoek uiterlijk {termijn} ({periode}).
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_builtins_load_in_order(rules: RuleSet) -> None:
    assert tuple(r.id for r in rules.rules) == BUILTIN_IDS
    assert rules.disabled == ()
    assert rules.types <= set(c.INPUT_TYPES)
    assert c.WMO_MELDING_ONTVANGEN not in rules.types
    assert all(isinstance(r.leest, frozenset) for r in rules.rules)


def test_summary_names_the_rule(rules: RuleSet) -> None:
    text = describe_rule(rules.get(R3))
    assert text.startswith("Vroegsignaal zonder opvolging [vroegsignaal-zonder-opvolging]")
    assert "3 werkdagen als (dreiging ≠ geen)" in text


def test_a_new_rule_by_configuration(tmp_path: Path, ev: Events) -> None:
    write(tmp_path, "melding-zonder-onderzoek.yaml", MELDING_RULE)
    rules = load_rules(tmp_path)
    assert [r.id for r in rules.rules][-1] == "melding-zonder-onderzoek"
    assert c.WMO_MELDING_ONTVANGEN in rules.types
    events = [ev(c.WMO_MELDING_ONTVANGEN, "2026-01-05")]
    signal = only(rules, "melding-zonder-onderzoek", events, "2026-02-17")
    assert signal.termijn == d("2026-02-16")
    assert (
        signal.uitleg
        == "Melding op 2026-01-05; geen afgerond onderzoek uiterlijk 2026-02-16 (42 dagen)."
    )
    done = [*events, ev.onderzoek("2026-02-16")]
    assert signals_of(rules, "melding-zonder-onderzoek", done, "2026-03-01") == []


def test_yml_suffix_is_loaded_and_other_files_ignored(tmp_path: Path) -> None:
    write(tmp_path, "eigen.yml", MELDING_RULE)
    write(tmp_path, "README.txt", "not a rule")
    assert "melding-zonder-onderzoek" in [r.id for r in load_rules(tmp_path).rules]


def test_override_a_parameter(tmp_path: Path, ev: Events) -> None:
    write(tmp_path, "r1.yaml", f"id: {R1}\nparameters:\n  termijn_dagen: 28\n")
    rules = load_rules(tmp_path)
    events = [ev.arbeidsvermogen("2026-01-05"), ev.toegewezen("2026-01-10")]
    assert signals_of(rules, R1, events, "2026-02-07") == []
    signal = only(rules, R1, events, "2026-02-08")
    assert signal.termijn == d("2026-02-07")
    assert rules.get(R1).parameters["termijn_dagen"] == 28
    assert rules.get(R1).bron[-1].name == "r1.yaml"


def test_override_the_working_day_period(tmp_path: Path, ev: Events) -> None:
    write(tmp_path, "r3.yaml", f"id: {R3}\nparameters:\n  termijn_werkdagen_bij_dreiging: 5\n")
    rules = load_rules(tmp_path)
    events = [ev.vroegsignaal("2026-01-09", dreiging="afsluiting")]  # a Friday
    assert only(rules, R3, events, "2026-03-01").termijn == d("2026-01-16")


def test_override_other_keys_replaces_them(tmp_path: Path, ev: Events) -> None:
    write(tmp_path, "r1.yaml", f"id: {R1}\nuitleg: 'Signaal sinds {{sinds}}.'\n")
    rules = load_rules(tmp_path)
    events = [ev.arbeidsvermogen("2026-01-05"), ev.toegewezen("2026-01-10")]
    assert only(rules, R1, events, "2026-03-08").uitleg == "Signaal sinds 2026-01-10."


def test_disable_a_rule(tmp_path: Path, ev: Events) -> None:
    write(tmp_path, "uit.yaml", f"id: {R3}\nactief: false\n")
    rules = load_rules(tmp_path)
    assert R3 not in [r.id for r in rules.rules]
    assert rules.disabled == (R3,)
    with pytest.raises(KeyError):
        rules.get(R3)
    events = [ev.vroegsignaal("2026-01-05")]
    assert rules.evaluate(SUBJECT, events, d("2026-06-01")) == []
    assert len(rules.rules) == len(BUILTIN_IDS) - 1


def test_a_rule_cannot_see_undeclared_types(rules: RuleSet, ev: Events) -> None:
    r1 = rules.get(R1)
    blind = dataclasses.replace(r1, leest=r1.leest - {c.PW_VERWIJZING_ONTVANGEN})
    events = [
        ev.arbeidsvermogen("2026-01-05"),
        ev.toegewezen("2026-01-10"),
        ev.pw_verwijzing("2026-02-01"),  # in time, but the blind rule may not read it
    ]
    assert signals_of(rules, R1, events, "2026-03-08") == []
    found = RuleSet([blind]).evaluate(SUBJECT, events, d("2026-03-08"))
    assert [s.sleutel for s in found] == ["2026-01-10"]


def test_a_custom_rule_sees_only_its_declared_types(tmp_path: Path, ev: Events) -> None:
    write(
        tmp_path,
        "zonder-pw.yaml",
        """
        id: werkpotentieel-zonder-wijkteamverwijzing
        titel: Werkpotentieel zonder verwijzing door het wijkteam
        doel: Test.
        grondslag: Test.
        leest:
          - nl.wmo.voorzieningen.toegewezen
          - nl.wmo.voorzieningen.gestart
          - nl.wmo.voorzieningen.gestopt
          - nl.wmo.onderzoeken.afgerond
          - nl.participatiewet.arbeidsvermogen.vastgesteld
          - nl.wijkteams.verwijzingen.gedaan
        parameters: {termijn_dagen: 56}
        vorm: episode
        conditie: {alle: [voorziening, werkpotentieel]}
        termijn: {dagen: $termijn_dagen}
        verwacht:
          - gebeurtenis: nl.wijkteams.verwijzingen.gedaan
        uitleg: Sinds {sinds}.
        """,
    )
    rules = load_rules(tmp_path)
    events = [
        ev.arbeidsvermogen("2026-01-05"),
        ev.toegewezen("2026-01-10"),
        ev.pw_verwijzing("2026-02-01"),
    ]
    found = rules.evaluate(SUBJECT, events, d("2026-03-08"))
    assert [s.regel for s in found] == ["werkpotentieel-zonder-wijkteamverwijzing"]
    assert found[0].bewijs == ("e1", "e2")


def test_builtin_leest_is_exactly_what_the_definition_needs() -> None:
    # Loading would fail otherwise (missing and superfluous types are both errors); this
    # pins the declared counts of rules.md so a change is deliberate.
    counts = {r.id: len(r.leest) for r in load_rules().rules}
    assert counts == {
        "werkpotentieel-zonder-verwijzing": 9,
        "tussen-wal-en-schip": 13,
        "vroegsignaal-zonder-opvolging": 4,
        "meervoudig-zonder-regie": 14,
        "dagbesteding-zonder-werkstap": 6,
        "terugval-zonder-nazorg": 6,
    }


def _numbers_outside_parameters(node: object, path: str = "") -> list[str]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _numbers_outside_parameters(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _numbers_outside_parameters(v, path)]
    is_number = isinstance(node, int) and not isinstance(node, bool)
    return [path] if is_number else []


@pytest.mark.parametrize("rule_id", BUILTIN_IDS)
def test_every_builtin_number_is_a_parameter(rule_id: str) -> None:
    raw = yaml.safe_load((BUILTIN_DIR / f"{rule_id}.yaml").read_text(encoding="utf-8"))
    assert raw["id"] == rule_id
    definition = {k: v for k, v in raw.items() if k != "parameters"}
    assert _numbers_outside_parameters(definition) == []
    assert {"id", "titel", "doel", "grondslag", "leest", "parameters", "uitleg"} <= set(raw)


def test_the_examples_in_the_operator_guide_load(tmp_path: Path, ev: Events) -> None:
    guide = Path(__file__).parents[3] / "docs" / "rules.md"
    blocks = guide.read_text(encoding="utf-8").split("```yaml\n")[1:]
    files = 0
    for block in blocks:
        text = block.split("```", 1)[0]
        first = text.splitlines()[0]
        if first.startswith("# ") and first.endswith(".yaml"):
            (tmp_path / first[2:]).write_text(text, encoding="utf-8")
            files += 1
    assert files == 3
    rules = load_rules(tmp_path)
    assert "meervoudig-zonder-regie" in rules.disabled
    assert rules.get(R1).parameters["termijn_dagen"] == 42
    events = [ev(c.WMO_MELDING_ONTVANGEN, "2026-01-05")]
    signal = only(rules, "melding-zonder-onderzoek", events, "2026-02-17")
    assert signal.uitleg == (
        "Melding op 2026-01-05; geen afgerond onderzoek uiterlijk 2026-02-16 (42 dagen)."
    )
