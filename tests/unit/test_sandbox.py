"""Where replay and demo run (schakel/sandbox.py): the settings and profile of a run on an
existing Kafka, and the checks of ``--bootstrap`` / ``--namespace`` / ``--keep-topics`` and
``--jobs``."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any, cast

import pytest
from kafka import KafkaAdminClient
from kafka.errors import CoordinatorNotAvailableError

from schakel import sandbox
from schakel.replay import add_arguments, ordered_inputs, target_problem
from schakel.replay import run as replay_command
from schakel.sandbox import generated_namespace, run_settings
from schemas.exceptions import SettingsError
from schemas.settings import load_settings
from schemas.wire import Wire


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_bootstrap_means_apache_kafka_unless_the_profile_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("SCHAKEL_PROFILE", "SCHAKEL_NAMESPACE", "SCHAKEL_KAFKA_BOOTSTRAP"):
        monkeypatch.delenv(name, raising=False)
    run = run_settings(load_settings(), "kafka-1:9092", "replay-0a1b2c3d")
    assert run.profile == "kafka"  # the default profile: no embedded workarounds
    assert run.kafka_bootstrap == "kafka-1:9092"
    assert run.wire() == Wire("replay-0a1b2c3d")
    monkeypatch.setenv("SCHAKEL_PROFILE", "embedded")  # explicitly: a `schakel broker`
    assert run_settings(load_settings(), "127.0.0.1:9092", "a").profile == "embedded"
    production = load_settings(
        profile="production", kafka_bootstrap="k:9092", schema_registry_url="http://r"
    )
    assert run_settings(production, "k:9092", "a").profile == "production"
    with pytest.raises(SettingsError, match="SCHAKEL_NAMESPACE"):
        run_settings(load_settings(), "k:9092", "Not.Valid")


def test_the_kafka_profile_needs_a_bootstrap() -> None:
    with pytest.raises(SettingsError, match="SCHAKEL_KAFKA_BOOTSTRAP"):
        load_settings(profile="kafka")
    assert load_settings(profile="kafka", kafka_bootstrap="k:9092").store == "memory"


def test_generated_namespaces_are_valid_and_fresh() -> None:
    names = {generated_namespace("replay") for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert re.fullmatch(r"replay-[0-9a-f]{8}", name) and Wire(name).namespace == name


def test_target_options_are_checked() -> None:
    assert target_problem(parse("f.jsonl")) is None
    assert target_problem(parse("--bootstrap", "k:9092", "f.jsonl")) is None
    assert (
        target_problem(parse("--bootstrap", "k:9092", "--namespace", "proef", "--keep-topics"))
        is None
    )
    assert "need --bootstrap" in str(target_problem(parse("--namespace", "proef")))
    assert "need --bootstrap" in str(target_problem(parse("--keep-topics")))
    assert "SCHAKEL_NAMESPACE" in str(
        target_problem(parse("--bootstrap", "k:9092", "--namespace", "A_B"))
    )
    assert "must not be empty" in str(
        target_problem(parse("--bootstrap", "k:9092", "--namespace", ""))
    )
    assert "HOST:PORT" in str(target_problem(parse("--bootstrap", " ")))


def test_option_values_are_not_read_as_input_files() -> None:
    argv = ["replay", "a.jsonl", "--bootstrap", "k:9092", "--namespace", "proef", "--from"]
    argv += ["iwmo:dir", "--until", "2026-06-30", "--keep-topics", "--batch", "--jobs", "2"]
    argv += ["--jobs=3", "b.jsonl"]
    assert ordered_inputs(argv) == [("publish", "a.jsonl"), ("iwmo", "dir"), ("publish", "b.jsonl")]


def test_jobs_is_a_whole_number_of_at_least_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse("--batch").jobs == 1
    assert parse("--batch", "--jobs", "4").jobs == 4
    for bad in ("0", "-1", "two"):
        with pytest.raises(SystemExit) as refused:
            parse("--batch", "--jobs", bad)
        assert refused.value.code == 2
        assert "at least 1" in capsys.readouterr().err


def test_jobs_needs_the_batch_path(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = str(Path(__file__).resolve().parents[2] / "examples" / "scenario.jsonl")
    args = parse(scenario, "--jobs", "2")
    args.argv = ["replay", scenario, "--jobs", "2"]
    assert replay_command(args, load_settings()) == 2  # before anything starts
    assert "schakel replay: --jobs needs --batch" in capsys.readouterr().err


class _Admin:
    """A stand-in admin client whose ``delete_groups`` gives the answers queued."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.asked: list[list[str]] = []

    def delete_groups(self, groups: list[str]) -> dict[str, str]:
        self.asked.append(groups)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {g: answer[g] for g in groups}


def test_a_group_coordinator_not_there_yet_is_asked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a fresh Apache Kafka: no coordinator until asked, then one still starting
    monkeypatch.setattr(sandbox, "RETRY_S", 0)
    admin = _Admin(
        CoordinatorNotAvailableError("fresh"),
        {"a": "NotCoordinatorError", "b": "NonEmptyGroupError"},
        {"a": "GroupIdNotFoundError"},
    )
    left = sandbox._delete_groups(cast(KafkaAdminClient, admin), ["a", "b"])
    assert left == {"b": "NonEmptyGroupError"}  # live members: told, not waited on
    assert admin.asked == [["a", "b"], ["a", "b"], ["a"]]


def test_a_coordinator_that_never_comes_is_told_after_the_patience(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sandbox, "RETRY_S", 0)
    monkeypatch.setattr(sandbox, "GROUP_PATIENCE_S", 0)
    admin = _Admin(CoordinatorNotAvailableError("never"))
    left = sandbox._delete_groups(cast(KafkaAdminClient, admin), ["a"])
    assert left == {"a": "CoordinatorNotAvailableError"}
