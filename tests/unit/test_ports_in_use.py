"""A port a process would listen on from a setting, already taken by another process (two
continuous adapters on one host both default to ``SCHAKEL_METRICS_PORT`` 9464): one line
naming the setting, the port and what to do, exit 2 — not ``OSError: [Errno 98] Address
already in use`` (adapter, webhook), nor an exit 1 after a Faust log line naming no setting
(worker); the worker and the webhook say so before they ask the broker
(:mod:`schakel.listening`)."""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from schakel import demo
from schakel.cli import main
from schakel.listening import Listening
from schemas.exceptions import SettingsError

KEY = "unit-test-key-0123456789abcdef0123456"


@pytest.fixture(autouse=True)
def logger_levels() -> Iterator[None]:
    """``schakel demo`` quiets these loggers for its run (its own lines say what happens):
    their levels are put back, or the tests after it miss the warnings they look for."""
    before = {name: logging.getLogger(name).level for name in ("", "schakel", "kafka", "aiokafka")}
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def taken() -> Iterator[int]:
    """A port on 127.0.0.1 that another process (here: this one) listens on."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield int(sock.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SCHAKEL_PSEUDONYM_KEY_FILE", "SCHAKEL_SCHEMA_REGISTRY_URL", "SCHAKEL_WEB_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # nothing listens there
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SCHAKEL_WEB_HOST", "127.0.0.1")
    return tmp_path


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    (line,) = err.strip().splitlines()
    assert not out
    return line


def test_a_continuous_adapter_names_its_metrics_port_setting(
    taken: int,
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SCHAKEL_METRICS_PORT", str(taken))
    assert main(["adapter", "sociale-dienst", str(env / "export.csv")]) == 2
    line = one_line(capsys)
    assert f"SCHAKEL_METRICS_PORT: port {taken} on 127.0.0.1 is already in use" in line, line
    assert "its own SCHAKEL_METRICS_PORT, or 0 for no /metrics" in line
    assert "Errno" not in line


WHERE_FROM = {
    "webhook": (
        ["adapter", "wijkteam", "--serve"],
        "SCHAKEL_WEBHOOK_PORT",
        "schakel: SettingsError: ",
        "or 0 for any free one",
    ),
    # before: "port N on 127.0.0.1 is in use; choose another with --port" also when the port
    # came from SCHAKEL_WEB_PORT, in a wording of its own
    "demo": (
        ["demo", "--exit"],
        "SCHAKEL_WEB_PORT",
        "schakel demo: ",
        "choose another with --port",
    ),
}
"""Per process with a port option: its arguments, its port setting, how its line starts and
the remedy it gives."""


@pytest.mark.parametrize(
    "case", [f"{p}-{g}" for p in sorted(WHERE_FROM) for g in ("setting", "option")]
)
def test_the_webhook_and_the_demo_name_where_their_port_came_from(
    case: str,
    taken: int,
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    process, given = case.split("-")
    argv, setting, start, remedy = WHERE_FROM[process]
    # not in env: a continuous adapter and the worker warn of another process's secret
    monkeypatch.setenv("SCHAKEL_WEBHOOK_TOKENS", "urn:nld:oin:1:systeem:wijkteam=t")
    if given == "option":
        argv = [*argv, "--port", str(taken)]
    else:
        monkeypatch.setenv(setting, str(taken))
    assert main(argv) == 2
    line = one_line(capsys)
    named = "--port" if given == "option" else setting
    expected = f"{start}{named}: port {taken} on 127.0.0.1 is already in use by another process"
    assert line.startswith(expected), line
    assert remedy in line
    assert not (env / "var" / "checkpoints").exists()


def test_the_worker_names_its_web_port_before_it_asks_the_broker(
    taken: int,
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before: the broker at 127.0.0.1:1 was asked first (exit 75 after 5 s); with a broker,
    Faust failed to bind later, exit 1, with a log line naming no setting."""
    monkeypatch.delenv("SCHAKEL_PSEUDONYM_KEY")  # not the worker's: it would warn of it
    monkeypatch.setenv("SCHAKEL_WEB_PORT", str(taken))
    assert main(["worker"]) == 2
    line = one_line(capsys)
    assert f"SCHAKEL_WEB_PORT: port {taken} on 127.0.0.1 is already in use" in line, line
    assert "its own SCHAKEL_WEB_PORT" in line


def test_a_free_port_passes_and_another_refusal_names_the_address_and_both_settings() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = int(sock.getsockname()[1])
    Listening("127.0.0.1", port, setting="P", host_setting="H", remedy="r").check_free()
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = int(sock.getsockname()[1])
        held = Listening("127.0.0.1", port, setting="P", host_setting="H", remedy="r")
        with pytest.raises(SettingsError, match=f"^P: port {port} on 127.0.0.1 is already in"):
            held.check_free()
    refused = OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address")
    error = Listening("::1", 80, setting="P", host_setting="H", remedy="r").refused(refused)
    assert str(error) == "H, P: cannot listen on [::1]:80 (Cannot assign requested address)"


class Reached(Exception):
    """The demo got past its port check."""


def test_the_demo_takes_a_port_whose_last_connection_is_in_time_wait(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The port of a demo just stopped keeps its last connections in TIME_WAIT for a minute;
    the worker's server binds it all the same (asyncio sets SO_REUSEADDR), but the demo's own
    check bound without it and refused the port as in use."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = int(server.getsockname()[1])
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = server.accept()
            accepted.close()  # the server side closes first: its end goes to TIME_WAIT
            assert client.recv(1) == b""
    with socket.socket() as plain, pytest.raises(OSError) as refused:
        plain.bind(("127.0.0.1", port))  # how the demo checked: "in use"
    assert refused.value.errno == errno.EADDRINUSE
    monkeypatch.setenv("SCHAKEL_WEB_PORT", str(port))

    def reached(*_: object) -> None:
        raise Reached

    monkeypatch.setattr(demo, "demo_settings", reached)  # the step after the port check
    with pytest.raises(Reached):
        main(["demo", "--exit"])
