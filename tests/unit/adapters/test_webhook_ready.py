"""The webhook's ``/ready`` after an outage turns 200 again without a request: in Kubernetes
an unready pod gets no request (its Service leaves it out), so readiness that waited for a
request to get through never came back. :meth:`WebhookApp.probe` asks the broker and the
schema registry itself, publishing nothing; the server calls it while unavailable, on a
thread of its own. An outage is logged once when it begins and once when it ends. Over real
processes: ``tests/integration/adapters/test_outage.py``."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from adapters.webhook import WebhookApp, WebhookInbox, written_schemas
from schemas.exceptions import RegistryUnauthorized, RegistryUnavailable
from schemas.registry import LocalRegistry
from schemas.serde import RecordSerializer
from tests.unit.adapters.conftest import Harness, make_harness
from tests.unit.adapters.test_webhook import TOKEN, WT, post, ready, structured
from tests.unit.adapters.test_webhook_server import serve


class Registry(LocalRegistry):
    """The local registry, away (``down``) or refusing (``refuses``) when told; counts the
    lookups it is asked."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.refuses = False
        self.lookups = 0

    def lookup(self, subject: str, schema: Mapping[str, Any]) -> int:
        self.lookups += 1
        if self.down:
            raise RegistryUnavailable("registry unreachable (test)")
        if self.refuses:
            raise RegistryUnauthorized(
                "registry refuses (test)", status=401, error_code=40101, subject=subject
            )
        return super().lookup(subject, schema)


@pytest.fixture
def hx(tmp_path: Path) -> Harness:
    return make_harness(WebhookInbox(), tmp_path)


@pytest.fixture
def registry(hx: Harness) -> Registry:
    registry = Registry()
    hx.publisher._serializer = RecordSerializer(registry)  # the fake's own serializer
    return registry


@pytest.fixture
def app(hx: Harness) -> WebhookApp:
    return WebhookApp(hx.runner, {TOKEN: WT}, max_bytes=4096, registry=hx.registry)


def outage_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [
        (r.getMessage(), str(r.__dict__.get("by", "")))
        for r in caplog.records
        if r.getMessage() in ("adapter.webhook_unavailable", "adapter.webhook_available")
    ]


