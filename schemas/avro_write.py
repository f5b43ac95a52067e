"""Avro binary encoding generated once per schema: the bytes of fastavro's
``schemaless_writer``, written by straight-line Python made for that schema instead of
fastavro's walk of the schema for every datum.

Why: every signal, timeline snapshot and state the worker and the batch path write, and every
event an adapter publishes, is encoded by :class:`~schemas.serde.RecordSerializer`. fastavro
resolves each ``["null", X]`` union by validating the datum against the branches and rebuilds
the set of a record's keys for every record; that made encoding about a fifth of the batch
path's time (``docs/benchmarks-history.md``).

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

The code is made by :mod:`schemas.avro_codegen` (no text of the schema in it).
``tests/unit/schemas/test_avro_write.py`` proves the equality for every catalogue schema with
generated data, and fastavro's outcome for unfit data.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
from typing import Any

from schemas.avro_codegen import Generator, NotGenerated, Unfit, lines

Write = Callable[[bytearray, Any], None]

_EPOCH = date(1970, 1, 1).toordinal()
_INT = 1 << 31
_LONG = 1 << 63
_LOW = 1 << 7
_HIGH = 1 << 15


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


def _small(n: int) -> bytes:
    """:func:`varint` of -2**15 ≤ ``n`` < 2**15 (at most 3 bytes), computed without a loop."""
    z = (n << 1) ^ (n >> 63)
    if z < 0x80:
        return bytes((z,))
    if z < 0x4000:
        return bytes((z & 0x7F | 0x80, z >> 7))
    return bytes((z & 0x7F | 0x80, z >> 7 & 0x7F | 0x80, z >> 14))


@cache
def _small_table() -> list[bytes]:
    """``table[n + 2**7]``: the encoding of ``n`` for -2**7 ≤ n < 2**15 (lengths, counts,
    dates up to 2059), looked up instead of computed; built once, by the first writer made
    (about 15 ms), not at import."""
    return [_small(n) for n in range(-_LOW, _HIGH)]


def compile_writer(schema: Any) -> Write | None:
    """``write(out, datum)`` for ``schema`` (parsed by :func:`fastavro.parse_schema`), or
    ``None`` if it has a construct this module does not generate (module docstring)."""
    try:
        return _Writer().writer(schema)
    except NotGenerated:
        return None


def _length(var: str) -> str:
    """The line appending the encoding of the non-negative int ``var`` (a length, a count)."""
    return f"out += SMALL[{var} + {_LOW}] if {var} < {_HIGH} else varint({var})"


def _number(var: str, depth: int) -> list[str]:
    """Lines appending the encoding of the int ``var`` (looked up when small)."""
    return lines(
        depth, f"out += SMALL[{var} + {_LOW}] if -{_LOW} <= {var} < {_HIGH} else varint({var})"
    )


def _integer(var: str, depth: int, limit: int) -> list[str]:
    """Lines appending the encoding of the int ``var``, refused outside ``[-limit, limit)``."""
    check = f"if type({var}) is not int or not {-limit} <= {var} < {limit}:"
    return lines(depth, check, "    raise Unfit") + _number(var, depth)


class _Writer(Generator):
    """Functions ``(out, datum)`` appending the encoding of ``datum`` to ``out``."""

    def __init__(self) -> None:
        super().__init__(
            {
                "SMALL": _small_table(),
                "varint": varint,
                "date": date,
                "double": struct.Struct("<d").pack,
            }
        )

    def writer(self, schema: Any) -> Write:
        if isinstance(schema, Mapping) and schema.get("type") == "record":
            return self.build(self.record_function(schema))
        root, body = self.function("out, v0")  # a top-level non-record
        body += self.code(schema, "v0", 1)
        return self.build(root)

    def record_function(self, schema: Mapping[str, Any]) -> str:
        name, body = self.function("out, d")
        self.records[schema["name"]] = name
        body += lines(1, "if type(d) is not dict:", "    raise Unfit")
        for field in schema["fields"]:
            key = self.value("F", field["name"])
            body.append(f"    v1 = d[{key}]")  # KeyError: missing, fastavro decides
            body += self.code(field["type"], "v1", 1)
        body.append("    return")
        return name

    def call_record(self, function: str, var: str, depth: int) -> list[str]:
        return lines(depth, f"{function}(out, {var})")

    def enum_reference(self, enum: Any, var: str, depth: int) -> list[str]:
        return lines(
            depth,
            f"if type({var}) is not str or {var} not in {enum}:",
            "    raise Unfit",
            f"out += {enum}[{var}]",
        )

    def union_code(self, null_at: int, other: Any, var: str, depth: int) -> list[str]:
        return [
            *lines(
                depth,
                f"if {var} is None:",
                f"    out += {varint(null_at)!r}",
                "else:",
                # fastavro's notations naming the branch: a (name, value) tuple, a "-type" key
                f'    if type({var}) is tuple or (type({var}) is dict and "-type" in {var}):',
                "        raise Unfit",
                f"    out += {varint(1 - null_at)!r}",
            ),
            *self.code(other, var, depth + 1),
        ]

    def code_enum(self, schema: Any, var: str, depth: int) -> list[str]:
        codes = {symbol: varint(i) for i, symbol in enumerate(schema["symbols"])}
        table = self.enums[schema["name"]] = self.value("E", codes)
        return self.enum_reference(table, var, depth)

    @staticmethod
    def code_null(schema: Any, var: str, depth: int) -> list[str]:
        return lines(depth, f"if {var} is not None:", "    raise Unfit")

    @staticmethod
    def code_boolean(schema: Any, var: str, depth: int) -> list[str]:
        return lines(
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
        return lines(
            depth,
            f"if type({var}) is date:",
            f"    {var} = {var}.toordinal() - {_EPOCH}",
            f"elif type({var}) is not int or not {-_INT} <= {var} < {_INT}:",
            "    raise Unfit",
        ) + _number(var, depth)

    @staticmethod
    def code_double(schema: Any, var: str, depth: int) -> list[str]:
        return lines(
            depth, f"if type({var}) is not float:", "    raise Unfit", f"out += double({var})"
        )

    @staticmethod
    def code_string(schema: Any, var: str, depth: int) -> list[str]:
        encoded, size = f"e{depth}", f"n{depth}"
        return lines(
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
        return lines(
            depth,
            f"if type({var}) is not bytes:",
            "    raise Unfit",
            f"{size} = len({var})",
            _length(size),
            f"out += {var}",
        )

    def code_array(self, schema: Any, var: str, depth: int) -> list[str]:
        item = f"v{depth + 1}"
        return self.blocks(
            var,
            depth,
            f"type({var}) is not list and type({var}) is not tuple",
            f"for {item} in {var}:",
            self.code(schema["items"], item, depth + 2),
        )

    def code_map(self, schema: Any, var: str, depth: int) -> list[str]:
        key, item = f"k{depth + 1}", f"v{depth + 1}"
        entry = [
            *self.code_string("string", key, depth + 2),
            *self.code(schema["values"], item, depth + 2),
        ]
        return self.blocks(
            var, depth, f"type({var}) is not dict", f"for {key}, {item} in {var}.items():", entry
        )

    @staticmethod
    def blocks(var: str, depth: int, unfit: str, loop: str, entry: list[str]) -> list[str]:
        """Lines writing ``var`` as one Avro block (the count, the entries) and the end;
        refused when ``unfit``; ``loop`` walks its entries, ``entry`` writes one."""
        size = f"n{depth}"
        return [
            *lines(
                depth,
                f"if {unfit}:",
                "    raise Unfit",
                f"if {var}:",
                f"    {size} = len({var})",
                f"    {_length(size)}",
                f"    {loop}",
            ),
            *entry,
            *lines(depth, 'out += b"\\x00"'),
        ]
