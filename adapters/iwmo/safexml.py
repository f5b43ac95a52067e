"""Hardened parsing of one iWmo message into an element tree.

defusedxml refuses a DTD, entity declarations and external references before anything is
resolved; on top of that the tree builder counts as it goes and stops the parse — before the
tree grows — at :data:`MAX_DEPTH` levels of nesting or :data:`MAX_ELEMENTS` elements. (The
file size is bounded before parsing, by ``SCHAKEL_MAX_XML_BYTES``.) An iWmo 3.2 message nests
at most 8 levels (WMO301: Bericht/Client/Relaties/Relatie/Contact/Telefoon/Telefoon01/
Telefoonnummer) and a real one holds tens to hundreds of elements, so neither limit is
near a valid message; a million-level nesting is refused after 33 start tags.

Every failure is a :class:`~adapters.exceptions.Rejection` whose message names the rule, never
the content of the file.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

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
        raise Rejection(
            f"not well-formed XML (line {line}, column {column})", reason="malformed"
        ) from exc
    except (ValueError, LookupError) as exc:  # an unknown or unusable encoding declaration
        raise Rejection("not readable XML: unsupported encoding", reason="encoding") from exc
    return root
