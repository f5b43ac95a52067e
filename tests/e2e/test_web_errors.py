"""What the coordinator's web page says for the worker's 502 and 503 answers, in a real browser
(:mod:`tests.e2e.browser`) against the worker's API views and page on a test server
(:mod:`tests.unit.streams.api_harness`), each answer produced as the API produces it.

Reproduction: a 502 (the schema registry refuses the worker) was shown as "Fout van de API",
and every 503 said the audit record could not be written — also when the worker was not
ready yet or the citizen's worker was not reachable."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from yarl import URL

from schakel.broker import free_port
from schemas.exceptions import RegistryUnauthorized
from schemas.settings import ApiToken
from streams.audit import AuditRefused
from tests.e2e.browser import chromium, error_text, fill
from tests.unit.streams.api_harness import Api, serve

TOKEN = "token-anna"
DOEL = "casusoverleg"
PSEUDONYM = "a" * 32


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


class RefusedTrail:
    """An audit trail whose record's schema the registry refuses (:class:`AuditRefused`)."""

    async def record(self, client: ApiToken, doel: str, wat: str, subject: str | None) -> str:
        refusal = RegistryUnauthorized("refused (test)", status=401, error_code=40101)
        raise AuditRefused(refusal) from refusal

    async def stop(self) -> None:
        pass


@contextlib.contextmanager
def worker(setup: Callable[[Api], None] = lambda api: None, **options: Any) -> Iterator[str]:
    """The API views and the page served on their own event loop in a thread (the browser
    is driven from this one); ``setup`` adjusts the :class:`Api` once it serves. Yields the
    page's URL."""
    served: list[str] = []
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def run() -> None:
        async with serve(ui=True, **options) as api:
            setup(api)
            served.append(str(api.url))
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(30), "the test server did not start"
        yield served[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


def signals_error(browser: WebDriver, url: str) -> str:
    browser.get(url)
    fill(browser, TOKEN, DOEL)
    return error_text(browser)


def timeline_error(browser: WebDriver, url: str) -> str:
    browser.get(url)
    for field_id, value in (("token", TOKEN), ("doel", DOEL), ("pseudoniem", PSEUDONYM)):
        browser.find_element(By.ID, field_id).send_keys(value)
    browser.find_element(By.ID, "zoek").click()
    return error_text(browser)


def test_502_the_registry_refuses_the_worker(browser: WebDriver) -> None:
    with worker(trail=RefusedTrail()) as url:
        text = signals_error(browser, url)
    assert text.startswith("502 — Verkeerd ingesteld — het schemaregister weigert de worker")
    assert "beheerder" in text and "Fout van de API" not in text


def test_503_the_audit_record_could_not_be_written(browser: WebDriver) -> None:
    def failing(api: Api) -> None:
        api.audit.fail = True

    with worker(failing) as url:
        text = signals_error(browser, url)
    assert text.startswith("503 — Tijdelijk niet beschikbaar — de inzage kon niet worden")


def test_503_the_signals_are_not_caught_up(browser: WebDriver) -> None:
    with worker(caught_up=False) as url:
        text = signals_error(browser, url)
    assert text.startswith("503 — Nog niet beschikbaar — de worker is de signalen nog aan")
    assert "inzage" not in text.split("(")[0]


def test_503_the_worker_is_not_ready_for_a_citizen(browser: WebDriver) -> None:
    with worker(ready=lambda: False) as url:
        text = timeline_error(browser, url)
    assert text.startswith("503 — Nog niet beschikbaar — de worker is nog niet gereed")
    assert "inzage" not in text.split("(")[0]


def test_503_the_citizens_worker_is_not_reachable(browser: WebDriver) -> None:
    elsewhere = URL(f"http://127.0.0.1:{free_port()}")  # nothing listens there

    def owned_elsewhere(api: Api) -> None:
        api.owner = lambda key: elsewhere

    with worker(owned_elsewhere) as url:
        text = timeline_error(browser, url)
    assert text.startswith("503 — Tijdelijk niet beschikbaar — de worker die deze burger")
    assert "inzage" not in text.split("(")[0]


def test_a_502_without_the_workers_body_gets_the_general_text(browser: WebDriver) -> None:
    """A reverse proxy's own 502 (the worker away): no ``fout`` of the worker's."""
    with worker() as url:
        browser.get(url)
        browser.execute_script(
            "window.fetch = async () => new Response('<html>Bad Gateway</html>', {status: 502});"
        )
        fill(browser, TOKEN, DOEL)
        text = error_text(browser)
    assert text.startswith("502 — Geen geldig antwoord van de worker via een tussenliggende")
