"""The code lists and XSD versions the iWmo adapter checks are exactly what the official XSDs say:
the committed ``adapters/iwmo/codes.py`` equals what the generator prints for
``tests/fixtures/iwmo-3.2/xsd``, and an independent reading of the XSDs with lxml agrees."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from adapters.iwmo import codegen, codes
from tests.unit.adapters.iwmo_support import XSD

XS = "{http://www.w3.org/2001/XMLSchema}"
ROOT = XSD.parents[3]


def test_the_committed_module_is_what_the_generator_makes_of_the_official_xsds() -> None:
    committed = (ROOT / "adapters" / "iwmo" / "codes.py").read_text(encoding="utf-8")
    assert committed == codegen.render(XSD), (
        "adapters/iwmo/codes.py is stale: python -m adapters.iwmo.codegen "
        "tests/fixtures/iwmo-3.2/xsd > adapters/iwmo/codes.py"
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
