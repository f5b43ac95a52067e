"""Avro binary decoding generated once per schema: what fastavro's ``schemaless_reader`` reads
when the writer's schema is the reader's, by straight-line Python made for that schema.

Why: the batch path and the worker decode every event they read, and fastavro's reader reads
each value through a method call on a file object; reading a bytes object by position is about
twice as fast (``docs/benchmarks-history.md``).

**Contract.** :func:`compile_reader` takes a schema as :func:`fastavro.parse_schema` returns it
and gives ``read(payload, offset)``: the datum encoded in ``payload`` from ``offset`` on,
equal to what ``fastavro.schemaless_reader`` returns for those bytes with that schema as the
writer's and no reader schema (a ``dict`` per record, ``datetime.date`` for a ``date``, the
symbol for an enum; bytes after the datum are ignored, as fastavro ignores them). It reads
only well-formed input: on anything else — a truncated value, a union or enum index out of
range, a negative length or block count (Avro's sized blocks, which Schakel's writers never
write), a ``boolean`` byte other than 0 or 1, an ``int`` outside 32 bits, a varint longer
than 64 bits, invalid UTF-8 — it raises (:class:`Unfit`, or what the value raises), and the
caller reads the payload with fastavro, so that fastavro's result or error stands.
:func:`compile_reader` returns ``None`` for a schema with a construct it does not generate
(another logical type, ``fixed``, ``float``, a union other than ``null`` and one type).

The code is made by :mod:`schemas.avro_codegen` (no text of the schema in it).
``tests/unit/schemas/test_avro_read.py`` proves the equality on generated data for every
catalogue schema and on mutated and truncated encodings.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from schemas.avro_codegen import Generator, NotGenerated, lines

Read = Callable[[bytes, int], Any]

_EPOCH = date(1970, 1, 1).toordinal()
_INT = 1 << 31


def compile_reader(schema: Any) -> Read | None:
    """``read(payload, offset)`` for ``schema`` (parsed by :func:`fastavro.parse_schema`), or
    ``None`` if it has a construct this module does not generate (module docstring)."""
    try:
        return _Reader().reader(schema)
    except NotGenerated:
        return None


def _varint(target: str, depth: int) -> list[str]:
    """Lines reading a zigzag varint at ``p`` into ``target`` (``p`` moves past it)."""
    return lines(
        depth,
        "c = b[p]",
        "p += 1",
        "if c < 128:",
        f"    {target} = (c >> 1) ^ -(c & 1)",
        "else:",
        "    z = c & 127",
        "    s = 7",
        "    while True:",
        "        c = b[p]",
        "        p += 1",
        "        z |= (c & 127) << s",
        "        if c < 128:",
        "            break",
        "        s += 7",
        "        if s > 63:",
        "            raise Unfit",
        "    if z >> 64:",
        "        raise Unfit",
        f"    {target} = (z >> 1) ^ -(z & 1)",
    )


def _sized(depth: int) -> list[str]:
    """Lines reading a length into ``n``, checked to fit in what is left of ``b``."""
    return [*_varint("n", depth), *lines(depth, "if n < 0 or p + n > len(b):", "    raise Unfit")]


def _blocks(target: str, depth: int, empty: str, entry: list[str], keep: str) -> list[str]:
    """Lines reading Avro blocks of entries into ``a<depth>`` (a new ``empty``), then
    ``target``: ``entry`` reads one entry (at ``depth + 2``), ``keep`` adds it. A nested
    value of the same shape uses the names of its own, deeper, level."""
    count = f"m{depth}"
    return [
        *lines(depth, f"a{depth} = {empty}", "while True:"),
        *_varint(count, depth + 1),
        *lines(
            depth + 1,
            f"if {count} == 0:",
            "    break",
            f"if {count} < 0:",
            "    raise Unfit",
            f"for _ in range({count}):",
        ),
        *entry,
        *lines(depth + 2, keep),
        *lines(depth, f"{target} = a{depth}"),
    ]


class _Reader(Generator):
    """Functions ``(b, p)`` reading one value of ``b`` at ``p``: ``(value, p after it)``."""

    def __init__(self) -> None:
        super().__init__(
            {"fromordinal": date.fromordinal, "double": struct.Struct("<d").unpack_from}
        )

    def reader(self, schema: Any) -> Read:
        if isinstance(schema, Mapping) and schema.get("type") == "record":
            function = self.build(self.record_function(schema))
        else:  # a top-level non-record
            root, body = self.function("b, p")
            body += [*self.code(schema, "x", 1), "    return x, p"]
            function = self.build(root)

        def read(payload: bytes, offset: int) -> Any:
            return function(payload, offset)[0]

        return read

    def record_function(self, schema: Mapping[str, Any]) -> str:
        name, body = self.function("b, p")
        self.records[schema["name"]] = name
        body.append("    d = {}")
        for field in schema["fields"]:
            key = self.value("F", field["name"])
            body += [*self.code(field["type"], "x", 1), f"    d[{key}] = x"]
        body.append("    return d, p")
        return name

    def call_record(self, function: str, var: str, depth: int) -> list[str]:
        return lines(depth, f"{var}, p = {function}(b, p)")

    def enum_reference(self, enum: Any, var: str, depth: int) -> list[str]:
        table, count = enum
        return [
            *_varint("t", depth),
            *lines(depth, f"if not 0 <= t < {count}:", "    raise Unfit", f"{var} = {table}[t]"),
        ]

    def union_code(self, null_at: int, other: Any, var: str, depth: int) -> list[str]:
        return [
            *_varint("u", depth),
            *lines(depth, f"if u == {null_at}:", f"    {var} = None", f"elif u == {1 - null_at}:"),
            *self.code(other, var, depth + 1),
            *lines(depth, "else:", "    raise Unfit"),
        ]

    def code_enum(self, schema: Any, var: str, depth: int) -> list[str]:
        symbols = tuple(schema["symbols"])
        enum = self.enums[schema["name"]] = (self.value("E", symbols), len(symbols))
        return self.enum_reference(enum, var, depth)

    @staticmethod
    def code_null(schema: Any, var: str, depth: int) -> list[str]:
        return lines(depth, f"{var} = None")

    @staticmethod
    def code_boolean(schema: Any, var: str, depth: int) -> list[str]:
        return lines(depth, "c = b[p]", "p += 1", "if c > 1:", "    raise Unfit", f"{var} = c == 1")

    @staticmethod
    def code_int(schema: Any, var: str, depth: int) -> list[str]:
        check = f"if not {-_INT} <= {var} < {_INT}:"
        return [*_varint(var, depth), *lines(depth, check, "    raise Unfit")]

    @staticmethod
    def code_long(schema: Any, var: str, depth: int) -> list[str]:
        return _varint(var, depth)

    @staticmethod
    def code_date(schema: Any, var: str, depth: int) -> list[str]:
        return [*_varint("t", depth), *lines(depth, f"{var} = fromordinal(t + {_EPOCH})")]

    @staticmethod
    def code_double(schema: Any, var: str, depth: int) -> list[str]:
        return lines(
            depth, "if p + 8 > len(b):", "    raise Unfit", f"({var},) = double(b, p)", "p += 8"
        )

    @staticmethod
    def code_string(schema: Any, var: str, depth: int) -> list[str]:
        return [*_sized(depth), *lines(depth, f"{var} = b[p : p + n].decode()", "p += n")]

    @staticmethod
    def code_bytes(schema: Any, var: str, depth: int) -> list[str]:
        return [*_sized(depth), *lines(depth, f"{var} = b[p : p + n]", "p += n")]

    def code_array(self, schema: Any, var: str, depth: int) -> list[str]:
        entry = self.code(schema["items"], f"i{depth}", depth + 2)
        return _blocks(var, depth, "[]", entry, f"a{depth}.append(i{depth})")

    def code_map(self, schema: Any, var: str, depth: int) -> list[str]:
        entry = [
            *self.code_string("string", f"k{depth}", depth + 2),
            *self.code(schema["values"], f"i{depth}", depth + 2),
        ]
        return _blocks(var, depth, "{}", entry, f"a{depth}[k{depth}] = i{depth}")
