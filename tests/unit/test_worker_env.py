"""The worker that ``schakel replay`` and ``schakel demo`` start gets no pseudonym key: it
never sees a BSN, and a secret reaches only the processes that use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from schakel.replay import WORKER_WITHHELD, worker_env
from schemas.settings import Settings, WorkerSettings, load_process_settings


def test_the_started_worker_gets_no_pseudonym_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", "a-secret-key-of-the-adapters")
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("SCHAKEL_API_TOKENS", "ana:regisseur:t0k3n")
    settings = Settings(namespace="ns", partitions=4)
    env = worker_env(
        settings, "127.0.0.1:9092", tmp_path / "w", web_port=8123, extra_env={"X_EXTRA": "1"}
    )
    assert set(WORKER_WITHHELD) & set(env) == set()
    assert "a-secret-key-of-the-adapters" not in env.values()
    assert env["SCHAKEL_API_TOKENS"] == "ana:regisseur:t0k3n"  # what the worker does use
    assert (env["SCHAKEL_KAFKA_BOOTSTRAP"], env["SCHAKEL_NAMESPACE"]) == ("127.0.0.1:9092", "ns")
    assert env["SCHAKEL_WEB_PORT"] == "8123" and env["SCHAKEL_PARTITIONS"] == "4"
    assert env["X_EXTRA"] == "1"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8123"),
        ("::", "http://[::1]:8123"),
        ("10.1.2.3", "http://10.1.2.3:8123"),
    ],
)
def test_the_started_worker_announces_a_url_of_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, host: str, url: str
) -> None:
    # the image sets SCHAKEL_WEB_HOST=0.0.0.0: a worker started by replay inherits it, and a
    # worker on a wildcard address refuses to start without SCHAKEL_WEB_URL
    monkeypatch.setenv("SCHAKEL_WEB_HOST", host)
    monkeypatch.setenv("SCHAKEL_WEB_URL", "http://elsewhere:6066")
    env = worker_env(Settings(), "127.0.0.1:9092", tmp_path / "w", web_port=8123)
    assert env["SCHAKEL_WEB_URL"] == url
    for name, value in env.items():
        if name.startswith("SCHAKEL_"):
            monkeypatch.setenv(name, value)
    assert load_process_settings(WorkerSettings).api_url() == url
    # demo binds the loopback address
    env = worker_env(
        Settings(), "b:1", tmp_path, web_port=8123, extra_env={"SCHAKEL_WEB_HOST": "127.0.0.1"}
    )
    assert env["SCHAKEL_WEB_URL"] == "http://127.0.0.1:8123"
