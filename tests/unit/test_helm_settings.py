"""The chart refuses, in ``config.extraEnv``, a ``SCHAKEL_`` name that is no setting.

A misspelt name (``SCHAKEL_HISTORY_LIMT``) used to render: every pod then warned
(``settings.unknown_variable``) and ran with the default, or refused to start (a misspelt
security setting), after the install had succeeded. The chart knows the settings from
``templates/_settings.tpl``, generated from :class:`schemas.settings.Settings` by this module
(``PYTHONPATH=. python -m tests.unit.test_helm_settings``); the first test fails when the two
differ. The chart's suggestion (edit distance) is compared with the process's
(:func:`schemas.environment.unknown_variables`, difflib) on the usual misspellings."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from schemas.environment import NOT_SETTINGS, unknown_variables
from schemas.settings import ENV_PREFIX, Settings, WorkerSettings
from tests.unit.helm_chart import CHART, REQUIRED, merged
from tests.unit.helm_chart import template as render
from tests.unit.test_helm import secret_settings
from tests.unit.test_helm_values import chart_settings

SETTINGS_TPL = CHART / "templates" / "_settings.tpl"
VALUE = "geheim-waarde-7"
"""The value given to a refused name: no message may show it."""


def known_settings() -> list[str]:
    """The variable of every setting a Schakel process reads, sorted."""
    return sorted(f"{ENV_PREFIX}{name}".upper() for name in Settings.model_fields)


def settings_template() -> str:
    """What ``templates/_settings.tpl`` must hold."""
    names = "".join(f"- {name}\n" for name in known_settings())
    return (
        "{{/* Generated from schemas/settings.py (Settings.model_fields): run\n"
        "`PYTHONPATH=. python -m tests.unit.test_helm_settings` after a setting is added, renamed\n"
        "or removed (tests/unit/test_helm_settings.py fails until then). The variable of every\n"
        "setting a Schakel process reads: config.extraEnv may name no other SCHAKEL_ variable\n"
        "(_validate.tpl). */}}\n"
        '{{- define "schakel.knownSettings" -}}\n'
        f"{names}"
        "{{- end -}}\n"
    )


def chart(extra_env: dict[str, Any]) -> tuple[bool, str]:
    result = render(merged(REQUIRED, {"config": {"extraEnv": extra_env}}))
    return result.returncode == 0, result.stderr


def test_the_charts_settings_are_the_processes() -> None:
    assert SETTINGS_TPL.read_text(encoding="utf-8") == settings_template(), (
        "deploy/helm/schakel/templates/_settings.tpl differs from schemas/settings.py: "
        "run `PYTHONPATH=. python -m tests.unit.test_helm_settings`"
    )


def carried() -> list[str]:
    """The settings config.extraEnv may carry: neither set by the chart nor a secret's."""
    return sorted(set(known_settings()) - chart_settings() - secret_settings())


def test_extra_env_accepts_every_setting_it_may_carry() -> None:
    names = carried()
    assert "SCHAKEL_HISTORY_LIMIT" in names and "SCHAKEL_TIMEZONE" in names
    ok, error = chart(dict.fromkeys(names, "1"))
    assert ok, error


def test_the_settings_it_may_not_carry_are_refused_as_before() -> None:
    """A secret's variable and one the chart sets are settings: refused with their own
    message, not as unknown."""
    for name, message in (
        ("SCHAKEL_API_TOKENS", "belongs to a secret"),
        ("SCHAKEL_PARTITIONS", "is set by the chart"),
    ):
        ok, error = chart({name: "1"})
        assert not ok and f"config.extraEnv: {name} {message}" in error


def process_closest(name: str) -> str | None:
    """The setting the process names for ``name`` (its ``settings.unknown_variable`` line)."""
    (unknown,) = unknown_variables(WorkerSettings, {name: VALUE})
    return unknown.closest


