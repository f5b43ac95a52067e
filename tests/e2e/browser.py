"""Headless Chromium (Debian's ``chromium``) driven by Selenium through Debian's
``chromium-driver``, for the tests of the coordinator's web page, and the steps they share.

Fails — never skips — when Chromium or its driver is missing:
``apt-get install -y chromium chromium-driver``."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

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


@contextlib.contextmanager
def chromium() -> Iterator[WebDriver]:
    """A headless Chromium with a profile of its own, quit (and the profile removed) after."""
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
    """Enter the token and the purpose and ask for the signals."""
    for field_id, value in (("token", token), ("doel", doel)):
        element = driver.find_element(By.ID, field_id)
        element.clear()
        element.send_keys(value)
    driver.find_element(By.ID, "verbind").click()


def error_text(driver: WebDriver) -> str:
    """The error the page shows (waiting for it)."""
    box = WebDriverWait(driver, 20).until(ec.visibility_of_element_located((By.ID, "fout")))
    return box.text
