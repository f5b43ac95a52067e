"""Errors on stderr never carry a BSN: a file or folder name may hold one (a provider's
``client_<bsn>.xml``), and the one line ``schakel`` prints for an error masks it as the log
lines and the quarantine do (:func:`schemas.pseudonym.mask_bsn`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from adapters.exceptions import AdapterError, PublishError, SourceUnavailable
from schakel import adapter_cmd, wiring
from schakel.cli import EXIT_TEMPFAIL, main, one_line
from schakel.wiring import BrokerUnreachable
from schemas.exceptions import RegistryUnavailable, TransientError

BSN = "999990019"
SEED_MAX = 2**63 - 1  # a seed is any whole number a signed 64-bit integer holds, from 0
REGISTRY = "http://127.0.0.1:1"


def test_one_line_masks_a_bsn_in_a_file_name() -> None:
    line = one_line(OSError(2, "No such file or directory", f"/data/in/client_{BSN}.csv"))
    assert BSN not in line
    assert "client_*********.csv" in line


def test_an_adapter_error_on_stderr_masks_a_bsn(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(args: argparse.Namespace, settings: Any) -> int:
        raise AdapterError(f"iwmo: cannot list /data/iwmo/client_{BSN}: No such file or directory")

    monkeypatch.setattr(adapter_cmd, "_run", failing)
    args = argparse.Namespace(serve=False, name="iwmo", spec="/data/iwmo")
    assert adapter_cmd.run(args, settings=None) == 2  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert BSN not in err
    assert "cannot list /data/iwmo/client_*********" in err


@pytest.mark.parametrize(
    ("outage", "registry", "away"),
    [
        (
            SourceUnavailable("outbox: cannot connect"),
            None,
            "the source (the outbox's database) is",
        ),
        (PublishError("broker did not acknowledge"), None, "the broker is"),
        (RegistryUnavailable("registry did not answer"), None, "the schema registry is"),
        # a broker that did not answer at the start is not a PublishError (review K, 4)
        (BrokerUnreachable("Kafka at 127.0.0.1:1 did not answer"), None, "the broker is"),
        (BrokerUnreachable("Kafka at 127.0.0.1:1 did not answer"), REGISTRY, "the broker is"),
        # an outage of no known kind names the registry only where there is one
        (TransientError("away"), None, "the broker is"),
        (TransientError("away"), REGISTRY, "the broker and the schema registry are"),
    ],
)
def test_an_outage_of_a_one_shot_adapter_names_what_was_away(
    outage: TransientError,
    registry: str | None,
    away: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Review I, F3: the outbox with its database down said "run again when the broker and
    the schema registry are reachable"; so did an unreachable broker with no registry
    configured."""

    def failing(args: argparse.Namespace, settings: Any) -> int:
        raise outage

    monkeypatch.setattr(adapter_cmd, "_run", failing)
    args = argparse.Namespace(serve=False, name="outbox", spec="")
    settings = argparse.Namespace(schema_registry_url=registry)
    assert adapter_cmd.run(args, settings) == EXIT_TEMPFAIL  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert f"run again when {away} reachable" in err, err


def test_a_one_shot_adapter_with_no_broker_and_no_registry_names_only_the_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``adapter --once`` and ``publish`` against an address where nothing listens, no schema
    registry configured: "run again when the broker is reachable", exit 75."""
    events = tmp_path / "events.jsonl"
    events.write_text("")
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", "unit-test-key-0123456789abcdef0123456")
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("SCHAKEL_SCHEMA_REGISTRY_URL", raising=False)
    monkeypatch.setattr(wiring, "CONNECT_WAIT_S", 0.2)
    for argv in (["adapter", "wijkteam", str(events), "--once"], ["publish", str(events)]):
        assert main(argv) == EXIT_TEMPFAIL, argv
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("schakel: BrokerUnreachable: Kafka at 127.0.0.1:1"), line
        assert line.endswith("run again when the broker is reachable"), line


@pytest.mark.parametrize("once", [True, False])
def test_an_unknown_adapter_is_named_with_the_adapters_there_are(
    once: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review K, 3: ``schakel adapter bogus x --once`` said ``--from: unknown adapter (use
    ADAPTER:PATH; …)``, an option of ``replay`` this command does not have; without
    ``--once`` the list named ``publish``, which is ``schakel publish``. Refused before the
    broker or the path is looked at (there is neither here)."""
    monkeypatch.delenv("SCHAKEL_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", "unit-test-key-0123456789abcdef0123456")
    assert main(["adapter", "bogus", "x", *(["--once"] if once else [])]) == 2
    out, err = capsys.readouterr()
    (line,) = err.strip().splitlines()
    assert not out
    assert line == (
        "schakel adapter bogus: unknown adapter (adapters: iwmo, outbox, sociale-dienst, "
        "vroegsignalering, wijkteam; CloudEvents JSON lines: schakel publish)"
    )


