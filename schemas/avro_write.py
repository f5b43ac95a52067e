"""Avro binary encoding generated once per schema: the bytes of fastavro's
``schemaless_writer``, written by straight-line Python made for that schema instead of
fastavro's walk of the schema for every datum.

Why: every signal, timeline snapshot and state the worker and the batch path write, and every
event an adapter publishes, is encoded by :class:`~schemas.serde.RecordSerializer`. fastavro
resolves each ``["null", X]`` union by validating the datum against the branches and rebuilds
the set of a record's keys for every record; that made encoding about a fifth of the batch
path's time (``docs/benchmarks.md``).

**Contract.** :func:`compile_writer` takes a schema as :func:`fastavro.parse_schema` returns it
and gives ``write(out, datum)``, which appends to the ``bytearray`` ``out`` exactly the bytes
``fastavro.schemaless_writer`` writes for ``datum`` — for every datum it accepts. It accepts
only the plain shapes Schakel's records have: every field present, each value of exactly the
Python type of its Avro type (``str``; ``int`` within the type's range; ``float`` for a
``double``; ``bool``; ``bytes``; ``list`` or ``tuple``; ``dict`` with ``str`` keys;
``datetime.date`` or ``int`` for a ``date``), unions of ``null`` and one other type.
Anything else raises :class:`Unfit` (or what the unusual value raises, e.g.
``UnicodeEncodeError``): a missing field (fastavro may fill a default), a subclass or another
type that fastavro coerces or refuses, fastavro's notations naming a union branch. ``out``
then holds a partial write, and the caller encodes the datum with fastavro, so fastavro's
lenience and error messages stay as they were. :func:`compile_writer` returns ``None`` for a
schema with a construct it does not generate (another logical type, ``fixed``, ``float``, a
union of two non-null types): the caller then always uses fastavro.

The generated source holds no text of the schema: names and symbols are passed in as values,
so a schema cannot inject code. ``tests/unit/schemas/test_avro_write.py`` proves the equality
for every catalogue schema with generated data and fastavro's outcome for unfit data.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

Write = Callable[[bytearray, Any], None]

_EPOCH = date(1970, 1, 1).toordinal()
_INT = 1 << 31
_LONG = 1 << 63
_TABLE = 1 << 15


class Unfit(Exception):
    """A datum outside the shapes the generated writer knows: encode it with fastavro."""


def varint(n: int) -> bytes:
    """Avro's ``long`` encoding of ``n`` (zigzag, then base-128 varint); :class:`Unfit`
    outside 64 bits."""
    if not -_LONG <= n < _LONG:
        raise Unfit
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


_SMALL = [varint(n) for n in range(-_TABLE, _TABLE)]
"""``_SMALL[n + 2**15]``: the encoding of ``n`` for -2**15 ≤ n < 2**15 (lengths, counts, dates
up to 2059), looked up instead of computed."""


class _NotGenerated(Exception):
    """The schema has a construct this module does not generate."""


def compile_writer(schema: Any) -> Write | None:
    """``write(out, datum)`` for ``schema`` (parsed by :func:`fastavro.parse_schema`), or
    ``None`` if it has a construct this module does not generate (module docstring)."""
    try:
        return _Generator().writer(schema)
    except _NotGenerated:
        return None


def _lines(depth: int, *lines: str) -> list[str]:
    """``lines`` indented ``depth`` levels."""
    pad = "    " * depth
    return [pad + line for line in lines]


def _length(var: str) -> str:
    """The line appending the encoding of the non-negative int ``var`` (a length, a count)."""
    return f"out += SMALL[{var} + {_TABLE}] if {var} < {_TABLE} else varint({var})"


def _number(var: str, depth: int) -> list[str]:
    """Lines appending the encoding of the int ``var`` (looked up when small)."""
    return _lines(
        depth, f"out += SMALL[{var} + {_TABLE}] if -{_TABLE} <= {var} < {_TABLE} else varint({var})"
    )


def _integer(var: str, depth: int, limit: int) -> list[str]:
    """Lines appending the encoding of the int ``var``, refused outside ``[-limit, limit)``."""
    check = f"if type({var}) is not int or not {-limit} <= {var} < {limit}:"
    return _lines(depth, check, "    raise Unfit") + _number(var, depth)


def _enum_lookup(table: str, var: str, pad: str) -> list[str]:
    return [
        f"{pad}if type({var}) is not str or {var} not in {table}:",
        f"{pad}    raise Unfit",
        f"{pad}out += {table}[{var}]",
    ]


class _Generator:
    """Generates one function per record type (named types are generated once and called by
    name after) and returns the root's."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {
            "SMALL": _SMALL,
            "varint": varint,
            "Unfit": Unfit,
            "date": date,
            "double": struct.Struct("<d").pack,
        }
        self.functions: list[list[str]] = []
        self.records: dict[str, str] = {}
        """Function name by full record name."""
        self.enums: dict[str, str] = {}
        """Name of the codes table by full enum name."""

    def value(self, prefix: str, value: Any) -> str:
        """A name in the generated module for ``value`` (a field name, a table)."""
        name = f"{prefix}{len(self.values)}"
        self.values[name] = value
        return name

    def writer(self, schema: Any) -> Write:
        root = self.record_function(schema) if _kind(schema) == "record" else None
        if root is None:  # a top-level non-record: wrap it in a function of its own
            name = f"w{len(self.functions)}"
            body = [f"def {name}(out, v0):"]
            self.functions.append(body)
            body += self.code(schema, "v0", 1)
            root = name
        source = "\n\n".join("\n".join(lines) for lines in self.functions) + "\n"
        namespace = dict(self.values)
        exec(compile(source, "<avro writer>", "exec"), namespace)  # noqa: S102 - see docstring
        written: Write = namespace[root]
        return written

    def record_function(self, schema: Mapping[str, Any]) -> str:
        full = schema["name"]
        name = f"w{len(self.functions)}"
        self.records[full] = name
        body = [f"def {name}(out, d):", "    if type(d) is not dict:", "        raise Unfit"]
        self.functions.append(body)
        for field in schema["fields"]:
            key = self.value("F", field["name"])
            body.append(f"    v1 = d[{key}]")  # KeyError: missing, fastavro decides
            body += self.code(field["type"], "v1", 1)
        body.append("    return")
        return name

    def code(self, schema: Any, var: str, depth: int) -> list[str]:
        """Lines (indented ``depth`` levels) appending the encoding of ``var``."""
        if isinstance(schema, list):
            return self.union(schema, var, depth)
        if isinstance(schema, str) and schema in self.records:
            return [f"{'    ' * depth}{self.records[schema]}(out, {var})"]
        if isinstance(schema, str) and schema in self.enums:
            return _enum_lookup(self.enums[schema], var, "    " * depth)
        kind = _kind(schema)
        if isinstance(schema, Mapping) and schema.get("logicalType") is not None:
            if schema["logicalType"] != "date" or kind != "int":
                raise _NotGenerated(f"logical type {schema['logicalType']}")
            kind = "date"
        make = getattr(self, f"code_{kind}", None) if isinstance(kind, str) else None
        if make is None:
            raise _NotGenerated(f"type {kind}")
        lines: list[str] = make(schema, var, depth)
        return lines

    @staticmethod
    def code_null(schema: Any, var: str, depth: int) -> list[str]:
        return _lines(depth, f"if {var} is not None:", "    raise Unfit")

    @staticmethod
    def code_boolean(schema: Any, var: str, depth: int) -> list[str]:
        return _lines(
            depth,
            f"if {var} is True:",
            '    out += b"\\x01"',
            f"elif {var} is False:",
            '    out += b"\\x00"',
            "else:",
            "    raise Unfit",
        )

    @staticmethod
    def code_int(schema: Any, var: str, depth: int) -> list[str]:
        return _integer(var, depth, _INT)

    @staticmethod
    def code_long(schema: Any, var: str, depth: int) -> list[str]:
        return _integer(var, depth, _LONG)

    @staticmethod
    def code_date(schema: Any, var: str, depth: int) -> list[str]:
        return _lines(
            depth,
            f"if type({var}) is date:",
            f"    {var} = {var}.toordinal() - {_EPOCH}",
            f"elif type({var}) is not int or not {-_INT} <= {var} < {_INT}:",
            "    raise Unfit",
        ) + _number(var, depth)

    @staticmethod
    def code_double(schema: Any, var: str, depth: int) -> list[str]:
        return _lines(
            depth, f"if type({var}) is not float:", "    raise Unfit", f"out += double({var})"
        )

    @staticmethod
    def code_string(schema: Any, var: str, depth: int) -> list[str]:
        encoded, size = f"e{depth}", f"n{depth}"
        return _lines(
            depth,
            f"if type({var}) is not str:",
            "    raise Unfit",
            f"{encoded} = {var}.encode()",
            f"{size} = len({encoded})",
            _length(size),
            f"out += {encoded}",
        )

    @staticmethod
    def code_bytes(schema: Any, var: str, depth: int) -> list[str]:
        size = f"n{depth}"
        return _lines(
            depth,
            f"if type({var}) is not bytes:",
            "    raise Unfit",
            f"{size} = len({var})",
            _length(size),
            f"out += {var}",
        )

    def code_array(self, schema: Any, var: str, depth: int) -> list[str]:
        item, size = f"v{depth + 1}", f"n{depth}"
        return [
            *_lines(
                depth,
                f"if type({var}) is not list and type({var}) is not tuple:",
                "    raise Unfit",
                f"if {var}:",
                f"    {size} = len({var})",
                f"    {_length(size)}",
                f"    for {item} in {var}:",
            ),
            *self.code(schema["items"], item, depth + 2),
            *_lines(depth, 'out += b"\\x00"'),
        ]

    def code_map(self, schema: Any, var: str, depth: int) -> list[str]:
        key, item, size = f"k{depth + 1}", f"v{depth + 1}", f"n{depth}"
        return [
            *_lines(
                depth,
                f"if type({var}) is not dict:",
                "    raise Unfit",
                f"if {var}:",
                f"    {size} = len({var})",
                f"    {_length(size)}",
                f"    for {key}, {item} in {var}.items():",
            ),
            *self.code_string("string", key, depth + 2),
            *self.code(schema["values"], item, depth + 2),
            *_lines(depth, 'out += b"\\x00"'),
        ]

    def code_record(self, schema: Any, var: str, depth: int) -> list[str]:
        function = self.records.get(schema["name"]) or self.record_function(schema)
        return _lines(depth, f"{function}(out, {var})")

    def code_enum(self, schema: Any, var: str, depth: int) -> list[str]:
        codes = {symbol: varint(i) for i, symbol in enumerate(schema["symbols"])}
        table = self.enums[schema["name"]] = self.value("E", codes)
        return _enum_lookup(table, var, "    " * depth)

    def union(self, branches: list[Any], var: str, depth: int) -> list[str]:
        if len(branches) != 2 or "null" not in branches:
            raise _NotGenerated("a union other than null and one type")
        pad = "    " * depth
        null_at = branches.index("null")
        null_code, other_code = varint(null_at), varint(1 - null_at)
        return [
            f"{pad}if {var} is None:",
            f"{pad}    out += {null_code!r}",
            f"{pad}else:",
            # fastavro's notations naming the branch: a (name, value) tuple, a "-type" key
            f'{pad}    if type({var}) is tuple or (type({var}) is dict and "-type" in {var}):',
            f"{pad}        raise Unfit",
            f"{pad}    out += {other_code!r}",
            *self.code(branches[1 - null_at], var, depth + 1),
        ]


def _kind(schema: Any) -> Any:
    """The type name of ``schema`` (a name, or the ``type`` of a mapping, unwrapped)."""
    if isinstance(schema, Mapping):
        kind = schema.get("type")
        if isinstance(kind, Mapping | list):
            raise _NotGenerated("a nested type declaration")
        return kind
    return schema