def test_a_broker_outage_ends_by_the_probe_without_a_request(
    app: WebhookApp, hx: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    hx.publisher.fail = True
    with caplog.at_level("INFO", logger="schakel.adapters"):
        assert post(app, structured()).status == 503
        assert post(app, structured(id="wt-2")).status == 503
        assert ready(app) == 503
        assert app.probe() is False  # the broker still away
        assert ready(app) == 503
        hx.publisher.fail = False
        assert app.probe() is True
        assert ready(app) == 200
    assert hx.publisher.acked == [] and hx.publisher.queued == [] and hx.publisher.raw == []
    assert hx.quarantine_lines() == []
    assert outage_lines(caplog) == [
        ("adapter.webhook_unavailable", ""),
        ("adapter.webhook_available", "probe"),
    ]


def test_a_registry_outage_ends_by_the_probe_which_asks_the_registry(
    app: WebhookApp, hx: Harness, registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    registry.down = True
    with caplog.at_level("INFO", logger="schakel.adapters"):
        assert post(app, structured()).status == 503
        asked = registry.lookups
        assert app.probe() is False
        assert registry.lookups == asked + 1  # asked, and stopped at the first unanswered
        assert ready(app) == 503
        registry.down = False
        assert app.probe() is True
        assert ready(app) == 200
    assert registry.lookups == asked + 1 + len(written_schemas(hx.publisher.wire))
    assert app.probe() is True  # available: nothing asked
    assert registry.lookups == asked + 1 + len(written_schemas(hx.publisher.wire))
    assert hx.publisher.acked == [] and hx.publisher.raw == []
    assert outage_lines(caplog)[-1] == ("adapter.webhook_available", "probe")
    assert post(app, structured()).status == 202


def test_a_registry_that_answers_with_a_refusal_ends_the_outage(
    app: WebhookApp, registry: Registry
) -> None:
    """A refusal (credentials, a schema not registered) is an answer: no outage, the next
    event gets its 502 ``misconfigured``."""
    registry.down = True
    assert post(app, structured()).status == 503
    registry.down, registry.refuses = False, True
    assert app.probe() is True
    assert ready(app) == 200
    assert post(app, structured()).status == 502


def test_an_outage_met_during_a_probe_is_not_ended_by_it(app: WebhookApp, hx: Harness) -> None:
    hx.publisher.fail = True
    assert post(app, structured()).status == 503

    def answers_but_a_request_meets_an_outage_meanwhile() -> None:
        assert post(app, structured(id="wt-2")).status == 503

    hx.publisher.check = answers_but_a_request_meets_an_outage_meanwhile  # type: ignore[method-assign]
    assert app.probe() is False
    assert ready(app) == 503


def test_a_request_that_gets_through_ends_the_outage_too(
    app: WebhookApp, hx: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    hx.publisher.fail = True
    with caplog.at_level("INFO", logger="schakel.adapters"):
        assert post(app, structured()).status == 503
        hx.publisher.fail = False
        assert post(app, structured()).status == 202
    assert ready(app) == 200
    assert outage_lines(caplog) == [
        ("adapter.webhook_unavailable", ""),
        ("adapter.webhook_available", "request"),
    ]


def wait_for(condition: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.02)


def test_the_server_probes_while_unavailable_and_ready_turns_200_without_a_request(
    tmp_path: Path,
) -> None:
    served = serve(tmp_path, probe_interval=0.05)
    served.gate.gate.set()
    publisher = served.hx.publisher
    try:
        publisher.fail = True
        assert served.post(structured())[0] == 503
        assert served.get("/ready") == 503
        publisher.fail = False
        wait_for(lambda: served.get("/ready") == 200)  # no request in between
        assert publisher.acked == [] and publisher.raw == []
    finally:
        served.server.shutdown()
        served.thread.join(10)
    assert not served.thread.is_alive()


def test_a_probe_that_waits_holds_up_no_sender(tmp_path: Path) -> None:
    """One worker thread for requests: while a probe waits for the broker, /health and an
    event are still answered (the probe has a thread of its own)."""
    served = serve(tmp_path, probe_interval=0.05, workers=1)
    served.gate.gate.set()
    publisher = served.hx.publisher
    entered, release = threading.Event(), threading.Event()

    def slow_broker() -> None:
        entered.set()
        assert release.wait(30), "the test never released the probe"

    try:
        publisher.fail = True
        assert served.post(structured())[0] == 503
        publisher.check = slow_broker  # type: ignore[method-assign]
        assert entered.wait(10)
        publisher.fail = False
        started = time.monotonic()
        assert served.get("/health") == 200
        assert served.post(structured(id="wt-2"))[0] == 202
        assert time.monotonic() - started < 15  # the probe holds its thread for 30 s
        assert served.get("/ready") == 200  # the event got through
    finally:
        release.set()
        served.server.shutdown()
        served.thread.join(10)
    assert not served.thread.is_alive()


def test_the_probes_are_answered_while_every_worker_waits_for_the_broker(
    tmp_path: Path,
) -> None:
    """Reproduction: ``/health`` and ``/ready`` were answered in the worker pool, so with every
    worker waiting for a broker that does not acknowledge (30 s each) the kubelet's probes
    timed out: a liveness restart in the middle of an outage. They are answered on the event
    loop now (with ``/metrics``), at once."""
    served = serve(tmp_path, workers=1)
    try:
        poster = threading.Thread(target=lambda: served.post(structured()), daemon=True)
        poster.start()
        assert served.gate.entered.wait(10)  # the only worker waits for the broker
        for path, status in (("/health", 200), ("/ready", 200), ("/metrics", 200)):
            # answered in the pool, it would wait for the gate (set only below): get() times
            # out after 5 s, which fails the test
            assert served.get(path) == status
    finally:
        served.gate.gate.set()
        served.server.shutdown()
        served.thread.join(10)
    assert not served.thread.is_alive()


def test_shutdown_does_not_wait_for_a_probe_under_way(tmp_path: Path) -> None:
    """Reproduction: shutdown joined the probe thread, and a probe asking an unresponsive
    registry takes up to ~47 s (4 attempts of 10 s and the back-off), beyond Kubernetes' 30 s
    grace: the pod was killed. Now the probe runs on a daemon thread shutdown does not wait
    for (nor does the interpreter at exit). Here the probe waits until the test ends."""
    served = serve(tmp_path, probe_interval=0.05)
    served.gate.gate.set()
    publisher = served.hx.publisher
    entered, release = threading.Event(), threading.Event()
    probing: list[threading.Thread] = []

    def hung_registry() -> None:
        probing.append(threading.current_thread())
        entered.set()
        release.wait(60)

    try:
        publisher.fail = True
        assert served.post(structured())[0] == 503
        publisher.check = hung_registry  # type: ignore[method-assign]
        assert entered.wait(10)
        stopper = threading.Thread(target=served.server.shutdown, daemon=True)
        stopper.start()
        stopper.join(5)  # a limit: the probe holds its thread until release, 60 s
        assert not stopper.is_alive(), "shutdown waited for the probe"
        served.thread.join(5)
        assert not served.thread.is_alive()
        assert not release.is_set() and probing[0].is_alive()  # still probing: not waited for
        assert probing[0].daemon
    finally:
        release.set()
        if not probing:  # else the stopper shut it down
            served.server.shutdown()
        served.thread.join(10)
