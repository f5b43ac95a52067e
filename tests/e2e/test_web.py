"""The coordinator's web page in a real browser: headless Chromium (Debian's ``chromium``
package) driven by Selenium through Debian's ``chromium-driver`` (:mod:`tests.e2e.browser`),
against ``schakel demo`` serving a small synthetic municipality.

Fails — never skips — when Chromium or its driver is missing:
``apt-get install -y chromium chromium-driver``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from schakel.broker import free_port
from schakel.synth.model import RULES
from tests.e2e.browser import chromium, error_text, fill
from tests.processes import start, stop

REPO = Path(__file__).resolve().parents[2]
DOEL = "test: signalen beoordelen"
SCREENSHOT = Path(tempfile.gettempdir()) / "schakel-web-grafiek.png"
"""Where the chart test leaves a screenshot of the page."""
BEHEERDER_TOKEN = "web-test-beheerder-token"
"""A configured token of role beheerder: may not read citizens' data."""


@dataclass
class Demo:
    """A running ``schakel demo`` and what it printed."""

    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)
    token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str) -> Any:
        request = Request(
            self.url + path,
            headers={"Authorization": f"Bearer {self.token}", "X-Doel": DOEL},
        )
        with urlopen(request, timeout=10) as response:
            return json.load(response)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data_dir = tmp_path_factory.mktemp("var")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update(
        {
            "SCHAKEL_DATA_DIR": str(data_dir),
            "PYTHONUNBUFFERED": "1",
            "SCHAKEL_API_TOKENS": f"bea:beheerder:{BEHEERDER_TOKEN}",
        }
    )
    port = free_port()
    process = start(
        [sys.executable, "-m", "schakel", "demo", "--citizens", "300", "--port", str(port)],
        subprocess.PIPE,
        env=env,
        cwd=REPO,
        text=True,
    )
    running = Demo(process, port)
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(
        target=lambda: running.lines.extend(iter(stdout.readline, "")), daemon=True
    )
    reader.start()
    deadline = time.monotonic() + 240
    try:
        while not running.token:
            assert process.poll() is None, "demo exited early:\n" + "".join(running.lines)
            assert time.monotonic() < deadline, "demo not ready:\n" + "".join(running.lines)
            for line in list(running.lines):
                if line.strip().startswith("API-token"):
                    running.token = line.split(":", 1)[1].split()[0]
            time.sleep(0.2)
        yield running
    finally:
        code = stop(process, signal.SIGINT, grace=60)  # Ctrl-C
    assert code == 0, "".join(running.lines)[-3000:]


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


def test_api_errors_are_shown(demo: Demo, browser: WebDriver) -> None:
    browser.get(demo.url + "/")
    assert "Schakel" in browser.title
    fill(browser, "geen-geldig-token", DOEL)
    assert "401" in error_text(browser)
    browser.get(demo.url + "/")
    fill(browser, demo.token, "xy")  # passes the form's check, not the server's
    text = error_text(browser)
    assert "400" in text and "doel" in text.lower()
    browser.get(demo.url + "/")
    fill(browser, BEHEERDER_TOKEN, DOEL)
    text = error_text(browser)
    assert "403" in text and "beheerder" in text
    assert not browser.find_elements(By.CSS_SELECTOR, "button.signaal")


