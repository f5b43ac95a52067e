"""The webhook request handling (no HTTP server, no broker): every answer and what it does."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.throttle import ClientLimiter
from adapters.webhook import RecentIds, Response, WebhookApp, WebhookInbox
from schemas.exceptions import RegistryUnavailable
from tests.unit.adapters.conftest import Harness, make_harness, make_kafka_harness

WT = "urn:nld:oin:00000001234567890000:systeem:wijkteam"
OTHER = "urn:nld:oin:00000001234567890000:systeem:ander-wijkteam"
TOKEN = "s3cret-token-wijkteam"
BSN = "999990111"


def structured(**over: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": "wt-1",
        "source": WT,
        "type": "nl.wijkteams.casussen.geopend",
        "time": "2026-01-10T09:05:00+01:00",
        "data": {"bsn": BSN, "datum": "2026-01-10", "casus_id": "W-1"},
    }
    event.update(over)
    return event


@pytest.fixture
def hx(tmp_path: Path) -> Harness:
    return make_harness(WebhookInbox(), tmp_path)


@pytest.fixture
def app(hx: Harness) -> WebhookApp:
    return WebhookApp(
        hx.runner, {TOKEN: WT, "other-token": OTHER}, max_bytes=4096, registry=hx.registry
    )


def post(
    app: WebhookApp,
    body: bytes | Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    *,
    token: str | None = TOKEN,
    path: str = "/events",
    client: str = "127.0.0.1",
) -> Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    h = {"content-type": "application/cloudevents+json", "content-length": str(len(raw))}
    if token is not None:
        h["authorization"] = f"Bearer {token}"
    h.update(headers or {})
    reads: list[int] = []

    def read(n: int) -> bytes:
        reads.append(n)
        return raw[:n]

    lower = {k.lower(): v for k, v in h.items() if v is not None}
    return app.handle("POST", path, lower, read, client=client)


def test_structured_mode_is_published_before_202(app: WebhookApp, hx: Harness) -> None:
    response = post(app, structured())
    assert response.status == 202
    assert response.body == {"status": "accepted", "duplicate": False}  # no value echoed
    (event,) = hx.publisher.acked
    assert event.type == "nl.wijkteams.casussen.geopend"
    assert BSN not in json.dumps(event.to_json())


def test_binary_mode(app: WebhookApp, hx: Harness) -> None:
    data = {"bsn": BSN, "datum": "2026-01-11", "rol": "casusregisseur"}
    response = post(
        app,
        data,
        {
            "content-type": "application/json; charset=utf-8",
            "ce-specversion": "1.0",
            "ce-id": "wt-2",
            "ce-source": WT.replace(":", "%3A"),  # percent-encoded header values
            "ce-type": "nl.wijkteams.regie.toegewezen",
            "ce-time": "2026-01-11T11:20:00+01:00",
        },
    )
    assert response.status == 202, response.body
    (event,) = hx.publisher.acked
    assert (event.id, event.source, event.time) == ("wt-2", WT, "2026-01-11T11:20:00+01:00")
    assert event.datacontenttype == "application/json"
    assert dict(event.data)["rol"] == "casusregisseur"


READ_AT = datetime(2026, 1, 12, 8, 15, 30, 250000, tzinfo=UTC)


def test_an_event_without_time_gets_the_moment_it_was_read(hx: Harness) -> None:
    """Review A3 (events.md: "an adapter that lacks it uses the moment it read the record"):
    an event without ``time``, in either mode, gets the moment its request was read; a
    sender's ``time`` is kept; the id stays the sender's."""
    app = WebhookApp(
        hx.runner, {TOKEN: WT}, max_bytes=4096, registry=hx.registry, clock=lambda: READ_AT
    )
    binary = {
        "content-type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": "wt-b",
        "ce-source": WT,
        "ce-type": "nl.wijkteams.casussen.geopend",
    }
    data = {"bsn": BSN, "datum": "2026-01-12", "casus_id": "W-2"}
    assert post(app, data, binary).status == 202
    without = structured(id="wt-s")
    del without["time"]
    assert post(app, without).status == 202
    assert post(app, structured(id="wt-n", time=None)).status == 202
    assert post(app, structured(id="wt-t")).status == 202
    assert [(e.id, e.time) for e in hx.publisher.acked] == [
        ("wt-b", "2026-01-12T08:15:30.250000+00:00"),
        ("wt-s", "2026-01-12T08:15:30.250000+00:00"),
        ("wt-n", "2026-01-12T08:15:30.250000+00:00"),
        ("wt-t", "2026-01-10T09:05:00+01:00"),
    ]


def test_binary_mode_keeps_the_record_version_extensions(app: WebhookApp, hx: Harness) -> None:
    data = {"bsn": BSN, "datum": "2026-01-11", "rol": "casusregisseur"}
    headers = {
        "content-type": "application/json",
        "ce-specversion": "1.0",
        "ce-source": WT,
        "ce-type": "nl.wijkteams.regie.toegewezen",
    }
    first = {**headers, "ce-id": "wt-v1", "ce-bronsleutel": "regie-7", "ce-sequence": "0001"}
    assert post(app, data, first).status == 202
    withdrawn = {
        **headers,
        "ce-id": "wt-v2",
        "ce-type": "nl.schakel.bron.verwijderd",
        "ce-bronsleutel": "regie-7",
        "ce-sequence": "0002",
        "ce-domein": "wijkteams",
    }
    response = post(app, {"bsn": BSN, "datum": "2026-01-12"}, withdrawn)
    assert response.status == 202, response.body
    version, deletion = hx.publisher.acked
    assert (version.bronsleutel, version.sequence) == ("regie-7", "0001")
    assert (deletion.type, deletion.bronsleutel, deletion.sequence) == (
        "nl.schakel.bron.verwijderd",
        "regie-7",
        "0002",
    )


def test_retry_of_the_same_event_is_acknowledged_without_republishing(
    app: WebhookApp, hx: Harness
) -> None:
    assert post(app, structured()).status == 202
    again = post(app, structured())
    assert again.status == 202
    assert again.body["duplicate"] is True
    assert len(hx.publisher.acked) == 1
    assert (
        hx.registry.get_sample_value("schakel_adapter_duplicates_total", {"adapter": "wijkteam"})
        == 1
    )


def test_invalid_event_is_400_with_field_and_reason_and_no_values(
    app: WebhookApp, hx: Harness
) -> None:
    response = post(
        app, structured(data={"bsn": "999990112", "datum": "2026-01-30", "casus_id": "W-1"})
    )
    assert response.status == 400
    assert response.body["error"] == "invalid-event"
    assert response.body["field"] == "data.bsn"
    assert response.body["reason"] == "bsn"
    assert "999990112" not in json.dumps(response.body)
    response = post(app, structured(data={"bsn": BSN, "datum": "2026-02-30", "casus_id": "W-1"}))
    assert (response.status, response.body["field"], response.body["reason"]) == (
        400,
        "data.datum",
        "bad-date",
    )
    response = post(app, structured(data={"bsn": BSN, "casus_id": "W-1"}))
    assert (response.body["field"], response.body["reason"]) == ("data.datum", "missing-field")
    assert hx.publisher.acked == []
    entries = [json.loads(line) for line in hx.quarantine_lines()]
    assert [e["reden"] for e in entries] == ["bsn", "bad-date", "missing-field"]
    assert all(e["locatie"] == f"webhook {WT}" for e in entries)
    assert all(e["record_sha256"] for e in entries)
    assert "999990112" not in "".join(hx.quarantine_lines())


def test_other_domains_are_refused(app: WebhookApp) -> None:
    response = post(
        app, structured(type="nl.wmo.meldingen.ontvangen", data={"bsn": BSN, "datum": "2026-01-01"})
    )
    assert (response.status, response.body["reason"], response.body["field"]) == (
        400,
        "unknown-type",
        "type",
    )


@pytest.mark.parametrize(
    ("token", "header"),
    [(None, None), ("wrong", None), ("", None), (None, f"Basic {TOKEN}"), (None, TOKEN)],
)
def test_missing_or_wrong_token_is_401_counted_not_quarantined(
    app: WebhookApp, hx: Harness, token: str | None, header: str | None
) -> None:
    response = post(app, structured(), {"authorization": header} if header else None, token=token)
    assert response.status == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.close
    assert hx.publisher.acked == []
    assert hx.quarantine_lines() == [] and hx.publisher.raw == []  # no file, no dead letter
    assert unauthenticated(hx, "refused") == 1.0


def unauthenticated(hx: Harness, outcome: str) -> float:
    value = hx.registry.get_sample_value(
        "schakel_adapter_webhook_unauthenticated_total",
        {"adapter": "wijkteam", "outcome": outcome},
    )
    return value or 0.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bad_tokens_are_rate_limited_per_client_and_write_nothing(hx: Harness) -> None:
    """The reproduction: 2,000 requests with a bad token wrote 2,000 quarantine entries and
    dead letters (each fsynced) in 7 s. Now: counted, the first 20 of a client answered 401,
    the rest 429 with Retry-After; nothing written; other clients and valid tokens unaffected."""
    clock = Clock()
    limiter = ClientLimiter(burst=20, per_second=1.0, clock=clock)
    app = WebhookApp(hx.runner, {TOKEN: WT}, max_bytes=4096, registry=hx.registry, limiter=limiter)
    answers = [post(app, structured(), token="guess", client="10.0.0.9") for _ in range(2000)]
    assert [a.status for a in answers[:20]] == [401] * 20
    assert {a.status for a in answers[20:]} == {429}
    assert answers[20].headers["retry-after"] == "1"
    assert answers[20].body["reason"] == "rate-limited" and answers[20].close
    assert hx.quarantine_lines() == [] and hx.publisher.raw == []
    assert (unauthenticated(hx, "refused"), unauthenticated(hx, "rate-limited")) == (20, 1980)
    # another address is not limited; a valid token from the limited address still passes
    assert post(app, structured(), token="guess", client="10.0.0.10").status == 401
    assert post(app, structured(), client="10.0.0.9").status == 202
    # the bucket refills: one token per second
    clock.now += 3
    assert [post(app, structured(), token="x", client="10.0.0.9").status for _ in range(4)] == [
        401,
        401,
        401,
        429,
    ]


def test_tokens_are_compared_in_constant_time(hx: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every configured token is compared (no early exit on a match), always as SHA-256
    digests of equal length (the length of a guess does not show)."""
    calls: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def compare(a: bytes, b: bytes) -> bool:
        calls.append((len(a), len(b)))
        return bool(real(a, b))

    monkeypatch.setattr(hmac, "compare_digest", compare)  # as adapters.webhook calls it
    app = WebhookApp(hx.runner, {TOKEN: WT, "a-much-longer-second-token": OTHER}, max_bytes=4096)
    for given in (TOKEN, "x", "y" * 300):
        calls.clear()
        post(app, structured(), token=given)
        assert calls == [(32, 32), (32, 32)]


