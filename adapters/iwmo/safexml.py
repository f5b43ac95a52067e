"""Hardened parsing of one iWmo message into an element tree.

defusedxml refuses a DTD, entity declarations and external references before anything is
resolved; on top of that the tree builder counts as it goes and stops the parse — before the
tree grows — at :data:`MAX_DEPTH` levels of nesting or :data:`MAX_ELEMENTS` elements. (The
file size is bounded before parsing, by ``SCHAKEL_MAX_XML_BYTES``.) An iWmo 3.2 message nests
at most 8 levels (WMO301: Bericht/Client/Relaties/Relatie/Contact/Telefoon/Telefoon01/
Telefoonnummer) and a real one holds tens to hundreds of elements, so neither limit is
near a valid message; a million-level nesting is refused after 33 start tags.

Encodings: the parser (expat) reads UTF-8 and UTF-16 (with or without byte order mark) and any
single-byte encoding the XML declaration names (ISO-8859-1, windows-1252, …). A file it cannot
read for its encoding is rejected as ``encoding``, not ``malformed`` — told once the parse
failed, so nothing the parser reads correctly is refused: UTF-32 (a byte order mark, or a first
character of four bytes), EBCDIC (``<?xml``, ``<!--`` or ``<`` and a letter in EBCDIC), bytes
that contradict the XML declaration (a UTF-16 file declaring UTF-8), bytes not valid in the
declared encoding (UTF-8 if none is declared: a windows-1252 file that does not say so) where the
parser stopped (only those bytes are decoded; a bad byte after a broken tag is malformed), an
encoding the parser does not read (an unknown name, or a multi-byte encoding other than UTF-8
and UTF-16). One case is told before parsing, because expat would misread it: a UTF-8 byte
order mark before a declaration of another encoding (read in the declared one, ``é`` as
``Ã©``). Both contradictions are fatal errors in XML 1.0 §4.3.3.

Every failure is a :class:`~adapters.exceptions.Rejection` whose message names the rule, never
the content of the file.
"""

from __future__ import annotations

import codecs
import re
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.parsers.expat import errors as expat_errors

import defusedxml
import defusedxml.ElementTree as SafeET

from adapters.exceptions import Rejection

MAX_DEPTH = 32
"""Deepest element nesting accepted (the iWmo 3.2 XSDs nest at most 8 levels)."""

MAX_ELEMENTS = 100_000
"""Most elements accepted in one message (a message carries one client)."""


