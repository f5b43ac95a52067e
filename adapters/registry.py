"""Adapter names → sources. ``spec`` is what follows ``ADAPTER:`` in ``--from ADAPTER:SPEC``
and the positional argument of ``schakel adapter NAME SPEC`` (a file, a directory, two files
separated by a comma, or a connection string).

Each file adapter's CloudEvents ``source`` is ``settings.source_urn(<system>)`` with the
system named in :data:`SYSTEMS`. ``pseudonymiser`` is the one the runner pseudonymises with
(the same key): the iWmo source makes with it the token of a ToewijzingNummer or an
Identificatie that could be a BSN (:mod:`adapters.iwmo.versions`), the outbox source that of a
``bronsleutel`` holding one (:func:`adapters.outbox.published_key`), the sociale-dienst source
that of a ``registratie_id`` holding one
(:meth:`adapters.sociale_dienst.SocialeDienstSource.row_key`); the other sources do not use
it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adapters.base import Source
from adapters.exceptions import AdapterError
from adapters.iwmo import IwmoSource
from adapters.jsonlines import JsonLinesSource
from adapters.outbox import OutboxSource
from adapters.sociale_dienst import SocialeDienstSource
from adapters.vroegsignalering import VroegsignaleringSource
from adapters.wijkteam import WijkteamSource
from schemas.pseudonym import Pseudonymiser
from schemas.settings import AdapterSettings, OutboxSettings

SYSTEMS = {
    "iwmo": "wmo",
    "sociale-dienst": "sociale-dienst",
    "vroegsignalering": "vroegsignalering",
}
"""Adapter name → the system word of its ``source`` URN (``urn:nld:oin:<OIN>:systeem:<word>``)."""


def _paths(spec: str) -> list[Path]:
    paths = [Path(p.strip()) for p in spec.split(",") if p.strip()]
    if not paths:
        raise AdapterError("no input file given")
    return paths


def _publish(spec: str, settings: AdapterSettings, pseudonymiser: Pseudonymiser) -> Source:
    return JsonLinesSource(_paths(spec))


def _iwmo(spec: str, settings: AdapterSettings, pseudonymiser: Pseudonymiser) -> Source:
    paths = _paths(spec)
    if len(paths) != 1:
        raise AdapterError("iwmo: give one directory of messages (or one message file)")
    (path,) = paths
    return IwmoSource(
        path,
        source=settings.source_urn(SYSTEMS["iwmo"]),
        max_bytes=settings.max_xml_bytes,
        pseudonymiser=pseudonymiser,
    )


def _sociale_dienst(spec: str, settings: AdapterSettings, pseudonymiser: Pseudonymiser) -> Source:
    return SocialeDienstSource(
        _paths(spec),
        source=settings.source_urn(SYSTEMS["sociale-dienst"]),
        pseudonymiser=pseudonymiser,
    )


def _vroegsignalering(spec: str, settings: AdapterSettings, pseudonymiser: Pseudonymiser) -> Source:
    return VroegsignaleringSource(
        _paths(spec), source=settings.source_urn(SYSTEMS["vroegsignalering"])
    )


def _wijkteam(spec: str, settings: AdapterSettings, pseudonymiser: Pseudonymiser) -> Source:
    return WijkteamSource(_paths(spec))


def _outbox(spec: str, settings: AdapterSettings, pseudonymiser: Pseudonymiser) -> Source:
    """The DSN is ``spec``, else SCHAKEL_OUTBOX_DSN (only :class:`OutboxSettings` hold it)."""
    dsn = spec.strip()
    if not dsn and isinstance(settings, OutboxSettings) and settings.outbox_dsn is not None:
        dsn = settings.outbox_dsn.get_secret_value()
    return OutboxSource(dsn, pseudonymiser=pseudonymiser)


FACTORIES: dict[str, Callable[[str, AdapterSettings, Pseudonymiser], Source]] = {
    "publish": _publish,
    "iwmo": _iwmo,
    "sociale-dienst": _sociale_dienst,
    "vroegsignalering": _vroegsignalering,
    "wijkteam": _wijkteam,
    "outbox": _outbox,
}


def open_source(
    name: str, spec: str, settings: AdapterSettings, *, pseudonymiser: Pseudonymiser
) -> Source:
    """The source of adapter ``name`` over ``spec``; :class:`AdapterError` if unknown.
    ``pseudonymiser``: the runner's (see the module's docstring)."""
    try:
        factory = FACTORIES[name]
    except KeyError:
        known = ", ".join(sorted(FACTORIES))
        raise AdapterError(f"unknown adapter {name!r}; known: {known}") from None
    return factory(spec, settings, pseudonymiser)