def test_signals_timeline_and_evidence(demo: Demo, browser: WebDriver) -> None:
    browser.get(demo.url + "/")
    fill(browser, demo.token, DOEL)
    WebDriverWait(browser, 30).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "button.signaal"))
    )
    assert not browser.find_element(By.ID, "fout").is_displayed()
    for rule in RULES:
        section = browser.find_element(By.CSS_SELECTOR, f"section.regel[data-regel='{rule}']")
        assert section.find_elements(By.CSS_SELECTOR, "button.signaal"), rule
    first: WebElement = browser.find_element(
        By.CSS_SELECTOR, "section[data-regel='meervoudig-zonder-regie'] button.signaal"
    )
    subject = first.get_attribute("data-subject")
    sleutel = first.get_attribute("data-sleutel")
    assert subject and sleutel
    assert "geen regie" in first.text
    first.click()

    WebDriverWait(browser, 30).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "#tijdlijn tr.bewijs"))
    )
    assert browser.find_element(By.ID, "burger").text == subject
    highlighted = {
        row.get_attribute("data-id")
        for row in browser.find_elements(By.CSS_SELECTOR, "#tijdlijn tr.bewijs")
    }
    timeline = demo.api(f"/api/v1/burgers/{subject}/tijdlijn")
    signal_ = next(
        s
        for s in timeline["signalen"]
        if s["regel"] == "meervoudig-zonder-regie" and s["sleutel"] == sleutel
    )
    assert highlighted == set(signal_["bewijs"])
    rows = browser.find_elements(By.CSS_SELECTOR, "#gebeurtenissen tbody tr")
    assert len(rows) == len(timeline["tijdlijn"]) > len(highlighted)
    periods = browser.find_elements(By.CSS_SELECTOR, "#toestand .periode")
    assert len(periods) == len(timeline["toestand"]) >= 3
    pressed = browser.find_element(By.CSS_SELECTOR, "#burgersignalen button[aria-pressed='true']")
    assert pressed.get_attribute("data-sleutel") == sleutel

    browser.find_element(By.ID, "terug").click()
    WebDriverWait(browser, 10).until(ec.visibility_of_element_located((By.ID, "signalen")))


def test_purpose_is_required_before_any_request(demo: Demo, browser: WebDriver) -> None:
    before = demo.api("/api/v1/signalen?per_pagina=1")  # reference: the API answers
    browser.get(demo.url + "/")
    fill(browser, demo.token, "")
    text = error_text(browser)
    assert "doel" in text.lower() and "400" not in text  # the form's own check, no request
    assert browser.find_element(By.ID, "fout").get_attribute("data-status") == "doel"
    assert browser.find_element(By.ID, "doel").get_attribute("aria-invalid") == "true"
    assert not browser.find_element(By.ID, "signalen").is_displayed()
    assert before["totaal"] > 0
    # searching a citizen needs the purpose too
    browser.find_element(By.ID, "pseudoniem").send_keys(before["signalen"][0]["subject"])
    browser.find_element(By.ID, "zoek").click()
    assert "doel" in error_text(browser).lower()
    assert not browser.find_element(By.ID, "tijdlijn").is_displayed()


def all_signals(demo: Demo, query: str = "") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        body = demo.api(f"/api/v1/signalen?per_pagina=500&pagina={page}{query}")
        found += body["signalen"]
        if len(found) >= body["totaal"]:
            return found
        page += 1


def test_search_by_pseudonym_opens_the_timeline(demo: Demo, browser: WebDriver) -> None:
    subject = all_signals(demo)[-1]["subject"]
    browser.get(demo.url + "/")
    for field_id, value in (("token", demo.token), ("doel", DOEL), ("pseudoniem", subject)):
        browser.find_element(By.ID, field_id).send_keys(value)
    browser.find_element(By.ID, "zoek").click()
    WebDriverWait(browser, 30).until(ec.visibility_of_element_located((By.ID, "tijdlijn")))
    assert browser.find_element(By.ID, "burger").text == subject
    timeline = demo.api(f"/api/v1/burgers/{subject}/tijdlijn")
    rows = browser.find_elements(By.CSS_SELECTOR, "#gebeurtenissen tbody tr")
    assert [r.get_attribute("data-id") for r in rows] == [e["id"] for e in timeline["tijdlijn"]]
    # an unknown pseudonym: the server's 404, shown
    browser.find_element(By.ID, "terug").click()
    search = browser.find_element(By.ID, "pseudoniem")
    search.clear()
    search.send_keys("0" * 32)
    browser.find_element(By.ID, "zoek").click()
    assert "404" in error_text(browser)