class _Stop(Exception):
    """Internal: carries a rejection out of the parser's callbacks."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(str(rejection))
        self.rejection = rejection


class _LimitedBuilder:
    """A tree builder that refuses to build past the depth and element limits."""

    def __init__(self, max_depth: int, max_elements: int) -> None:
        self._builder = TreeBuilder()
        self._max_depth = max_depth
        self._max_elements = max_elements
        self._depth = 0
        self._count = 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self._depth += 1
        self._count += 1
        if self._depth > self._max_depth:
            raise _Stop(
                Rejection(
                    f"elements nested deeper than {self._max_depth} levels (an iWmo message "
                    "nests at most 8); refused without reading further",
                    reason="too-deep",
                )
            )
        if self._count > self._max_elements:
            raise _Stop(
                Rejection(
                    f"more than {self._max_elements} elements in one message; refused without "
                    "reading further",
                    reason="too-large",
                )
            )
        return self._builder.start(tag, attrs)

    def end(self, tag: str) -> Element:
        self._depth -= 1
        return self._builder.end(tag)

    def data(self, text: str) -> None:
        self._builder.data(text)

    def close(self) -> Element:
        return self._builder.close()


def parse(data: bytes, *, max_depth: int = MAX_DEPTH, max_elements: int = MAX_ELEMENTS) -> Element:
    """The root element of ``data``; :class:`Rejection` if it is not safe, well-formed XML
    within the limits (reasons ``dtd-forbidden``, ``malformed``, ``encoding``, ``too-deep``,
    ``too-large``)."""
    if _bom_contradicted(data):
        raise Rejection(
            "not readable XML: the file starts with a UTF-8 byte order mark, but its XML "
            "declaration names another encoding",
            reason="encoding",
        )
    builder = _LimitedBuilder(max_depth, max_elements)
    parser: Any = SafeET.DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(data)
        root: Element = parser.close()
    except _Stop as stop:
        raise stop.rejection from None
    except (defusedxml.DTDForbidden, defusedxml.EntitiesForbidden) as exc:
        raise Rejection(
            "the file declares a DTD or entities; iWmo messages must not (refused for safety)",
            reason="dtd-forbidden",
        ) from exc
    except (defusedxml.ExternalReferenceForbidden, defusedxml.NotSupportedError) as exc:
        raise Rejection(
            "the file refers to an external resource (refused for safety)",
            reason="dtd-forbidden",
        ) from exc
    except ParseError as exc:
        line, column = exc.position
        problem = encoding_problem(data, exc.code, line, column, _error_index(parser))
        if problem is not None:
            raise Rejection(f"not readable XML: {problem}", reason="encoding") from exc
        raise Rejection(
            f"not well-formed XML (line {line}, column {column})", reason="malformed"
        ) from exc
    except (ValueError, LookupError) as exc:  # an unknown or unusable encoding declaration
        raise Rejection(f"not readable XML: {_UNREAD_ENCODING}", reason="encoding") from exc
    return root


_READ = (
    "an iWmo message is read in UTF-8, UTF-16 or a single-byte encoding its XML declaration names"
)
_UNREAD_ENCODING = (
    "its XML declaration names an encoding Schakel does not read (an unknown name, or a "
    "multi-byte encoding other than UTF-8 and UTF-16)"
)
_INCORRECT = expat_errors.codes[expat_errors.XML_ERROR_INCORRECT_ENCODING]
_UNKNOWN = expat_errors.codes[expat_errors.XML_ERROR_UNKNOWN_ENCODING]
_UTF32_BOMS = (codecs.BOM_UTF32_BE, codecs.BOM_UTF32_LE)
_UTF16_STARTS = (codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE, b"\x00<", b"<\x00")
_EBCDIC_SPACE = b"\x40\x05\x15\x25\x0d"
"""Space, tab, line feed, new line and carriage return in EBCDIC (code pages 037, 500, …)."""
_EBCDIC_LETTERS = frozenset(
    [
        *range(0x81, 0x8A),  # a–i
        *range(0x91, 0x9A),  # j–r
        *range(0xA2, 0xAA),  # s–z
        *range(0xC1, 0xCA),  # A–I
        *range(0xD1, 0xDA),  # J–R
        *range(0xE2, 0xEA),  # S–Z
    ]
)
_EBCDIC_STARTS = (b"\x4c\x6f\xa7\x94\x93", b"\x4c\x5a\x60\x60")
"""``<?xml`` and ``<!--`` in EBCDIC; otherwise ``<`` (0x4C) and a letter (a root element)."""
_EBCDIC_CONTROLS = re.compile(rb"[\x00-\x04\x06-\x0c\x0e-\x14\x16-\x24\x26-\x3f\xff]")
"""Bytes that are control characters in EBCDIC (code pages 037, 500, …) — and ASCII's space,
line feed, digits and most punctuation: text in ASCII, Latin-1 or UTF-8 soon holds one."""
_HEAD = 256
"""How many first bytes tell EBCDIC (after any EBCDIC white space)."""
_DECLARED = re.compile(
    rb"<\?xml[ \t\r\n][^>]*?\bencoding[ \t\r\n]*=[ \t\r\n]*"
    rb"([\"'])([A-Za-z][A-Za-z0-9._-]{0,39})\1"
)


def _error_index(parser: Any) -> int | None:
    """The byte offset in the input where expat stopped, if it can be had."""
    index = getattr(getattr(parser, "parser", None), "ErrorByteIndex", None)
    return index if isinstance(index, int) and index >= 0 else None


def encoding_problem(
    data: bytes, code: int, line: int, column: int, index: int | None = None
) -> str | None:
    """Why the parser could not read ``data`` for its encoding, given the parse error (expat
    ``code`` at ``line``, ``column``, byte offset ``index``) — or ``None`` if the encoding is
    not the problem (the file is then malformed). Names encodings and places, never the
    content."""
    unread = _unread_encoding(data)
    if unread is not None:
        return f"the file is in {unread}, which Schakel does not read; {_READ}"
    utf16 = data.startswith(_UTF16_STARTS)
    if code == _INCORRECT and utf16:
        return "the file is in the UTF-16 encoding, but its XML declaration names another encoding"
    if code == _INCORRECT:
        where = f"line {line}, column {column}"
        return f"its XML declaration names an encoding the file is not in ({where})"
    if code == _UNKNOWN:
        return _UNREAD_ENCODING
    return None if utf16 or index is None else _invalid_bytes(data, index, line)


def _unread_encoding(data: bytes) -> str | None:
    """``the UTF-32 encoding`` or ``an EBCDIC encoding`` if the first bytes of ``data`` are
    those of an XML document in one (XML 1.0 appendix F), else ``None``. UTF-32: a byte order
    mark, or a first character of four bytes, three of them zero; EBCDIC: ``<?xml``, ``<!--``
    or ``<`` and a letter (then first bytes that are no UTF-8), after any EBCDIC white space,
    with no EBCDIC control character in the first bytes (``L`` is ``<`` in EBCDIC, and ``é``
    in UTF-8 or Latin-1 begins with an EBCDIC letter: "Léandre Dupont" is not EBCDIC)."""
    head = data[:4]
    four_bytes = len(head) == 4 and (
        (head[:3] == b"\x00\x00\x00" and head[3] != 0)
        or (head[1:] == b"\x00\x00\x00" and head[0] != 0)
    )
    if head.startswith(_UTF32_BOMS) or four_bytes:
        return "the UTF-32 encoding"
    start = data[: 16 * _HEAD].lstrip(_EBCDIC_SPACE)[:_HEAD]
    element = len(start) > 1 and start[0] == 0x4C and start[1] in _EBCDIC_LETTERS
    looks = start.startswith(_EBCDIC_STARTS) or (element and not _utf8_prefix(start))
    if looks and not _EBCDIC_CONTROLS.search(start):
        return "an EBCDIC encoding"
    return None


def _utf8_prefix(head: bytes) -> bool:
    """``head`` is valid UTF-8 (possibly cut off inside its last character)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _declared(data: bytes, start: int = 0) -> str | None:
    """The encoding the XML declaration at offset ``start`` of ``data`` names, if any. The
    declaration ends at the first ``?>`` (white space in it is unbounded: no fixed window)."""
    if not data.startswith(b"<?xml", start):
        return None
    end = data.find(b"?>", start)
    declared = _DECLARED.match(data, start, len(data) if end < 0 else end)
    return declared[2].decode("ascii") if declared else None