def test_token_of_another_source_is_403(app: WebhookApp, hx: Harness) -> None:
    response = post(app, structured(), token="other-token")
    assert (response.status, response.body["reason"], response.body["field"]) == (
        403,
        "forbidden-source",
        "source",
    )
    assert hx.publisher.acked == []


def test_body_too_large_is_413_without_reading(app: WebhookApp) -> None:
    response = post(app, b"x" * 10, {"content-length": "5000"})
    assert (response.status, response.body["reason"]) == (413, "too-large")
    assert response.close


def test_framing_problems(app: WebhookApp) -> None:
    assert post(app, structured(), {"content-length": None}).status == 411  # type: ignore[dict-item]
    assert post(app, structured(), {"transfer-encoding": "chunked"}).status == 411
    assert post(app, structured(), {"content-length": "abc"}).status == 400
    assert post(app, b"{}", {"content-length": "10"}).status == 400  # short body


def test_content_modes(app: WebhookApp) -> None:
    assert post(app, b"not json").body["reason"] == "malformed"
    assert post(app, b"\xff\xfe").body["reason"] == "encoding"
    assert post(app, b"[1]").body["message"] == "body: must be a JSON object"
    assert post(app, b"[]", {"content-type": "application/cloudevents-batch+json"}).status == 415
    binary = {"content-type": "text/plain", "ce-specversion": "1.0"}
    assert post(app, b"x", binary).status == 415
    response = post(app, {"x": 1}, {"content-type": "application/json"})
    assert (response.status, response.body["field"]) == (400, "ce-specversion")
    response = post(app, structured(data_base64="eA=="))
    assert (response.status, response.body["field"]) == (400, "data_base64")


