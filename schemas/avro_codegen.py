"""What the generated Avro writers and readers share (:mod:`schemas.avro_write`,
:mod:`schemas.avro_read`): Python source made once per schema, one function per record type.

A :class:`Generator` walks a schema as :func:`fastavro.parse_schema` returns it (a named type
defined at its first use and named after), asks its subclass for the lines of each kind of
type (``code_string``, ``code_map``, …) and turns them into functions with :func:`exec`. The
source holds no text of the schema: field names, symbols and tables are passed in as values
(:meth:`Generator.value`), so a schema cannot inject code. A construct without a
``code_<kind>`` raises :class:`NotGenerated`, and the schema then has no generated function:
its records are left to fastavro.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any


class Unfit(Exception):
    """A datum or payload outside what the generated code handles: fastavro handles it."""


class NotGenerated(Exception):
    """The schema has a construct the generator does not generate."""


def lines(depth: int, *text: str) -> list[str]:
    """``text``, one line each, indented ``depth`` levels."""
    pad = "    " * depth
    return [pad + line for line in text]


class Generator(ABC):
    """One schema's functions. Subclasses give the abstract methods below and a
    ``code_<kind>(schema, var, depth)`` per kind of type they generate."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values: dict[str, Any] = {"Unfit": Unfit, **values}
        self.functions: list[list[str]] = []
        self.records: dict[str, str] = {}
        """Function name by full record name."""
        self.enums: dict[str, Any] = {}
        """What ``enum_reference`` needs of an enum already defined, by full name."""

    def value(self, prefix: str, value: Any) -> str:
        """A name in the generated module for ``value`` (a field name, a table)."""
        name = f"{prefix}{len(self.values)}"
        self.values[name] = value
        return name

    def function(self, header: str) -> tuple[str, list[str]]:
        """A new function ``f<n>(<header>)``: its name and its lines (to be appended to)."""
        name = f"f{len(self.functions)}"
        body = [f"def {name}({header}):"]
        self.functions.append(body)
        return name, body

    def build(self, root: str) -> Callable[..., Any]:
        """Every function generated, compiled; returns the one named ``root``."""
        source = "\n\n".join("\n".join(body) for body in self.functions) + "\n"
        namespace = dict(self.values)
        exec(compile(source, "<avro codegen>", "exec"), namespace)  # noqa: S102 - module docstring
        built: Callable[..., Any] = namespace[root]
        return built

    def code(self, schema: Any, var: str, depth: int) -> list[str]:
        """The lines (indented ``depth`` levels) for one value ``var`` of ``schema``."""
        if isinstance(schema, list):
            if len(schema) != 2 or "null" not in schema:
                raise NotGenerated("a union other than null and one type")
            null_at = schema.index("null")
            lines_: list[str] = self.union_code(null_at, schema[1 - null_at], var, depth)
            return lines_
        if isinstance(schema, str) and schema in self.records:
            return self.call_record(self.records[schema], var, depth)
        if isinstance(schema, str) and schema in self.enums:
            return self.enum_reference(self.enums[schema], var, depth)
        kind = schema.get("type") if isinstance(schema, Mapping) else schema
        if isinstance(schema, Mapping) and schema.get("logicalType") is not None:
            if schema["logicalType"] != "date" or kind != "int":
                raise NotGenerated(f"logical type {schema['logicalType']}")
            kind = "date"
        make = getattr(self, f"code_{kind}", None) if isinstance(kind, str) else None
        if make is None:
            raise NotGenerated(f"type {kind}")
        found: list[str] = make(schema, var, depth)
        return found

    def code_record(self, schema: Any, var: str, depth: int) -> list[str]:
        function = self.records.get(schema["name"]) or self.record_function(schema)
        return self.call_record(function, var, depth)

    @abstractmethod
    def record_function(self, schema: Mapping[str, Any]) -> str:
        """Generate the function of one record type, registered in :attr:`records` before its
        fields are generated (a field may name it); returns its name."""

    @abstractmethod
    def call_record(self, function: str, var: str, depth: int) -> list[str]:
        """The lines calling a record type's ``function`` for ``var``."""

    @abstractmethod
    def enum_reference(self, enum: Any, var: str, depth: int) -> list[str]:
        """The lines for ``var`` of an enum already defined (``enum``: what
        :attr:`enums` keeps of it)."""

    @abstractmethod
    def union_code(self, null_at: int, other: Any, var: str, depth: int) -> list[str]:
        """The lines for ``var`` of a union of ``null`` (at index ``null_at``) and ``other``."""
