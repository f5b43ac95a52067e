"""Invalid rule files fail loading with a readable message: file, rule id and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from streams.exceptions import RuleConfigError, RuleFileError
from streams.rules import compile_rule, load_rules

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


def test_productcategorie_filter_accepts_number_and_text() -> None:
    leest = [
        "nl.wmo.meldingen.ontvangen",
        "nl.wmo.onderzoeken.afgerond",
        "nl.wmo.voorzieningen.toegewezen",
        "nl.wmo.voorzieningen.gestart",
        "nl.wmo.voorzieningen.gestopt",
    ]
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