def test_routes(app: WebhookApp, hx: Harness) -> None:
    assert app.handle("GET", "/health", {}, lambda n: b"").status == 200
    assert app.handle("GET", "/nope", {}, lambda n: b"").status == 404
    assert app.handle("GET", "/events", {}, lambda n: b"").status == 405
    post(app, structured())
    metrics = app.handle("GET", "/metrics", {}, lambda n: b"")
    assert metrics.status == 200
    sample = 'adapter="wijkteam",type="nl.wijkteams.casussen.geopend"} 1.0'
    assert f"schakel_adapter_records_published_total{{{sample}".encode() in metrics.payload()
    assert post(app, structured(id="wt-9"), path="/").status == 202


def test_broker_failure_is_503_and_not_remembered(app: WebhookApp, hx: Harness) -> None:
    hx.publisher.fail = True
    response = post(app, structured())
    assert response.status == 503
    assert response.headers["retry-after"]
    hx.publisher.fail = False
    response = post(app, structured())
    assert (response.status, response.body["duplicate"]) == (202, False)


def test_recent_ids_are_bounded() -> None:
    recent = RecentIds(size=2)
    recent.add(("s", "1"))
    recent.add(("s", "2"))
    assert ("s", "1") in recent  # refreshes 1
    recent.add(("s", "3"))
    assert ("s", "2") not in recent
    assert ("s", "1") in recent
    assert ("s", "3") in recent


