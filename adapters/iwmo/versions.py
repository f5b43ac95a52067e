"""Record versions of iWmo products: record key (``bronsleutel``), ``sequence`` and deletion.

Pure functions of what a message says, following ``sources.md`` §1 and ``events.md``
("Corrections and deletions by a source"):

- **WMO305** StartProduct: record key ToewijzingNummer + Begindatum.
- **WMO307** StopProduct: record key ToewijzingNummer + Begindatum + whether the stop is
  temporary (RedenBeeindiging 20) or definitive — the standard keeps one of each side by side.
- For both, ``sequence`` = Dagtekening + BerichtIdentificatie/Identificatie + the product's
  position in the message, so that a deletion and its replacement in one message are ordered
  (the later one wins); StatusAanlevering 3 is a deletion, 1, 2 and 9 are versions.
- **WMO301** ToegewezenProduct: record key ToewijzingNummer; ``sequence`` = Toewijzingsdatum +
  Toewijzingstijd, then Dagtekening + Identificatie + position. A product with RedenWijziging
  13 (verwijderd) or 01, whose Einddatum equals its Ingangsdatum, is a deletion ("as if never
  sent").

Keys are scoped by the municipality (``gemeente``: the Afzender of a 301, the Ontvanger of a
305/307), because a ToewijzingNummer is unique per municipality. A key holds a message kind,
a gemeentecode, a ToewijzingNummer and dates — never the BSN or any other client data — so it
travels in clear (``events.md``: hashing is needed only when a source key holds personal data).
A ToewijzingNummer that could be taken for a BSN (nine digits that pass the elfproef: about one
in eleven from 100000000 up) is the exception: ``events.md`` asks for a source key that holds
a BSN-like value to be hashed with the pseudonym key, so the key and ``toewijzing_nummer``
hold its keyed token instead (:func:`published_nummer`).

Every component of a ``sequence`` has a fixed width (dates ``YYYY-MM-DD``, time
``HH:MM:SS.ffffff``, Identificatie left-padded with ``0`` to its XSD maximum of 12 characters,
position zero-padded to 6 digits), so the lexicographic order of sequences is the order of
versions. Two messages whose Identificaties differ only in leading zeros get equal sequences;
the event ``id`` then decides (``events.md``).

The Identificatie (LDT_IdentificatieBericht: any text of 1–12 characters) is the one value of
a sequence the sender chooses freely, and a sender that numbers its messages with nine digits
writes one that could be a BSN about once in eleven. Such an Identificatie — as sent or as
padded — stands in the sequence as a keyed token instead (:func:`sequence_identificatie`), so
the message is read and no possible BSN is published, padded or not; the price is the order
of that message among the messages of the same Dagtekening (docs/adapters.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemas.models import not_allowable
from schemas.personal import personal_data_in
from schemas.pseudonym import Pseudonymiser, holds_bsn

TIJDELIJK = "20"
"""RedenBeeindiging of a temporary stop (Levering is tijdelijk beeindigd)."""

VERWIJDEREN = "3"
"""StatusAanlevering "verwijderen aanlevering"."""

VERWIJDERD = frozenset({"13", "01"})
"""RedenWijziging codes that, with Einddatum == Ingangsdatum, withdraw a WMO301 allocation."""

XML_SPACE = " \t\r\n"
"""XML white space (XML 1.0 ``S``; what XML Schema's whitespace facet replaces and collapses).
Not a non-breaking space or another Unicode space, which Python's ``str.strip()`` also
removes: around a date, number or code they make the value XSD-invalid."""

IDENTIFICATIE_WIDTH = 12
"""Maximum length of BerichtIdentificatie/Identificatie (basisschema LDT_IdentificatieBericht)."""

POSITION_WIDTH = 6
"""Digits of a product's position: more than the products that fit in a message within the
parser's element limit (:data:`adapters.iwmo.safexml.MAX_ELEMENTS`)."""
NUMMER_MAX = 999_999_999
"""Largest ToewijzingNummer (basisschema LDT_Nummer: xs:integer 0–999999999)."""

_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_TIME = re.compile(r"(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?", re.ASCII)


@dataclass(frozen=True)
class RecordVersion:
    """What one product of a message is, as a record version of its source."""

    bronsleutel: str
    """The source's key of the record (no personal data)."""
    sequence: str
    """Fixed-width string; a higher one is a later version of the same record."""
    deletion: bool
    """This version withdraws the record (``nl.schakel.bron.verwijderd``)."""


def toewijzing_nummer(text: str) -> str | None:
    """A ToewijzingNummer as the number it is: its decimal string without leading zeros
    (``000101`` and ``101`` are one allocation). ``None`` if ``text`` is not an integer of
    LDT_Nummer (xs:integer, 0–999999999; XML whitespace, a ``+`` sign and any number of
    leading zeros are allowed). Never raises, however many digits ``text`` holds: the digits
    after the leading zeros are counted before :func:`int` sees them (Python refuses to
    convert more than 4,300 digits)."""
    value = text.strip(XML_SPACE)
    if not _INTEGER.fullmatch(value):
        return None
    digits = value.lstrip("+-").lstrip("0") or "0"
    if len(digits) > len(str(NUMMER_MAX)):
        return None
    number = -int(digits) if value.startswith("-") else int(digits)
    if not 0 <= number <= NUMMER_MAX:
        return None
    return str(number)


TOKEN_KIND = "toewijzing"  # noqa: S105 - a label, not a secret
"""The ``kind`` of a ToewijzingNummer's token (:meth:`schemas.pseudonym.Pseudonymiser.token`)."""

TOKEN_PREFIX = "tw-"  # noqa: S105 - a label, not a secret
"""What a published ToewijzingNummer that is a token starts with (a number never does)."""


def published_nummer(nummer: str, pseudonymiser: Pseudonymiser) -> str:
    """What is published of a normalised ToewijzingNummer (:func:`toewijzing_nummer`), in
    ``toewijzing_nummer`` and in the ``bronsleutel``: the number itself, unless it could be a
    BSN (:func:`schemas.pseudonym.holds_bsn`: nine digits that pass the elfproef, not all
    zeros) — then ``tw-`` and its keyed token (32 hex digits, at least four of them letters),
    which the check for BSNs in identifiers takes for a random token.

    Such a number cannot be told apart from a BSN, and the iWmo sender cannot add digits
    (LDT_Nummer ends at 999999999): published as it is, it would be refused
    (``bsn-in-identifier``) and the allocation, its starts and stops lost. The token is the
    same for every message of the same number under the same pseudonym key, so WMO301, 305
    and 307 of one allocation still share it; it is never the pseudonym of a citizen whose BSN
    is that number (the token's input is ``toewijzing`` + the number)."""
    if holds_bsn(nummer):
        return TOKEN_PREFIX + pseudonymiser.token(TOKEN_KIND, nummer)
    return nummer


def toewijzingstijd(text: str) -> str | None:
    """An xs:time without time zone (LDT_Tijd) as fixed-width ``HH:MM:SS.ffffff`` (fraction
    cut or padded to 6 digits); ``None`` if it is not one."""
    match = _TIME.fullmatch(text.strip(XML_SPACE))
    if match is None:
        return None
    hours, minutes, seconds, fraction = match.groups()
    if int(hours) > 24 or int(minutes) > 59 or int(seconds) > 59:
        return None
    return f"{hours}:{minutes}:{seconds}.{(fraction or '')[:6].ljust(6, '0')}"


IDENTIFICATIE_TOKEN_KIND = "bericht"  # noqa: S105 - a label, not a secret
"""The ``kind`` of the token of a BerichtIdentificatie (:meth:`Pseudonymiser.token`)."""

IDENTIFICATIE_TOKEN_PREFIX = "~"  # noqa: S105 - a label, not a secret
"""What an Identificatie replaced by its token starts with in a ``sequence``: after every
printable ASCII character, so such a message sorts after the messages of the same Dagtekening
whose Identificatie is kept (unless theirs starts with a character beyond ASCII)."""

_TOKEN_LETTERS = str.maketrans("0123456789", "ghijklmnop")
"""Hex digits to letters: a token in a sequence holds no digit, so no possible BSN either."""


def sequence_identificatie(identificatie: str, pseudonymiser: Pseudonymiser) -> str:
    """What stands for a message's Identificatie in the ``sequence`` of its products
    (:func:`message_sequence` pads it): the Identificatie itself, unless it holds a possible
    BSN (:func:`schemas.pseudonym.holds_bsn`) as sent or once left-padded with ``0`` to 12
    characters — or anything else the catalogue refuses in an identifier (an e-mail address, a
    tab or other control character: :func:`_unpublishable`) — then ``~`` and 11 letters
    ``a``–``p`` made of its keyed token (``kind`` ``bericht``), 12 characters that hold no digit.

    Asked as sent, because padding hides a BSN without taking it out (``999990111`` becomes
    ``000999990111``, which no check finds); asked padded, because padding can make one
    (``1234567-AB``'s leading digits become nine). The token is the same for the same
    Identificatie under the same pseudonym key, so reading a message again gives the same
    sequences; it orders such a message after the others of its Dagtekening (see
    :data:`IDENTIFICATIE_TOKEN_PREFIX`), and two such messages of one Dagtekening in the order
    of their tokens, not of their Identificaties. ``identificatie`` is at most 12 characters."""
    padded = identificatie.rjust(IDENTIFICATIE_WIDTH, "0")
    if not any(_unpublishable(text) for text in (identificatie, padded)):
        return identificatie
    token = pseudonymiser.token(IDENTIFICATIE_TOKEN_KIND, identificatie)
    letters = token[: IDENTIFICATIE_WIDTH - len(IDENTIFICATIE_TOKEN_PREFIX)]
    return IDENTIFICATIE_TOKEN_PREFIX + letters.translate(_TOKEN_LETTERS)


def _unpublishable(text: str) -> bool:
    """Whether the catalogue check refuses ``text`` in an identifier such as ``sequence``: it
    holds a possible BSN, an e-mail address or IBAN (:func:`schemas.personal.personal_data_in`),
    or a character CloudEvents' ``String`` disallows (:func:`schemas.models.not_allowable`: a
    tab or other control character, a noncharacter — all XSD-valid in an Identificatie)."""
    return holds_bsn(text) or personal_data_in(text) is not None or not_allowable(text)


def message_sequence(dagtekening: str, identificatie: str, position: int) -> str:
    """``Dagtekening/Identificatie/position`` of one product of a message, fixed width.

    ``dagtekening`` is an ISO date, ``identificatie`` at most 12 characters, ``position`` the
    1-based place of the product among the products of its message."""
    if len(identificatie) > IDENTIFICATIE_WIDTH or not 0 < position < 10**POSITION_WIDTH:
        raise ValueError("identificatie longer than 12 characters or position out of range")
    return f"{dagtekening}/{identificatie.rjust(IDENTIFICATIE_WIDTH, '0')}/{position:06d}"


@dataclass(frozen=True)
class Place:
    """Where a product is: its municipality, its ToewijzingNummer as published
    (:func:`published_nummer`), and the message (Dagtekening, Identificatie as the sequence
    shows it: :func:`sequence_identificatie`) and 1-based position it has there."""

    gemeente: str
    nummer: str
    dagtekening: str
    identificatie: str
    position: int

    @property
    def sequence(self) -> str:
        return message_sequence(self.dagtekening, self.identificatie, self.position)


def start_version(place: Place, *, begindatum: str, status: str) -> RecordVersion:
    """The version a WMO305 StartProduct is."""
    return RecordVersion(
        bronsleutel=f"iwmo:wmo305:{place.gemeente}:{place.nummer}:{begindatum}",
        sequence=place.sequence,
        deletion=status == VERWIJDEREN,
    )


def stop_version(
    place: Place, *, begindatum: str, reden_beeindiging: str, status: str
) -> RecordVersion:
    """The version a WMO307 StopProduct is: a temporary and a definitive stop of the same
    start are two records."""
    soort = "tijdelijk" if reden_beeindiging == TIJDELIJK else "definitief"
    return RecordVersion(
        bronsleutel=f"iwmo:wmo307:{place.gemeente}:{place.nummer}:{begindatum}:{soort}",
        sequence=place.sequence,
        deletion=status == VERWIJDEREN,
    )


def allocation_version(
    place: Place,
    *,
    toewijzingsdatum: str,
    toewijzingstijd: str,
    ingangsdatum: str,
    einddatum: str | None,
    reden_wijziging: str | None,
) -> RecordVersion:
    """The version a WMO301 ToegewezenProduct is (``toewijzingstijd`` as returned by
    :func:`toewijzingstijd`)."""
    withdrawn = reden_wijziging in VERWIJDERD and einddatum == ingangsdatum
    return RecordVersion(
        bronsleutel=f"iwmo:wmo301:{place.gemeente}:{place.nummer}",
        sequence=f"{toewijzingsdatum}T{toewijzingstijd}/{place.sequence}",
        deletion=withdrawn,
    )
