"""docs/events.md is the catalogue as implemented: generated from the committed ``.avsc`` files
and the wire map (``schakel.catalogue_doc``), and complete."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from schakel.catalogue_doc import DOC_PATH, main, markdown
from schemas.catalogue import Catalogue, catalogue
from schemas.wire import TOPICS, carriers


def test_committed_events_md_is_the_generators_output() -> None:
    committed = DOC_PATH.read_text(encoding="utf-8")
    assert committed == markdown(), "run `python -m schakel.catalogue_doc --write`"


def test_every_schema_field_value_and_topic_is_documented() -> None:
    text = markdown()
    cat = catalogue()
    for spec in TOPICS:
        assert f"| `{spec.name}` |" in text
    for name in cat.names:
        assert f"### `{name}`" in text
        section = text.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
        for spec in carriers(name):
            assert f"`{spec.name}`" in section.split("Versions:", 1)[0]
        for version in cat.versions(name):
            assert f"- v{version.version} (`{name}/v{version.version}.avsc`)" in section
        latest = cat.latest(name)
        fields = latest.raw["fields"]
        if latest.is_event:
            (data,) = (f for f in fields if f["name"] == "data")
            fields = data["type"]["fields"]
        for field in fields:
            assert f"| `{field['name']}` |" in section, (name, field["name"])
            avro_type = field["type"]
            for option in avro_type if isinstance(avro_type, list) else [avro_type]:
                if isinstance(option, dict) and option.get("type") == "enum":
                    for symbol in option["symbols"]:
                        spelled = (
                            symbol.replace("_", "-")
                            if field["name"] in latest.enum_fields
                            else symbol
                        )
                        assert f"`{spelled}`" in section, (name, field["name"], symbol)


def _write(root: Path, version: int, fields: list[dict[str, Any]]) -> None:
    folder = root / "nl.proef.dingen.gedaan"
    folder.mkdir(parents=True, exist_ok=True)
    schema = {
        "type": "record",
        "name": "gedaan",
        "namespace": "nl.proef.dingen",
        "doc": "A test type.",
        "fields": [
            {"name": "id", "type": "string"},
            {
                "name": "data",
                "type": {
                    "type": "record",
                    "name": "Data",
                    "namespace": "nl.proef.dingen.gedaan",
                    "fields": fields,
                },
            },
        ],
    }
    (folder / f"v{version}.avsc").write_text(json.dumps(schema), encoding="utf-8")


def test_versions_say_what_changed(tmp_path: Path) -> None:
    soort_v1 = {"type": "enum", "name": "Soort", "symbols": ["een_ding"]}
    soort_v2 = {"type": "enum", "name": "Soort", "symbols": ["een_ding", "ander_ding"]}
    _write(
        tmp_path,
        1,
        [
            {"name": "soort", "type": soort_v1, "doc": "Which thing."},
            {"name": "code", "type": "string"},
        ],
    )
    _write(
        tmp_path,
        2,
        [
            {"name": "soort", "type": soort_v2, "doc": "Which thing."},
            {"name": "code", "type": ["null", "string"], "default": None},
            {"name": "datum", "type": ["null", {"type": "int", "logicalType": "date"}]},
        ],
    )
    text = markdown(Catalogue(tmp_path))
    assert "- v1 (`nl.proef.dingen.gedaan/v1.avsc`): first version" in text
    assert (
        "- v2 (`nl.proef.dingen.gedaan/v2.avsc`): adds `data.datum`, `data.soort` adds value "
        "`ander-ding`, `data.code` becomes optional" in text
    )
    assert "| `soort` | enum | required | Which thing. Values: `een-ding`, `ander-ding`. |" in text
    assert "| `code` | string | optional (default `null`) |  |" in text
    assert "| `datum` | date | optional |  |" in text
    assert "Topic: none (not on Kafka)." in text


def test_write_writes_the_document(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    target = tmp_path / "events.md"
    monkeypatch.setattr("schakel.catalogue_doc.DOC_PATH", target)
    assert main(["--write"]) == 0
    assert target.read_text(encoding="utf-8") == markdown()
    assert main([]) == 0
    assert capsys.readouterr().out == markdown()


def test_every_section_the_document_points_to_is_in_the_repository() -> None:
    """The schemas' docs cite sections of the specification's events.md, which is not in the
    repository: the document points to the repository's sections instead, and each exists."""
    text = markdown()
    assert "events.md, " not in text, "a section of the specification's events.md"
    references = re.findall(r'\(`([\w-]+\.md)`, "([^"]+)"\)', text)
    assert references, "the document points to no section"
    for doc, heading in references:
        headings = re.findall(r"^#+ (.+)$", (DOC_PATH.parent / doc).read_text("utf-8"), re.M)
        assert heading in headings, f"{doc} has no section {heading!r}"