def _bom_contradicted(data: bytes) -> bool:
    """``data`` starts with a UTF-8 byte order mark and declares another encoding: expat would
    read it in the declared one (``é`` as ``Ã©``), lxml in UTF-8; XML 1.0 §4.3.3 makes it a
    fatal error. (A UTF-16 byte order mark with another declaration expat refuses itself.)"""
    if not data.startswith(codecs.BOM_UTF8):
        return False
    declared = _declared(data, len(codecs.BOM_UTF8))
    try:
        return declared is not None and codecs.lookup(declared).name != "utf-8"
    except LookupError:
        return False  # an unknown name: the parser says so


def _invalid_bytes(data: bytes, index: int, line: int) -> str | None:
    """If the character at byte ``index`` of ``data`` — where the parser stopped, on ``line`` —
    is not valid in the declared encoding (UTF-8 if none is declared), where; else ``None``
    (the file is malformed there; also for a file cut off inside a character: a partial write
    is malformed, not wrongly encoded). Only those few bytes are decoded, never the file."""
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    declared = _declared(data, bom)
    try:
        codec = codecs.lookup(declared or "utf-8")
        codec.incrementaldecoder().decode(data[index : index + 4], final=False)
    except UnicodeDecodeError as exc:
        if exc.start != 0:
            return None  # the character where the parser stopped is valid
    except (LookupError, ValueError):
        return None
    else:
        return None
    if codec.name != "utf-8":
        return f"bytes that are not valid in the encoding its XML declaration names at line {line}"
    meant = "the declared encoding" if declared else "no encoding is declared, so UTF-8 is meant"
    return (
        f"bytes that are not valid UTF-8 ({meant}) at line {line}; a file in another "
        "encoding, such as windows-1252, must name it in its XML declaration"
    )
