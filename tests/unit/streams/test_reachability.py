"""The worker's broker probe (``/ready`` during a broker outage): unreachable after two
checks in a row found no address answering, reachable at the first that finds one; one
address of several is enough. The real outage: ``tests/integration/reliability/
test_broker_outage.py``."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest

from streams.reachability import BrokerProbe, addresses, wait_answering


class Network:
    """A stand-in for ``socket.create_connection``: the addresses that answer."""

    def __init__(self) -> None:
        self.up: set[tuple[str, int]] = set()
        self.tried: list[tuple[str, int]] = []

    def __call__(self, address: tuple[str, int], timeout: float) -> Any:
        self.tried.append(address)
        if address not in self.up:
            raise ConnectionRefusedError(address)
        return socket.socket()  # closed by the probe


def test_addresses_of_a_bootstrap_string() -> None:
    assert addresses("a:9092, b:9093,kafka://c:1,[::1]:9094,bad") == [
        ("a", 9092),
        ("b", 9093),
        ("c", 1),
        ("::1", 9094),
    ]


def test_unreachable_after_two_failed_checks_reachable_at_the_first_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="schakel.streams")
    network = Network()
    probe = BrokerProbe("a:1,b:2", connect=network)
    network.up = {("b", 2)}
    assert probe.check() and network.tried == [("a", 1), ("b", 2)]  # one of two is enough
    network.up = set()
    assert probe.check()  # one failed check: a blip, still reachable
    assert not probe.check()
    assert not probe.check()
    network.up = {("a", 1)}
    assert probe.check()
    events = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert events == [
        ("WARNING", "worker.broker_unreachable"),
        ("INFO", "worker.broker_reachable"),
    ]


def test_a_one_shot_wait_ends_at_the_first_answer_or_when_its_time_is_up() -> None:
    network = Network()
    network.up = {("b", 2)}
    assert wait_answering("a:1,b:2", 5.0, connect=network, every=0.01)
    assert network.tried == [("a", 1), ("b", 2)]
    network.up, network.tried = set(), []
    assert not wait_answering("a:1", 0.05, connect=network, every=0.01)
    assert len(network.tried) >= 2  # asked again until the time was up
