"""One product of an iWmo message → its catalogue event and the record version it is.

- WMO301 ToegewezenProduct → ``nl.wmo.voorzieningen.toegewezen`` (``datum`` =
  Toewijzingsdatum, ``ingangsdatum``, ``einddatum`` if present);
- WMO305 StartProduct → ``nl.wmo.voorzieningen.gestart`` (``datum`` = Begindatum);
- WMO307 StopProduct → ``nl.wmo.voorzieningen.gestopt`` (``datum`` = Einddatum,
  ``reden_beeindiging`` = RedenBeeindiging).

Every product carries ``toewijzing_nummer`` (the ToewijzingNummer as a number: ``000101`` →
``101``; a number that could be a BSN as its keyed token ``tw-…``,
:func:`adapters.iwmo.versions.published_nummer`) and, when it has a Product,
``productcategorie``; a product without one (a budget allocation, allowed by the XSD) has no
``productcategorie``. Codes are checked against the basisschema's code lists:
Productcategorie, RedenBeeindiging, StatusAanlevering, RedenWijziging.

Event id: ``derive_id(source, Afzender, Identificatie, Dagtekening, BerichtCode, position,
ToewijzingNummer)`` — an Identificatie is unique per sender, and the position keeps a deletion
and its replacement in one message apart; the number itself (normalised) and the Identificatie
as sent, also where a token is published: the id is a hash, and ids stay what they were.
No ``time``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from adapters.base import derive_id
from adapters.iwmo import versions
from adapters.iwmo.message import WMO301, WMO305, ElementMissing, ElementRejection, Header, Message
from adapters.iwmo.versions import RecordVersion
from schemas.pseudonym import Pseudonymiser


@dataclass(frozen=True)
class Mapped:
    """One product: its event (input form, with ``data.bsn``) and the record version it is."""

    event: dict[str, Any]
    version: RecordVersion
    withdrawn_on: str
    """The day the source withdrew the record, if ``version.deletion``: the message's
    Dagtekening (WMO305/307) or the allocation's Toewijzingsdatum (WMO301)."""


def _nummer(message: Message, product: Element, where: str) -> str:
    path = f"{where}/ToewijzingNummer"
    text = message.text(product, "ToewijzingNummer", where, required=False)
    if not text:
        raise ElementMissing(
            path, " (Schakel needs it to know which allocation the product belongs to)"
        )
    nummer = versions.toewijzing_nummer(text)
    if nummer is None:
        raise ElementRejection(
            path,
            f"{path}: not a whole number of at most nine digits (basisschema LDT_Nummer)",
            "invalid",
        )
    return nummer


_ENDS = {
    "allocation": "an allocation ends on or after the day it begins",
    "care": "care ends on or after the day it began",
}


def _not_before(einddatum: str, begin: str, where: str, begin_name: str, what: str) -> None:
    """:class:`ElementRejection` (``invalid``, at the Einddatum) if ``einddatum`` is before
    ``begin`` (both ``YYYY-MM-DD`` as :meth:`Message.date` returns them: their text order is
    their date order). The XSD does not compare dates; iWmo wants an Einddatum on or after
    the Ingangsdatum (WMO301) or Begindatum (WMO307). Equal dates are allowed: a one-day
    product, or with RedenWijziging 01/13 a withdrawn allocation. Names neither date."""
    if einddatum < begin:
        path = f"{where}/Einddatum"
        product = where.rpartition("/")[2].partition("[")[0]
        raise ElementRejection(
            path,
            f"{path}: before the {begin_name} of the same {product}; {_ENDS[what]} "
            f"(iWmo: Einddatum >= {begin_name})",
            "invalid",
        )


def map_product(
    message: Message,
    header: Header,
    product: Element,
    *,
    position: int,
    where: str,
    source: str,
    pseudonymiser: Pseudonymiser,
) -> Mapped:
    """Map the ``position``-th product (1-based) at element path ``where``; ``pseudonymiser``
    makes the token of a ToewijzingNummer or a BerichtIdentificatie that could be a BSN. Raises
    :class:`~adapters.iwmo.message.ElementRejection` for a product that breaks the XSD's
    rules for what Schakel reads."""
    kind = message.kind
    nummer = _nummer(message, product, where)
    published = versions.published_nummer(nummer, pseudonymiser)
    data: dict[str, Any] = {"bsn": header.bsn, "toewijzing_nummer": published}
    product_node = message.child(product, "Product", f"{where}/Product")
    if product_node is not None:
        data["productcategorie"] = message.code(
            product_node, "Categorie", f"{where}/Product", "LDT_ProductCategorie"
        )
    identificatie = versions.sequence_identificatie(header.identificatie, pseudonymiser)
    place = versions.Place(header.gemeente, published, header.dagtekening, identificatie, position)
    withdrawn_on = header.dagtekening
    if kind is WMO301:
        data["datum"] = message.date(product, "Toewijzingsdatum", where)
        data["ingangsdatum"] = message.date(product, "Ingangsdatum", where)
        einddatum = message.date(product, "Einddatum", where, required=False)
        if einddatum:
            _not_before(einddatum, data["ingangsdatum"], where, "Ingangsdatum", "allocation")
            data["einddatum"] = einddatum
        tijd = versions.toewijzingstijd(message.text(product, "Toewijzingstijd", where))
        if tijd is None:
            path = f"{where}/Toewijzingstijd"
            raise ElementRejection(
                path, f"{path}: not a time as HH:MM:SS (basisschema LDT_Tijd)", "invalid"
            )
        reden = message.code(product, "RedenWijziging", where, "LDT_RedenWijziging", required=False)
        version = versions.allocation_version(
            place,
            toewijzingsdatum=data["datum"],
            toewijzingstijd=tijd,
            ingangsdatum=data["ingangsdatum"],
            einddatum=einddatum or None,
            reden_wijziging=reden or None,
        )
        withdrawn_on = data["datum"]
    elif kind is WMO305:
        data["datum"] = message.date(product, "Begindatum", where)
        version = versions.start_version(
            place,
            begindatum=data["datum"],
            status=message.code(product, "StatusAanlevering", where, "LDT_StatusAanlevering"),
        )
    else:
        begindatum = message.date(product, "Begindatum", where)
        data["datum"] = message.date(product, "Einddatum", where)
        data["reden_beeindiging"] = message.code(
            product, "RedenBeeindiging", where, "LDT_RedenBeeindiging"
        )
        version = versions.stop_version(
            place,
            begindatum=begindatum,
            reden_beeindiging=data["reden_beeindiging"],
            status=message.code(product, "StatusAanlevering", where, "LDT_StatusAanlevering"),
        )
        if not version.deletion:  # a withdrawal uses only the key; its Einddatum goes nowhere
            _not_before(data["datum"], begindatum, where, "Begindatum", "care")
    event = {
        "specversion": "1.0",
        "id": derive_id(
            source,
            header.afzender,
            header.identificatie,
            header.dagtekening,
            kind.code,
            position,
            nummer,
        ),
        "source": source,
        "type": kind.event_type,
        "data": data,
    }
    return Mapped(event, version, withdrawn_on)
