"""Writes a generated municipality to a directory, each silo in its native format:

```
DIR/manifest.json              period, until, sources (adapter, spec, counts), profiles,
                               planted iWmo corrections and deletions per kind (correcties)
DIR/ground-truth.json          planted signals and near misses (schakel.synth.truth)
DIR/iwmo/*.xml                 iWmo 3.2 WMO301/305/307 messages     → adapter iwmo
DIR/sociale-dienst/*.csv       Participatiewet exports              → adapter sociale-dienst
DIR/wijkteam/events.jsonl      wijkteam CloudEvents                 → adapter wijkteam
DIR/vroegsignalering/*.csv     signalen.csv + acties.csv            → adapter vroegsignalering
DIR/outbox/rows.jsonl          rows for schakel_outbox              → adapter outbox
```

``spec`` in the manifest is what follows ``ADAPTER:`` in ``schakel replay --from``, relative to
DIR. Writing is deterministic: the same municipality gives byte-identical files.
"""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from schakel.synth import badrecords, cloudevents, exports, iwmo_xml, versions
from schakel.synth.exceptions import SynthError
from schakel.synth.model import PERIOD_END, PERIOD_START, BadRecord, Municipality
from schakel.synth.truth import GENERATOR, MANIFEST_FILE, TRUTH_FILE, ground_truth

OWNED = (
    "iwmo",
    "sociale-dienst",
    "wijkteam",
    "vroegsignalering",
    "outbox",
    MANIFEST_FILE,
    TRUTH_FILE,
)
"""What a generated directory holds (removed before writing into it again)."""


def prepare(directory: Path) -> None:
    """Make ``directory`` ready: create it, or clear an earlier generated municipality; refuse
    a non-empty directory that is not one."""
    if directory.exists() and any(directory.iterdir()):
        manifest = directory / MANIFEST_FILE
        try:
            generated = json.loads(manifest.read_text(encoding="utf-8")).get("generator")
        except (OSError, ValueError, AttributeError):
            generated = None
        if generated != GENERATOR:
            raise SynthError(
                f"{directory} is not empty and holds no generated municipality; "
                "give an empty or new directory"
            )
        for name in OWNED:
            path = directory / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    directory.mkdir(parents=True, exist_ok=True)


def _source(
    adapter: str, spec: list[str], files: int, events: int, bad: list[BadRecord]
) -> dict[str, Any]:
    return {
        "adapter": adapter,
        "spec": ",".join(spec),
        "bestanden": files,
        "gebeurtenissen": events,
        "afgekeurd": len(bad),
        "slechte_records": [{"reden": b.reden, "omschrijving": b.omschrijving} for b in bad],
    }


def write_municipality(
    m: Municipality, directory: Path, *, oin: str, key: str | None = None
) -> dict[str, Any]:
    """Write every native file, the ground truth and the manifest; return the manifest."""
    prepare(directory)
    rng = random.Random(f"schakel-synth:{m.seed}:writers")  # noqa: S311 - synthetic data
    sources = []

    files, products = iwmo_xml.write(m, directory / "iwmo", rng)
    bad_files, bad = badrecords.iwmo(m, rng)
    for name, content in bad_files:
        (directory / "iwmo" / name).write_bytes(content)
    sources.append(_source("iwmo", ["iwmo"], files + len(bad_files), products, bad))

    csvs = exports.sociale_dienst(m, directory / "sociale-dienst", rng)
    bad = badrecords.sociale_dienst(m, rng, csvs[0])
    for csv_file in csvs:
        csv_file.write()
    events = sum(len(f.rows) for f in csvs) - len(bad)
    sources.append(
        _source(
            "sociale-dienst",
            [str(f.path.relative_to(directory)) for f in csvs],
            len(csvs),
            events,
            bad,
        )
    )

    lines = cloudevents.wijkteam_events(m, oin, rng)
    events = len(lines)
    bad = badrecords.wijkteam(m, rng, oin, lines)
    cloudevents.write_lines(directory / "wijkteam" / "events.jsonl", lines)
    sources.append(_source("wijkteam", ["wijkteam/events.jsonl"], 1, events, bad))

    csvs = exports.vroegsignalering(m, directory / "vroegsignalering", rng)
    bad = badrecords.vroegsignalering(m, rng, *csvs)
    for csv_file in csvs:
        csv_file.write()
    events = sum(len(f.rows) for f in csvs) - len(bad)
    sources.append(
        _source(
            "vroegsignalering", [str(f.path.relative_to(directory)) for f in csvs], 2, events, bad
        )
    )

    rows = cloudevents.outbox_rows(m, oin, rng)
    events = len(rows)
    bad = badrecords.outbox(m, rng, oin, rows)
    cloudevents.write_lines(directory / "outbox" / "rows.jsonl", rows)
    sources.append(_source("outbox", ["outbox/rows.jsonl"], 1, events, bad))

    manifest = {
        "generator": GENERATOR,
        "seed": m.seed,
        "burgers": len(m.people),
        "periode": {"van": PERIOD_START.isoformat(), "tot": PERIOD_END.isoformat()},
        "until": m.until.isoformat(),
        "oin": oin,
        "bronnen": sources,
        "gebeurtenissen": sum(s["gebeurtenissen"] for s in sources),
        "gebeurtenissen_per_type": dict(
            sorted(Counter(versions.published_type(f) for f in m.facts).items())
        ),
        "correcties": versions.counts(m.facts),
        "profielen": dict(sorted(Counter(p.profiel for p in m.people).items())),
        "geplant": dict(Counter(s.regel for s in m.planted)),
        "bijna": dict(Counter(n.regel for n in m.near_misses)),
    }
    _dump(directory / MANIFEST_FILE, manifest)
    _dump(directory / TRUTH_FILE, ground_truth(m, key))
    return manifest


def _dump(path: Path, value: dict[str, Any]) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a generated municipality."""
    path = directory / MANIFEST_FILE
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SynthError(f"cannot read {path}: {exc}") from exc
    if not isinstance(value, dict) or value.get("generator") != GENERATOR:
        raise SynthError(f"{path} was not written by {GENERATOR}")
    return value
