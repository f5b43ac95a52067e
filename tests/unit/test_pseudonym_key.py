"""Issue 11 item 14: every process that pseudonymises refuses to start without a configured
key, in every profile (one line naming SCHAKEL_PSEUDONYM_KEY / _FILE, exit 2), before it
touches a broker; only ``demo`` and ``replay`` generate one for their own run."""

from __future__ import annotations

from pathlib import Path

import pytest

from schakel.cli import main

PROFILES = {
    "embedded": {},
    "kafka": {"SCHAKEL_KAFKA_BOOTSTRAP": "127.0.0.1:1"},
    "production": {
        "SCHAKEL_KAFKA_BOOTSTRAP": "127.0.0.1:1",
        "SCHAKEL_SCHEMA_REGISTRY_URL": "http://127.0.0.1:1",
    },
}


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    events = tmp_path / "events.jsonl"
    events.write_text("")
    bsns = tmp_path / "bsns.txt"
    bsns.write_text("999990111\n")
    return {
        "file adapter": ["adapter", "iwmo", str(tmp_path), "--once"],
        "continuous adapter": ["adapter", "sociale-dienst", str(tmp_path / "x.csv")],
        "webhook": ["adapter", "wijkteam", "--serve", "--port", "0"],
        "outbox": ["adapter", "outbox", "postgresql://127.0.0.1:1/x", "--once"],
        "publish": ["publish", str(events)],
        "forget": ["forget", "--bsn-file", str(bsns)],
    }


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_pseudonymising_command_refuses_to_start_without_a_key(
    profile: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("SCHAKEL_PSEUDONYM_KEY", "SCHAKEL_PSEUDONYM_KEY_FILE", "SCHAKEL_KAFKA_BOOTSTRAP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCHAKEL_PROFILE", profile)
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SCHAKEL_WEBHOOK_TOKENS", "urn:nld:oin:1:systeem:wijkteam=t")
    for variable, value in PROFILES[profile].items():
        monkeypatch.setenv(variable, value)
    for what, argv in _commands(tmp_path).items():
        assert main(argv) == 2, what
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert len(lines) == 1, (what, err)
        assert "SCHAKEL_PSEUDONYM_KEY or SCHAKEL_PSEUDONYM_KEY_FILE is required" in lines[0]
        assert not out, what
    assert not (tmp_path / "var" / "checkpoints").exists()


BAD_KEYS = {
    "short": ("k3y-T00-sh0rt", "shorter than 32 characters"),
    "padded": (" unit-test-key-0123456789abcdef0123456", "begins or ends with white space"),
}
KAFKA = {
    "unreachable": {"SCHAKEL_KAFKA_BOOTSTRAP": "127.0.0.1:1"},  # nothing listens there
    "none": {},  # no Kafka configured and no embedded broker running
}


@pytest.mark.parametrize("kafka", sorted(KAFKA))
@pytest.mark.parametrize("bad", sorted(BAD_KEYS))
def test_a_refused_key_is_named_before_any_broker_is_asked(
    bad: str,
    kafka: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Review K, 2: the key's length and white space were checked only after the broker was
    reached: ``adapter --once`` and ``publish`` with an unreachable bootstrap exited 75
    (BrokerUnreachable, "run again later": a scheduler retries a wrong key for ever), and
    with no Kafka at all every command said NoKafkaError, hiding the key. Now each says the
    key is refused (naming SCHAKEL_PSEUDONYM_KEY, never echoing it), exit 2, first."""
    key, says = BAD_KEYS[bad]
    for name in ("SCHAKEL_PSEUDONYM_KEY_FILE", "SCHAKEL_KAFKA_BOOTSTRAP", "SCHAKEL_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", key)
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SCHAKEL_METRICS_PORT", "0")
    for variable, value in KAFKA[kafka].items():
        monkeypatch.setenv(variable, value)
    commands = _commands(tmp_path)
    del commands["forget"]  # not an adapter: its key is checked in schakel/forget.py
    for what, argv in commands.items():
        # the webhook's secret only in the webhook's environment (else a warning line)
        if what == "webhook":
            monkeypatch.setenv("SCHAKEL_WEBHOOK_TOKENS", "urn:nld:oin:1:systeem:wijkteam=t")
        else:
            monkeypatch.delenv("SCHAKEL_WEBHOOK_TOKENS", raising=False)
        assert main(argv) == 2, what
        out, err = capsys.readouterr()
        (line,) = err.strip().splitlines()
        assert line.startswith("schakel: SettingsError: SCHAKEL_PSEUDONYM_KEY: the key "), line
        assert says in line and key.strip() not in line, what
        assert not out, what
    assert not (tmp_path / "var" / "checkpoints").exists()
