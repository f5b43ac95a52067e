"""Hypothesis strategies of Avro data for a schema (the generated readers' and writers'
tests: :mod:`schemas.avro_read`, :mod:`schemas.avro_write`)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

PRIMITIVES: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "int": st.integers(-(2**31), 2**31 - 1),
    "long": st.integers(-(2**63), 2**63 - 1),
    "double": st.floats(allow_nan=False),
    "string": st.text(),
    "bytes": st.binary(),
}


def _strategy(  # noqa: PLR0911 - one return per kind of Avro type
    schema: Any, named: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[Any]:
    """Plain data of ``schema`` (parsed by fastavro: named types defined once, then named)."""
    if isinstance(schema, list):
        return st.one_of(*(_strategy(branch, named) for branch in schema))
    if isinstance(schema, str):
        return PRIMITIVES[schema] if schema in PRIMITIVES else named[schema]
    kind = schema["type"]
    if schema.get("logicalType") == "date":
        return st.dates() | st.integers(-(2**31), 2**31 - 1)
    if kind == "record":
        fields: dict[str, st.SearchStrategy[Any]] = {}
        found = named[schema["name"]] = st.deferred(lambda: st.fixed_dictionaries(fields))
        for field in schema["fields"]:
            fields[field["name"]] = _strategy(field["type"], named)
        return found
    if kind == "enum":
        found = named[schema["name"]] = st.sampled_from(schema["symbols"])
        return found
    if kind == "array":
        items = _strategy(schema["items"], named)
        return st.lists(items, max_size=3) | st.lists(items, max_size=3).map(tuple)
    if kind == "map":
        return st.dictionaries(st.text(), _strategy(schema["values"], named), max_size=3)
    return _strategy(kind, named)


def avro_data(schema: Any) -> st.SearchStrategy[Any]:
    """Plain data of ``schema`` as :func:`fastavro.parse_schema` returns it: strings of any
    script, the ends of every integer range, dates, empty and full arrays and maps (lists and
    tuples), both branches of every union."""
    return _strategy(schema, {})
