"""Scoring found signals against the ground truth."""

from __future__ import annotations

from typing import Any

import pytest

from schakel.synth import SynthError, score
from schakel.synth.model import RULES
from schakel.synth.truth import format_score

TRUTH: dict[str, Any] = {
    "pseudoniemen": True,
    "signalen": [
        {
            "regel": RULES[0],
            "persoon": "P1",
            "pseudoniem": "a" * 32,
            "sleutel": "2026-01-01",
            "sinds": "2026-01-01",
            "status": "open",
            "scenario": "r1",
        },
        {
            "regel": RULES[2],
            "persoon": "P2",
            "pseudoniem": "b" * 32,
            "sleutel": "VS-1",
            "sinds": "2026-02-01",
            "status": "opgelost",
            "scenario": "r3",
        },
    ],
    "bijna": [{"regel": RULES[1], "persoon": "P3", "pseudoniem": "c" * 32, "scenario": "nm"}],
}


def found(regel: str, subject: str, sleutel: str, status: str) -> dict[str, Any]:
    return {
        "regel": regel,
        "subject": subject,
        "sleutel": sleutel,
        "sinds": sleutel,
        "status": status,
        "bewijs": ["x"],
    }


def test_perfect() -> None:
    result = score(
        TRUTH,
        [
            found(RULES[0], "a" * 32, "2026-01-01", "open"),
            found(RULES[2], "b" * 32, "VS-1", "opgelost"),
            found(RULES[3], "d" * 32, "2026-03-01", "ingetrokken"),
        ],
    )
    assert result.perfect
    summary = result.to_json()
    assert summary["precision"] == summary["recall"] == 1.0
    assert summary["regels"][RULES[4]] == {
        "verwacht": 0,
        "gevonden": 0,
        "juist": 0,
        "precision": 1.0,
        "recall": 1.0,
    }


def test_missing_unexpected_and_wrong_status() -> None:
    result = score(
        TRUTH,
        [
            found(RULES[0], "a" * 32, "2026-01-01", "opgelost"),
            found(RULES[1], "c" * 32, "2026-05-05", "open"),
        ],
    )
    summary = result.to_json()
    assert not result.perfect
    assert summary["regels"][RULES[0]]["precision"] == 0.0
    assert summary["regels"][RULES[2]]["recall"] == 0.0
    assert len(result.missed) == 2 and len(result.unexpected) == 2
    assert result.near_miss_hits == 1
    text = "\n".join(format_score(result))
    assert "gemist" in text and "onverwacht" in text


def test_needs_pseudonyms() -> None:
    with pytest.raises(SynthError, match="pseudonym"):
        score({**TRUTH, "pseudoniemen": False}, [])
