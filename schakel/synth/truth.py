"""The ground truth of a synthetic municipality and the scoring of found signals against it.

``ground-truth.json`` lists every planted signal (``regel``, the BSN-free identity of the
citizen, ``sleutel``, ``sinds``, ``termijn``, the expected ``status`` at the end of the
period and ``opgelost_op``) and every planted near miss. The identity is the synthetic
person id (``persoon``) and, when the generator was given the pseudonym key the pipeline
uses, the ``pseudoniem`` (``api.md``) — what the API and the signals carry. Without the key,
run ``schakel generate`` again with the key (``--pseudonym-key-file``; same seed, same people)
to add them.

A found signal *matches* a planted one when rule, pseudonym, ``sleutel`` and status agree;
precision = matches / found, recall = matches / planted (each 1.0 when its denominator is 0).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schakel.synth.exceptions import SynthError
from schakel.synth.model import RULES, Municipality
from schemas.pseudonym import pseudonym

GENERATOR = "schakel.synth/1"
TRUTH_FILE = "ground-truth.json"
MANIFEST_FILE = "manifest.json"


def ground_truth(m: Municipality, key: str | None) -> dict[str, Any]:
    """The ground truth document (JSON-ready)."""
    names = {p.pid: pseudonym(p.bsn, key) for p in m.people} if key else {}

    def who(pid: str) -> dict[str, str]:
        return {"persoon": pid, **({"pseudoniem": names[pid]} if key else {})}

    return {
        "generator": GENERATOR,
        "seed": m.seed,
        "burgers": len(m.people),
        "until": m.until.isoformat(),
        "pseudoniemen": bool(key),
        "signalen": [
            {
                "regel": s.regel,
                **who(s.persoon),
                "sleutel": s.sleutel,
                "sinds": s.sinds.isoformat(),
                "termijn": s.termijn.isoformat() if s.termijn else None,
                "status": s.status,
                "opgelost_op": s.opgelost_op.isoformat() if s.opgelost_op else None,
                "scenario": s.scenario,
            }
            for s in sorted(m.planted, key=lambda s: (RULES.index(s.regel), s.persoon))
        ],
        "bijna": [
            {"regel": n.regel, **who(n.persoon), "scenario": n.scenario}
            for n in sorted(m.near_misses, key=lambda n: (RULES.index(n.regel), n.persoon))
        ],
    }


def load_ground_truth(directory: Path) -> dict[str, Any]:
    """Read ``ground-truth.json`` of a generated municipality."""
    path = directory / TRUTH_FILE
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SynthError(f"cannot read the ground truth {path}: {exc}") from exc
    if not isinstance(value, dict) or value.get("generator") != GENERATOR:
        raise SynthError(f"{path} is not a ground truth written by {GENERATOR}")
    return value


@dataclass
class RuleScore:
    """Found / expected / matched signals of one rule."""

    regel: str
    verwacht: int = 0
    gevonden: int = 0
    juist: int = 0

    @property
    def precision(self) -> float:
        """Matches / found (1.0 if nothing was found)."""
        return self.juist / self.gevonden if self.gevonden else 1.0

    @property
    def recall(self) -> float:
        """Matches / expected (1.0 if nothing was expected)."""
        return self.juist / self.verwacht if self.verwacht else 1.0


@dataclass
class Score:
    """The score of a run against the ground truth."""

    rules: list[RuleScore]
    missed: list[dict[str, Any]] = field(default_factory=list)
    """Planted signals not found (with the expected status)."""
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    """Found signals that were not planted (or have another status)."""
    near_miss_hits: int = 0
    """Found signals about near-miss citizens (must be 0)."""

    @property
    def perfect(self) -> bool:
        """Precision and recall are 1.0 for every rule."""
        return all(r.precision == 1.0 and r.recall == 1.0 for r in self.rules)

    def to_json(self) -> dict[str, Any]:
        """The machine-readable summary (``--summary-json``)."""
        return {
            "regels": {
                r.regel: {
                    "verwacht": r.verwacht,
                    "gevonden": r.gevonden,
                    "juist": r.juist,
                    "precision": r.precision,
                    "recall": r.recall,
                }
                for r in self.rules
            },
            "precision": _ratio(
                sum(r.juist for r in self.rules), sum(r.gevonden for r in self.rules)
            ),
            "recall": _ratio(sum(r.juist for r in self.rules), sum(r.verwacht for r in self.rules)),
            "gemist": self.missed,
            "onverwacht": self.unexpected,
            "bijna_met_signaal": self.near_miss_hits,
        }


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def _identity(signal: Mapping[str, Any]) -> tuple[str, str, str, str]:
    subject = signal.get("subject", signal.get("pseudoniem"))
    return (str(signal["regel"]), str(subject), str(signal["sleutel"]), str(signal["status"]))


def score(
    truth: Mapping[str, Any], found: Iterable[Mapping[str, Any]], rules: Sequence[str] = RULES
) -> Score:
    """Score the definitive signals ``found`` (API JSON shape, with ``subject``) against
    ``truth`` (needs pseudonyms: generate with the pipeline's pseudonym key)."""
    if not truth.get("pseudoniemen"):
        raise SynthError(
            "the ground truth has no pseudonyms; generate it with "
            "the key the pipeline uses (--pseudonym-key-file or SCHAKEL_PSEUDONYM_KEY)"
        )
    planted = {_identity(s): s for s in truth["signalen"]}
    near = {n["pseudoniem"] for n in truth["bijna"]}
    got = {_identity(s): s for s in found if s.get("status") != "ingetrokken"}
    per_rule = {r: RuleScore(r) for r in rules}
    for key in planted:
        per_rule.setdefault(key[0], RuleScore(key[0])).verwacht += 1
    for key in got:
        entry = per_rule.setdefault(key[0], RuleScore(key[0]))
        entry.gevonden += 1
        entry.juist += key in planted
    result = Score(list(per_rule.values()))
    result.missed = [dict(planted[k]) for k in planted if k not in got]
    result.unexpected = [
        {k: v for k, v in got[k].items() if k != "bewijs"} for k in got if k not in planted
    ]
    result.near_miss_hits = sum(1 for k in got if k[1] in near)
    return result


def format_score(result: Score) -> list[str]:
    """The per-rule summary table as text lines."""
    lines = [
        f"{'regel':34} {'gevonden':>8} {'verwacht':>8} {'juist':>6} {'precision':>9} {'recall':>7}"
    ]
    for r in result.rules:
        lines.append(
            f"{r.regel:34} {r.gevonden:8d} {r.verwacht:8d} {r.juist:6d} "
            f"{r.precision:9.3f} {r.recall:7.3f}"
        )
    total = result.to_json()
    lines.append(
        f"{'totaal':34} {sum(r.gevonden for r in result.rules):8d} "
        f"{sum(r.verwacht for r in result.rules):8d} "
        f"{sum(r.juist for r in result.rules):6d} {total['precision']:9.3f} "
        f"{total['recall']:7.3f}"
    )
    for miss in result.missed:
        lines.append(
            f"  gemist: {miss['regel']} {miss.get('persoon')} sinds {miss['sinds']} "
            f"({miss['status']}) — {miss['scenario']}"
        )
    for extra in result.unexpected:
        lines.append(
            f"  onverwacht: {extra['regel']} {extra['subject']} sinds {extra['sinds']} "
            f"({extra['status']})"
        )
    return lines
