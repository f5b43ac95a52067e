"""Adapter names → sources. ``spec`` is what follows ``ADAPTER:`` in ``--from ADAPTER:SPEC``
and the positional argument of ``schakel adapter NAME SPEC`` (a file, a directory, two files
separated by a comma, or a connection string)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adapters.base import Source
from adapters.exceptions import AdapterError
from adapters.jsonlines import JsonLinesSource
from schemas.settings import Settings


def _publish(spec: str, settings: Settings) -> Source:
    return JsonLinesSource([Path(p) for p in spec.split(",") if p])


FACTORIES: dict[str, Callable[[str, Settings], Source]] = {
    "publish": _publish,
}


def open_source(name: str, spec: str, settings: Settings) -> Source:
    """The source of adapter ``name`` over ``spec``; :class:`AdapterError` if unknown."""
    try:
        factory = FACTORIES[name]
    except KeyError:
        known = ", ".join(sorted(FACTORIES))
        raise AdapterError(f"unknown adapter {name!r}; known: {known}") from None
    return factory(spec, settings)