def test_an_adapter_name_on_stderr_masks_a_bsn(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(serve=False, name=f"client_{BSN}", spec="")
    assert adapter_cmd.run(args, settings=None) == 2  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert BSN not in err and "adapter client_*********: unknown adapter" in err
    args = argparse.Namespace(serve=False, name="iwmo", spec="")
    assert adapter_cmd.run(args, settings=None) == 2  # type: ignore[arg-type]
    assert "schakel adapter iwmo: needs a SPEC" in capsys.readouterr().err


ONE_SHOT_COMMANDS = {
    # command: (its argv for PATH, the file name, how its one line starts)
    "publish": (["publish", "{path}"], f"burger-{BSN}.jsonl", "schakel publish: FILE: "),
    "adapter --once": (
        ["adapter", "sociale-dienst", "{path}", "--once"],
        f"export-{BSN}.csv",
        "schakel adapter sociale-dienst: SPEC: ",
    ),
}


@pytest.mark.parametrize("kind", ["missing", "directory"])
@pytest.mark.parametrize("command", sorted(ONE_SHOT_COMMANDS))
def test_a_one_shot_command_refuses_a_missing_path_or_a_directory_before_it_starts(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: str,
    kind: str,
) -> None:
    """``schakel publish FILE`` and ``schakel adapter NAME SPEC --once`` with a path that is not
    there, or a directory where files are read: bad arguments, exit 2, one masked line,
    nothing written and no broker asked (review C item 5: exit 3 and a permanent
    ``unreadable`` dead letter; the broker here does not exist, so asking it would be exit
    75). A continuous adapter keeps waiting for the file (a nightly export may come)."""
    argv, name, starts = ONE_SHOT_COMMANDS[command]
    path = tmp_path / name
    if kind == "directory":
        path.mkdir()
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", "unit-test-key-0123456789abcdef0123456")
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(tmp_path / "var"))
    assert main([arg.format(path=path) for arg in argv]) == 2
    out, err = capsys.readouterr()
    (line,) = err.splitlines()
    assert not out and BSN not in err
    assert line.startswith(starts) and name.replace(BSN, "*********") + ": " in line
    assert ("no such file" if kind == "missing" else "is a directory") in line
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize("value", ["-1", "nan", "soon", "3601", "999990019"])
def test_publish_settle_must_be_seconds(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["publish", "events.jsonl", "--settle", value])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--settle: must be a number of seconds from 0 to 3600" in err
    assert "999990019" not in err and repr(value) not in err  # what was typed is not echoed


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e10", "86401", "soon"])
def test_an_adapter_poll_interval_must_be_seconds(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--interval`` is checked as SCHAKEL_POLL_INTERVAL_S is: a negative one or nan made the
    continuous adapter poll its source and the broker without pause; inf, or more than a thread
    can wait, stopped it with an OverflowError traceback after its first run; 0 was silently
    the setting's interval."""
    with pytest.raises(SystemExit) as stopped:
        main(["adapter", "wijkteam", "exports", "--interval", value])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--interval: must be a number of seconds above 0, at most 86400" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["adapter", "wijkteam", "--serve", "--port", "70000"],
            "--port: must be a whole number from 0 to 65535",
        ),
        (
            ["adapter", "wijkteam", "--serve", "--port", "-5"],
            "--port: must be a whole number from 0 to 65535",
        ),
        (["broker", "--port", "65536"], "--port: must be a whole number from 0 to 65535"),
        (["demo", "--port", "0"], "--port: must be a whole number from 1 to 65535"),
        (["demo", "--timeout", "nan"], "--timeout: must be a number of seconds above 0"),
        (["demo", "--timeout", "-1"], "--timeout: must be a number of seconds above 0"),
        (
            ["adapter", "iwmo", "in", "--batch-size", "0"],
            "--batch-size: must be a whole number at least 1",
        ),
        (["replay", "--batch", "--jobs", "0"], "--jobs: must be a whole number at least 1"),
        (["replay", "--batch", "--jobs", f"x{BSN}"], "--jobs: must be a whole number at least 1"),
        # generate: refused (after the key file was read) as "--citizens must be at least 100",
        # a rule neither --help nor the docs gave; above the BSN block it echoed the number
        (
            ["generate", "--citizens", "50", "--out", "o"],
            "--citizens: must be a whole number from 100 to 9091",
        ),
        (
            ["generate", "--citizens", "9092", "--out", "o"],
            "--citizens: must be a whole number from 100 to 9091",
        ),
        (
            ["generate", "--citizens", BSN, "--out", "o"],
            "--citizens: must be a whole number from 100 to 9091",
        ),
        # demo and generate --seed, demo --citizens: argparse's own "invalid int value: '…'"
        # echoed what was typed; demo --citizens 0 or 99999 got as far as the synthesis
        (["demo", "--citizens", "0"], "--citizens: must be a whole number from 100 to 9091"),
        (["demo", "--citizens", BSN], "--citizens: must be a whole number from 100 to 9091"),
        (["demo", "--citizens", f"x{BSN}"], "--citizens: must be a whole number from 100 to 9091"),
        (["demo", "--seed", f"x{BSN}"], f"--seed: must be a whole number from 0 to {SEED_MAX}"),
        (["demo", "--seed", "-1"], f"--seed: must be a whole number from 0 to {SEED_MAX}"),
        (
            ["generate", "--seed", f"x{BSN}", "--out", "o"],
            f"--seed: must be a whole number from 0 to {SEED_MAX}",
        ),
        (
            ["generate", "--out", "o", "--seed", str(2**63)],
            f"--seed: must be a whole number from 0 to {SEED_MAX}",
        ),
    ],
)
def test_numbers_on_the_command_line_are_checked(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A port outside 0–65535 was a traceback (``OverflowError`` from ``bind``, exit 1) in the
    webhook, and a failed start of the embedded broker; ``demo --timeout nan`` waited not at
    all. Each is one line naming the option and the rule, exit 2, never what was typed."""
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert message in err
    assert BSN not in err and repr(argv[-1]) not in err


@pytest.mark.parametrize(
    "argv", [["--unt", "2026-12-31"], ["--fr", "sociale-dienst:export.csv"], ["--jso"]]
)
def test_replay_refuses_an_abbreviated_option(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``schakel replay`` takes its inputs from the command line in their order, knowing the
    options by their full names: an abbreviation (which argparse would otherwise accept) is
    refused as unknown, not taken for a file (``--unt 2026-12-31`` said "FILE: 2026-12-31: no
    such file")."""
    with pytest.raises(SystemExit) as stopped:
        main(["replay", "events.jsonl", *argv])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments" in err and argv[0] in err


@pytest.mark.parametrize("command", ["replay", "demo"])
@pytest.mark.parametrize("value", ["kafka-1", "kafka-1:99999", "gebruiker:GEHEIM@kafka-1:9092"])
def test_a_bootstrap_argument_must_be_host_and_port(
    command: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--bootstrap`` is checked as SCHAKEL_KAFKA_BOOTSTRAP is: without a port the 5 s
    connection check found no address to ask, and the run failed after the Kafka client's 30 s
    as if the broker were down; the value is not echoed (it may hold a password)."""
    argv = [command, "--bootstrap", value]
    assert main([*argv, "events.jsonl"] if command == "replay" else argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"schakel {command}: --bootstrap: expected HOST:PORT addresses"), err
    assert err.count("\n") == 1 and "GEHEIM" not in err


def test_generate_refuses_a_key_file_too_short_for_the_pipeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``generate --pseudonym-key-file`` reads the key as the adapters do: a key the pipeline
    would refuse (fewer than 32 characters) gives no ground truth, exit 2, the key not echoed."""
    key_file = tmp_path / "sleutel"
    key_file.write_text("kort-geheim\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["generate", "--citizens", "100", "--out", str(out), "--pseudonym-key-file"]
    assert main([*argv, str(key_file)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "--pseudonym-key-file" in line and "32" in line and "kort-geheim" not in line
    assert not out.exists()
