"""Every iWmo file the project ships, generates or writes in its tests is judged against the
official iWmo 3.2 XSDs (``tests/fixtures/iwmo-3.2/xsd``, lxml ``XMLSchema``):

- ``samples/iwmo``: every message valid;
- ``schakel generate``: every message valid, except the planted bad records, which are exactly
  the ones the manifest says are bad;
- ``samples/bad/iwmo``: each file breaks the XSD too, except the three whose defect only
  Schakel's own rules catch (a BSN failing the elfproef, an XsdVersie outside the XSD's
  bounds, a StartProduct without the ToewijzingNummer Schakel needs);
- the benchmark's (and crash test's) WMO301 template and the official examples: valid.

The messages the other iWmo tests build are checked as they are built
(:func:`tests.unit.adapters.iwmo_support.build`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.adapters import write_iwmo
from schakel.synth import build_municipality, write_municipality
from tests.unit.adapters.conftest import BAD, SAMPLES
from tests.unit.adapters.iwmo_support import VOORBEELDEN, xsd_errors


def invalid(directory: Path) -> dict[str, list[str]]:
    return {
        p.name: errors
        for p in sorted(directory.glob("*.xml"))
        if (errors := xsd_errors(p.read_bytes()))
    }


def test_every_sample_message_is_valid() -> None:
    files = sorted((SAMPLES / "iwmo").glob("*.xml"))
    assert len(files) == 6
    assert invalid(SAMPLES / "iwmo") == {}


def test_every_official_example_is_valid() -> None:
    assert len(list(VOORBEELDEN.glob("*.xml"))) == 7
    assert invalid(VOORBEELDEN) == {}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    directory = tmp_path_factory.mktemp("gemeente")
    manifest = write_municipality(build_municipality(300, 5), directory, oin="0" * 20, key="k")
    return directory / "iwmo", manifest


def test_every_generated_message_is_valid_but_the_planted_bad_ones(
    generated: tuple[Path, dict[str, Any]],
) -> None:
    directory, manifest = generated
    files = sorted(directory.glob("*.xml"))
    planted = {p.name for p in files if "_ZZ_" in p.name}
    (iwmo,) = [s for s in manifest["bronnen"] if s["adapter"] == "iwmo"]
    assert len(planted) == iwmo["afgekeurd"] == 4
    assert len(files) > 200
    bad = invalid(directory)
    assert set(bad) <= planted, sorted(set(bad) - planted)
    # all but the elfproef case break the XSD (impossible date, productcategorie 99, release 3.1)
    assert sorted(n.split("_ZZ_")[1] for n in bad) == [
        "impossible-date.xml",
        "unknown-code.xml",
        "wrong-release.xml",
    ]


def test_bad_samples_break_the_xsd_unless_only_schakels_rules_catch_them() -> None:
    bad = invalid(BAD / "iwmo")
    files = {p.name for p in (BAD / "iwmo").glob("*.xml")}
    assert files - set(bad) == {
        "bad-bsn.xml",  # the XSD checks nine digits, not the elfproef
        "wrong-xsdversie.xml",  # XsdVersie bounds live in the XSD's appinfo, not its types
        "no-toewijzingnummer.xml",  # optional in the XSD, needed to map a start
    }


def test_the_benchmark_and_crash_test_messages_are_valid(tmp_path: Path) -> None:
    directory = write_iwmo(tmp_path / "iwmo", 23, per_file=7)
    assert len(list(directory.glob("*.xml"))) == 4
    assert invalid(directory) == {}