def shown(browser: WebDriver) -> list[tuple[str, str]]:
    WebDriverWait(browser, 30).until(ec.visibility_of_element_located((By.ID, "signalen")))
    return [
        (b.get_attribute("data-regel") or "", b.find_element(By.CSS_SELECTOR, ".datum").text)
        for b in browser.find_elements(By.CSS_SELECTOR, "button.signaal")
    ]


def test_filters_narrow_the_list(demo: Demo, browser: WebDriver) -> None:
    everything = all_signals(demo, "&status=open")
    rule = "tussen-wal-en-schip"
    browser.get(demo.url + "/")
    Select(browser.find_element(By.ID, "regel")).select_by_value(rule)
    fill(browser, demo.token, DOEL)
    listed = shown(browser)
    expected = [s for s in everything if s["regel"] == rule]
    assert 0 < len(listed) == len(expected) < len(everything)
    assert {r for r, _ in listed} == {rule}

    dates = sorted({s["sinds"] for s in everything})
    van, tot = dates[len(dates) // 4], dates[len(dates) // 2]
    browser.get(demo.url + "/")
    for field_id, value in (("van", van), ("tot", tot)):
        # a date input takes the date through JavaScript in any locale
        browser.execute_script(
            "document.getElementById(arguments[0]).value = arguments[1]", field_id, value
        )
    fill(browser, demo.token, DOEL)
    listed = shown(browser)
    expected = [s for s in everything if van <= s["sinds"] <= tot]
    assert 0 < len(listed) == len(expected) < len(everything)
    assert all(van <= d.removeprefix("sinds ") <= tot for _, d in listed)


def open_per_rule(signals: list[dict[str, Any]]) -> dict[str, str]:
    """The reference: per rule, "day=count" at every day the count of open signals changes
    (open on D: sinds <= D and (opgelost_op is None or opgelost_op > D); not withdrawn)."""
    series: dict[str, str] = {}
    rules = sorted({s["regel"] for s in signals if s["status"] != "ingetrokken"})
    for rule in rules:
        mine = [s for s in signals if s["regel"] == rule and s["status"] != "ingetrokken"]
        days = sorted({s["sinds"] for s in mine} | {s["opgelost_op"] for s in mine} - {None})

        def count(day: str, mine: list[dict[str, Any]] = mine) -> int:
            return sum(
                s["sinds"] <= day and (s["opgelost_op"] is None or s["opgelost_op"] > day)
                for s in mine
            )

        series[rule] = ";".join(f"{day}={count(day)}" for day in days)
    return series


def test_chart_of_open_signals_per_rule(demo: Demo, browser: WebDriver) -> None:
    signals = all_signals(demo)  # open and opgelost: what the chart counts
    expected = open_per_rule(signals)
    assert any(s["opgelost_op"] for s in signals)  # the data set resolves some signals
    browser.get(demo.url + "/")
    Select(browser.find_element(By.ID, "status")).select_by_value("open")
    fill(browser, demo.token, DOEL)
    WebDriverWait(browser, 30).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#grafiek svg polyline"))
    )
    lines = browser.find_elements(By.CSS_SELECTOR, "#grafiek polyline[data-regel]")
    drawn = {line.get_attribute("data-regel"): line.get_attribute("data-reeks") for line in lines}
    assert len(lines) == len(drawn) == len(RULES)  # one series per rule
    assert drawn == expected
    legend = browser.find_elements(By.CSS_SELECTOR, "#legenda li")
    assert len(legend) == len(RULES)
    open_now = sum(s["status"] == "open" for s in signals)
    shown_now = sum(int(li.text.split("nu ")[1].split()[0]) for li in legend)
    assert shown_now == open_now
    REPO.joinpath("docs", "img").mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))
