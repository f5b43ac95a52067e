"""The rules' copy of the catalogue agrees with the Avro contract in ``schemas/``."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.catalogue import catalogue
from streams.rules import INPUT_TYPES
from streams.rules.catalogue import FIELDS


def test_input_types_match_the_schemas() -> None:
    assert set(INPUT_TYPES) == set(catalogue().input_types)


def _data_fields(event_type: str) -> dict[str, Any]:
    raw = catalogue().latest(event_type).raw
    data = next(f for f in raw["fields"] if f["name"] == "data")
    record = data["type"]
    if isinstance(record, list):
        record = next(t for t in record if isinstance(t, dict))
    return {f["name"]: f["type"] for f in record["fields"]}


def _enum_symbols(avro_type: Any) -> set[str] | None:
    if isinstance(avro_type, list):
        for option in avro_type:
            found = _enum_symbols(option)
            if found is not None:
                return found
        return None
    if isinstance(avro_type, dict) and avro_type.get("type") == "enum":
        return {s.replace("_", "-") for s in avro_type["symbols"]}
    return None


@pytest.mark.parametrize("event_type", INPUT_TYPES)
def test_fields_and_enumerations_match_the_schemas(event_type: str) -> None:
    schema_fields = _data_fields(event_type)
    assert set(FIELDS[event_type]) == set(schema_fields) - {"datum", "bsn"}
    for name, spec in FIELDS[event_type].items():
        symbols = _enum_symbols(schema_fields[name])
        if spec.kind == "enum":
            assert symbols is not None, name
            assert frozenset(symbols) == spec.values, name
