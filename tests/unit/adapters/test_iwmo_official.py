"""The official iWmo 3.2 example messages (``tests/fixtures/iwmo-3.2/voorbeelden``) through the
adapter and the real runner: WMO301/305/307 give the expected events, the other message types
of the inbox (WMO315, 317, 319, 323) are skipped and counted per type, not quarantined."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

from adapters.iwmo import IwmoSource
from schemas.pseudonym import Pseudonymiser
from tests.unit.adapters.conftest import KEY, PSEUDONYMISER, SOURCE, events, make_harness
from tests.unit.adapters.iwmo_support import (
    GESTART,
    GESTOPT,
    TOEGEWEZEN,
    VOORBEELDEN,
    expected_event,
)

BSN = "999900006"


def ce(ident: tuple[object, ...], event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return expected_event(SOURCE, ident, event_type, {"bsn": BSN, **data})


EXPECTED = [
    ce(
        ("0384", "123456789012", "2023-08-13", "414", 1, "101"),
        TOEGEWEZEN,
        {
            "toewijzing_nummer": "101",
            "productcategorie": "01",
            "datum": "2023-08-13",
            "ingangsdatum": "2023-01-01",
            "einddatum": "2023-12-31",
        },
    ),
    ce(
        ("65656055", "123456789013", "2025-04-05", "418", 1, "300201"),
        GESTART,
        {"toewijzing_nummer": "300201", "productcategorie": "01", "datum": "2025-04-03"},
    ),
    ce(
        ("65656055", "123456789013", "2025-04-05", "418", 2, "300202"),
        GESTART,
        {"toewijzing_nummer": "300202", "productcategorie": "01", "datum": "2025-04-04"},
    ),
    ce(
        ("65656055", "123456789014", "2025-07-21", "420", 1, "300201"),
        GESTOPT,
        {
            "toewijzing_nummer": "300201",
            "productcategorie": "01",
            "datum": "2025-07-18",
            "reden_beeindiging": "31",
        },
    ),
    ce(
        ("65656055", "123456789014", "2025-07-21", "420", 2, "300202"),
        GESTOPT,
        {
            "toewijzing_nummer": "300202",
            "productcategorie": "01",
            "datum": "2025-07-18",
            "reden_beeindiging": "31",
        },
    ),
]
# The record versions (sources.md §1): the official examples' own keys and sequences.
EXPECTED_VERSIONS = [
    ("iwmo:wmo301:0384:101", "2023-08-13T12:34:56.000000/2023-08-13/123456789012/000001"),
    ("iwmo:wmo305:0363:300201:2025-04-03", "2025-04-05/123456789013/000001"),
    ("iwmo:wmo305:0363:300202:2025-04-04", "2025-04-05/123456789013/000002"),
    ("iwmo:wmo307:0363:300201:2025-04-03:definitief", "2025-07-21/123456789014/000001"),
    ("iwmo:wmo307:0363:300202:2025-04-15:definitief", "2025-07-21/123456789014/000002"),
]
EXPECTED = [
    {**event, "bronsleutel": key, "sequence": sequence}
    for event, (key, sequence) in zip(EXPECTED, EXPECTED_VERSIONS, strict=True)
]


def source(path: Path) -> IwmoSource:
    return IwmoSource(path, source=SOURCE, max_bytes=1 << 20, pseudonymiser=PSEUDONYMISER)


def test_the_official_examples_map_to_the_expected_events() -> None:
    records = list(source(VOORBEELDEN).records({}))
    assert events(records) == EXPECTED
    assert [r.rejection for r in records if r.rejection is not None] == []
    assert [r.skipped for r in records if r.skipped] == ["WMO315", "WMO317", "WMO319", "WMO323"]


def test_through_the_runner_published_pseudonymised_and_others_counted(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(VOORBEELDEN, inbox)
    hx = make_harness(source(inbox), tmp_path)
    stats = hx.runner.run_once()
    assert (stats.read, stats.published, stats.rejected, stats.skipped) == (9, 5, 0, 4)
    assert hx.quarantine_lines() == []
    published = hx.publisher.acked
    assert [e.type for e in published] == [TOEGEWEZEN, GESTART, GESTART, GESTOPT, GESTOPT]
    assert {e.subject for e in published} == {Pseudonymiser(KEY)(BSN)}
    assert published[0].data["datum"] == date(2023, 8, 13)
    for bericht in ("WMO315", "WMO317", "WMO319", "WMO323"):
        count = hx.registry.get_sample_value(
            "schakel_adapter_records_skipped_total", {"adapter": "iwmo", "kind": bericht}
        )
        assert count == 1, bericht
    assert (
        hx.registry.get_sample_value(
            "schakel_adapter_records_rejected_total",
            {"adapter": "iwmo", "reason": "unsupported-message"},
        )
        is None
    )
    # the skipped files are checkpointed like the others: a second run reads nothing
    again = hx.runner.run_once()
    hx.runner.close()
    assert (again.read, again.skipped) == (0, 0)
