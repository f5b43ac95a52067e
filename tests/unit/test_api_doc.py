"""docs/api.md names every path the worker's API registers (streams/api.py)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_api_path_is_documented() -> None:
    source = (ROOT / "streams" / "api.py").read_text(encoding="utf-8")
    paths = set(re.findall(r'"(/api/v1/[^"]*|/metrics|/health|/ready)"', source))
    assert {"/api/v1/signalen", "/api/v1/burgers/{pseudonym}/tijdlijn", "/ready"} <= paths
    documented = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    missing = sorted(p for p in paths if f"GET {p}`" not in documented)
    assert missing == [], f"docs/api.md does not describe {missing}"
