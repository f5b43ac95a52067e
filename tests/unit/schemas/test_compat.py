from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

from schemas.catalogue import AVRO_DIR, Catalogue
from schemas.compat import check_backward_transitive

TYPE = "nl.wgs.trajecten.beeindigd"


def _catalogue_with_v2(tmp_path: Path, change: str) -> Catalogue:
    shutil.copytree(AVRO_DIR / TYPE, tmp_path / TYPE)
    v1 = json.loads((tmp_path / TYPE / "v1.avsc").read_text())
    v2 = copy.deepcopy(v1)
    data = next(f for f in v2["fields"] if f["name"] == "data")["type"]
    if change == "required-field":
        data["fields"].append({"name": "bedrag_cent", "type": "long"})
    elif change == "optional-field":
        data["fields"].append({"name": "toelichting", "type": ["null", "string"], "default": None})
    elif change == "enum-symbol-removed":
        reden = next(f for f in data["fields"] if f["name"] == "reden")
        reden["type"]["symbols"].remove("uitval")
    (tmp_path / TYPE / "v2.avsc").write_text(json.dumps(v2))
    return Catalogue(tmp_path)


def test_committed_schemas_are_backward_transitive_compatible() -> None:
    assert check_backward_transitive() == []


def test_a_new_required_field_is_caught_with_a_readable_message(tmp_path: Path) -> None:
    problems = check_backward_transitive(_catalogue_with_v2(tmp_path, "required-field"))
    assert len(problems) == 1
    text = str(problems[0])
    assert text.startswith(f"{TYPE}: v2 cannot read data written with v1")
    assert "bedrag_cent" in text


def test_a_removed_enum_symbol_is_caught(tmp_path: Path) -> None:
    problems = check_backward_transitive(_catalogue_with_v2(tmp_path, "enum-symbol-removed"))
    assert [p.old_version for p in problems] == [1]
    assert "uitval" in str(problems[0])


def test_an_optional_field_with_default_is_compatible(tmp_path: Path) -> None:
    assert check_backward_transitive(_catalogue_with_v2(tmp_path, "optional-field")) == []
