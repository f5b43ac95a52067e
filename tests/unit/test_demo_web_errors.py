"""docs/demo.md lists what the worker's web page (streams/web/app.js) says for each error: every
status of its ``FOUTEN`` and, for a 502 or 503, every field of its ``REDENEN`` (the field the
API's ``fout`` names). Reproduction: after the page got its own texts for 502 and for each kind
of 503 (commit c34b655), the demo's page section still named only 401, 400 and 404."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "streams" / "web" / "app.js"
DEMO = ROOT / "docs" / "demo.md"


def _object(name: str) -> str:
    """The text of ``const name = { … };`` in app.js."""
    match = re.search(
        rf"^const {name} = \{{\n(.*?)^\}};", APP.read_text(encoding="utf-8"), re.M | re.S
    )
    assert match, f"app.js: no const {name}"
    return match.group(1)


def page_statuses() -> set[str]:
    return set(re.findall(r"^  (\d{3}):", _object("FOUTEN"), re.M))


def page_reasons() -> set[tuple[str, str]]:
    """(status, field) of every text of REDENEN."""
    found = set()
    for status, block in re.findall(
        r"^  (\d{3}): \{\n(.*?)^  \},", _object("REDENEN"), re.M | re.S
    ):
        found |= {(status, field) for field in re.findall(r"^    (\w+):", block, re.M)}
    return found


def web_page_section() -> str:
    text = DEMO.read_text(encoding="utf-8")
    return text.split("## The web page", 1)[1].split("\n## ", 1)[0]


def test_the_demo_names_every_status_the_page_explains() -> None:
    statuses = page_statuses()
    assert {"400", "401", "502", "503"} <= statuses
    section = web_page_section()
    assert {s for s in statuses if f"`{s}`" not in section} == set()


def test_the_demo_names_every_kind_of_502_and_503_the_page_explains() -> None:
    reasons = page_reasons()
    assert ("502", "schemaregister") in reasons and ("503", "inzage") in reasons
    rows = set(re.findall(r"^  \| (\d{3}) \| `(\w+)` \|", web_page_section(), re.M))
    assert rows == reasons