@pytest.mark.parametrize(
    "name",
    [
        "SCHAKEL_HISTORY_LIMT",
        "SCHAKEL_HISTORYLIMIT",
        "SCHAKEL_HISTROY_LIMIT",
        "SCHAKEL_HISTORY",
        "SCHAKEL_LOGLEVEL",
        "SCHAKEL_REGISTRY_URL",
        "SCHAKEL_BOOTSTRAP",
        "SCHAKEL_PSEUDONYM_KEYFILE",
        "SCHAKEL_TIMER_INTERVAL",
        "SCHAKEL_TIME_ZONE",
        "SCHAKEL_MAX_XML_BYTE",
        "SCHAKEL_SCHEMA_REGISTRY_RETRY",
        "SCHAKEL_KAFKA_SECURITY_PROTCOL",
        "SCHAKEL_PARTITION",
        "SCHAKEL_API_TOKEN",
    ],
)
def test_a_misspelt_setting_is_refused_naming_the_setting_meant(name: str) -> None:
    closest = process_closest(name)
    assert closest is not None
    ok, error = chart({name: VALUE})
    assert not ok
    assert f"config.extraEnv: {name} is no Schakel setting: did you mean {closest}?" in error
    assert VALUE not in error


_LETTER = st.sampled_from("ABCDEIKLMNOPRSTUY_")


@st.composite
def misspelt(draw: st.DrawFn) -> str:
    """A setting's name with one or two typing errors: a letter left out, added, replaced or
    two swapped."""
    name = draw(st.sampled_from(known_settings())).removeprefix(ENV_PREFIX)
    for _ in range(draw(st.integers(1, 2))):
        at = draw(st.integers(0, len(name) - 1))
        match draw(st.sampled_from(["out", "in", "replaced", "swapped"])):
            case "out":
                name = name[:at] + name[at + 1 :]
            case "in":
                name = name[:at] + draw(_LETTER) + name[at:]
            case "replaced":
                name = name[:at] + draw(_LETTER) + name[at + 1 :]
            case "swapped":
                name = name[:at] + name[at + 1 : at + 2] + name[at : at + 1] + name[at + 2 :]
    return ENV_PREFIX + name


@settings(max_examples=40, derandomize=True, deadline=None)
@given(misspelt())
def test_the_chart_suggests_what_the_process_suggests(name: str) -> None:
    assume(name not in known_settings())  # the errors cancelled out, or made another setting
    closest = process_closest(name)
    ok, error = chart({name: VALUE})
    assert not ok
    said = f": did you mean {closest}?" if closest is not None else " ("
    assert f"config.extraEnv: {name} is no Schakel setting{said}" in error, error


@pytest.mark.parametrize("name", ["SCHAKEL_FOO", "SCHAKEL_", "SCHAKEL_WIJKTEAM_TOKENS_PATH"])
def test_a_name_like_no_setting_is_refused_without_a_suggestion(name: str) -> None:
    assert process_closest(name) is None
    ok, error = chart({name: VALUE})
    assert not ok
    assert re.search(rf"config.extraEnv: {name} is no Schakel setting \(", error), error
    assert "did you mean" not in error and VALUE not in error


@pytest.mark.parametrize("name", ["SCHAKEL_history_limit", "SCHAKEL_Partitions"])
def test_a_setting_in_small_letters_is_refused_naming_it_in_capitals(name: str) -> None:
    """The processes read it regardless of case, but the chart's checks compare names as
    written: ``SCHAKEL_Partitions`` passed the check of the variables the chart sets, and was a
    second value of ``SCHAKEL_PARTITIONS``."""
    ok, error = chart({name: VALUE})
    assert not ok
    assert f"config.extraEnv: {name}: write the name in capitals, {name.upper()} " in error
    assert VALUE not in error


def test_the_test_suites_own_variables_are_no_settings_for_the_chart() -> None:
    """``NOT_SETTINGS`` (the trials' sizes, the test database's user) reach only the processes
    the test suite starts; in a release they are a mistake."""
    name = sorted(NOT_SETTINGS)[0]
    ok, error = chart({name: "1"})
    assert not ok and f"config.extraEnv: {name} is no Schakel setting" in error


if __name__ == "__main__":
    SETTINGS_TPL.write_text(settings_template(), encoding="utf-8")
    print(f"wrote {SETTINGS_TPL}")