def ready(app: WebhookApp) -> int:
    return app.handle("GET", "/ready", {}, lambda n: b"").status


def registry_down(monkeypatch: pytest.MonkeyPatch, hx: Harness) -> None:
    def unreachable(topic: str, name: str, record: Mapping[str, Any]) -> bytes:
        raise RegistryUnavailable("registry unreachable (test)")

    monkeypatch.setattr(hx.publisher.serializer, "encode", unreachable)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{oops", "malformed"),  # refused before validation (_refuse)
        (structured(data={"bsn": "999990112", "datum": "2026-01-10", "casus_id": "W-1"}), "bsn"),
    ],
)
def test_a_registry_outage_while_quarantining_a_refusal_is_503_until_it_is_over(
    app: WebhookApp, hx: Harness, monkeypatch: pytest.MonkeyPatch, body: Any, reason: str
) -> None:
    # the review's case: RegistryUnavailable escaped handle() as a 500 internal-error
    registry_down(monkeypatch, hx)
    response = post(app, body)
    assert (response.status, response.body["error"]) == (503, "unavailable")
    assert response.headers["retry-after"]
    assert ready(app) == 503
    assert hx.quarantine_lines() == []  # not quarantined: the sender retries
    monkeypatch.undo()
    response = post(app, body)
    assert (response.status, response.body["reason"]) == (400, reason)
    assert ready(app) == 200
    assert [json.loads(line)["reden"] for line in hx.quarantine_lines()] == [reason]


def test_a_broker_outage_while_quarantining_a_refusal_is_503(app: WebhookApp, hx: Harness) -> None:
    hx.publisher.fail = True  # the dead letter is not acknowledged
    response = post(app, b"{oops")
    assert (response.status, response.body["error"]) == (503, "unavailable")
    assert response.headers["retry-after"]
    assert ready(app) == 503
    response = post(app, b"x" * 10, {"content-length": "5000"})  # body not read
    assert response.status == 503
    assert response.close
    hx.publisher.fail = False
    assert post(app, b"{oops").status == 400
    assert ready(app) == 200
    assert [json.loads(line)["reden"] for line in hx.quarantine_lines()] == ["malformed"]


def test_an_event_kafka_refuses_for_its_size_is_400_too_large(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kx = make_kafka_harness(WebhookInbox(), tmp_path, monkeypatch)
    app = WebhookApp(kx.runner, {TOKEN: WT}, max_bytes=4096, registry=kx.registry)
    kx.broker.limit = 400  # the topic's max.message.bytes
    data = {"bsn": BSN, "datum": "2026-01-10", "casus_id": "c" * 256}
    response = post(app, structured(id="i" * 256, data=data))
    assert (response.status, response.body["reason"]) == (400, "too-large")
    assert ready(app) == 200
    (entry,) = [json.loads(line) for line in kx.quarantine_lines()]
    assert entry["reden"] == "too-large"
    assert post(app, structured()).status == 202  # the next event goes through


def test_the_outage_log_line_says_what_was_away(
    app: WebhookApp,
    hx: Harness,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``adapter.webhook_unavailable`` names the error and its message (which registry, which
    broker), as the runner's ``adapter.outage`` does: the class name alone left the operator to
    guess where to look."""
    registry_down(monkeypatch, hx)
    with caplog.at_level("ERROR"):
        assert post(app, b"{oops").status == 503
    (record,) = [r for r in caplog.records if r.getMessage() == "adapter.webhook_unavailable"]
    assert record.__dict__["error"] == "RegistryUnavailable"
    assert record.__dict__["detail"] == "registry unreachable (test)"
