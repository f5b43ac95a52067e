"""The coordinator's web page in a real browser: headless Chromium (Debian's ``chromium``
package) driven by Selenium through Debian's ``chromium-driver``, against ``schakel demo``
serving a small synthetic municipality.

Fails — never skips — when Chromium or its driver is missing:
``apt-get install -y chromium chromium-driver``."""

from __future__ import annotations

import json
import os
import shutil
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
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from schakel.broker import free_port
from schakel.synth.model import RULES

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1400",
)
DOEL = "test: signalen beoordelen"
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
    process = subprocess.Popen(
        [sys.executable, "-m", "schakel", "demo", "--citizens", "300", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
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
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    assert process.returncode == 0, "".join(running.lines)[-3000:]


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    assert CHROMIUM.exists(), "Chromium is missing: apt-get install -y chromium chromium-driver"
    assert CHROMEDRIVER.exists(), "chromedriver is missing: apt-get install -y chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="schakel-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")  # Selenium Manager must never download anything
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def fill(driver: WebDriver, token: str, doel: str) -> None:
    for field_id, value in (("token", token), ("doel", doel)):
        element = driver.find_element(By.ID, field_id)
        element.clear()
        element.send_keys(value)
    driver.find_element(By.ID, "verbind").click()


def error_text(driver: WebDriver) -> str:
    box = WebDriverWait(driver, 20).until(ec.visibility_of_element_located((By.ID, "fout")))
    return box.text


def test_api_errors_are_shown(demo: Demo, browser: WebDriver) -> None:
    browser.get(demo.url + "/")
    assert "Schakel" in browser.title
    fill(browser, "geen-geldig-token", DOEL)
    assert "401" in error_text(browser)
    browser.get(demo.url + "/")
    fill(browser, demo.token, "")
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
