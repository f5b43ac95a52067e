"""The code lists and XSD versions the iWmo adapter checks are exactly what the official XSDs say:
the committed ``schemas/iwmo_codes.py`` equals what the generator prints for
``tests/fixtures/iwmo-3.2/xsd``, and an independent reading of the XSDs with lxml agrees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from pydantic import ValidationError

from schemas import iwmo_codegen as codegen
from schemas import iwmo_codes as codes
from schemas.envelope import validate_input
from schemas.exceptions import InvalidEvent
from schemas.models import data_model
from schemas.pseudonym import Pseudonymiser
from tests.unit.adapters.iwmo_support import XSD

XS = "{http://www.w3.org/2001/XMLSchema}"
ROOT = XSD.parents[3]
PSEUDONYMISER = Pseudonymiser("unit-test-key")


def test_the_committed_module_is_what_the_generator_makes_of_the_official_xsds() -> None:
    committed = (ROOT / "schemas" / "iwmo_codes.py").read_text(encoding="utf-8")
    assert committed == codegen.render(XSD), (
        "schemas/iwmo_codes.py is stale: python -m schemas.iwmo_codegen "
        "tests/fixtures/iwmo-3.2/xsd > schemas/iwmo_codes.py"
    )


def test_code_lists_agree_with_an_independent_reading_of_the_basisschema() -> None:
    tree = etree.parse(str(XSD / "basisschema.xsd"))
    for name, listed in codes.CODE_LISTS.items():
        (simple,) = tree.getroot().findall(f"{XS}simpleType[@name='{name}']")
        values = [e.get("value") for e in simple.iter(f"{XS}enumeration")]
        assert list(listed) == values, name


def test_the_code_lists_the_issue_names() -> None:
    reden = codes.CODE_LISTS["LDT_RedenBeeindiging"]
    assert len(reden) == 11
    assert "01" not in reden  # what the generator used to emit
    assert reden["20"] == "Levering is tijdelijk beeindigd"
    assert list(codes.CODE_LISTS["LDT_ProductCategorie"]) == [f"{n:02d}" for n in range(1, 19)]
    assert list(codes.CODE_LISTS["LDT_StatusAanlevering"]) == ["1", "2", "3", "9"]
    assert codes.CODE_LISTS["LDT_RedenWijziging"]["13"] == "Verwijderd"


def test_message_codes_and_xsd_versions() -> None:
    assert codes.RELEASE == "3.2"
    assert {name: m.berichtcode for name, m in codes.MESSAGES.items()} == {
        "WMO301": "414",
        "WMO305": "418",
        "WMO307": "420",
        "WMO315": "444",
        "WMO317": "480",
        "WMO319": "482",
        "WMO323": "484",
    }
    for name, message in codes.MESSAGES.items():
        appinfo = (
            etree.parse(str(XSD / f"{name}.xsd")).getroot().find(f"{XS}annotation/{XS}appinfo")
        )
        assert appinfo is not None
        found = {etree.QName(e).localname: e.text for e in appinfo}
        assert found["BerichtXsdMinVersie"] == message.bericht_xsd_min
        assert found["BerichtXsdMaxVersie"] == message.bericht_xsd_max
        assert found["BasisschemaXsdMinVersie"] == message.basisschema_xsd_min
        assert found["BasisschemaXsdMaxVersie"] == message.basisschema_xsd_max


def test_the_generator_fails_loudly_on_an_xsd_without_the_lists(tmp_path: Path) -> None:
    (tmp_path / "basisschema.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>', encoding="utf-8"
    )
    with pytest.raises(ValueError, match="LDT_RedenBeeindiging"):
        codegen.code_lists(tmp_path / "basisschema.xsd")


GESTOPT = "nl.wmo.voorzieningen.gestopt"


def gestopt(reden: object) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"zs-stop-{reden}",
        "source": "urn:nld:oin:00000001234567890000:systeem:zaak",
        "type": GESTOPT,
        "data": {
            "bsn": "999990111",
            "datum": "2026-02-03",
            "toewijzing_nummer": "101",
            "reden_beeindiging": reden,
        },
    }


@pytest.mark.parametrize("reden", ["99", "05", "01", "24", 1])
def test_a_reden_beeindiging_outside_the_basisschema_list_is_refused_from_any_source(
    reden: object,
) -> None:
    """Review A4: outbox, publish and webhook events were only bounded 01–99; the catalogue
    now checks the basisschema's list (the one the iWmo adapter checks) for every source, and
    the worker does the same of what it reads."""
    with pytest.raises(InvalidEvent) as info:
        validate_input(gestopt(reden), PSEUDONYMISER)
    assert (info.value.reason, info.value.field) == ("unknown-value", "data.reden_beeindiging")
    assert "basisschema LDT_RedenBeeindiging: 02, 19, 20" in str(info.value)
    with pytest.raises(ValidationError):
        data_model(GESTOPT).model_validate({**gestopt(reden)["data"], "bsn": None})


@pytest.mark.parametrize("reden", list(codes.CODE_LISTS["LDT_RedenBeeindiging"]))
def test_every_code_of_the_list_is_accepted(reden: str) -> None:
    event = validate_input(gestopt(reden), PSEUDONYMISER)
    assert event.data["reden_beeindiging"] == reden
    assert validate_input(gestopt(int(reden)), PSEUDONYMISER).data["reden_beeindiging"] == reden
