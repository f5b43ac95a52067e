"""``schakel adapter vroegsignalering signalen.csv[,acties.csv]``: the vroegsignalering platform.

Two exports (reading, encodings and rejections: :mod:`adapters.csvsource`), recognised by their
header, so either may be given alone and in any order:

- signals ``signaal_id;bsn;partner;datum_signaal;bedrag;dagen_achterstand;dreiging`` →
  ``nl.wgs.vroegsignalen.ontvangen`` (``bedrag`` euros with a decimal comma and optional
  thousands dots → ``bedrag_cent``; ``datum`` = ``datum_signaal``); a repeated ``signaal_id``
  in one file is a duplicate;
- follow-up actions ``signaal_id;bsn;datum;actie`` → ``nl.wgs.vroegsignalen.opgevolgd``; a
  repeated (``signaal_id``, ``datum``, ``actie``) is a duplicate.

Event ids: ``derive_id(source, "signaal", signaal_id)`` and
``derive_id(source, "actie", signaal_id, datum, actie)``; no ``time``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.base import derive_id
from adapters.csvsource import (
    CellError,
    CsvLayout,
    CsvSource,
    enum_value,
    parse_amount_cents,
    parse_date,
    parse_int,
)

SIGNALEN = CsvLayout(
    "signalen",
    ("signaal_id", "bsn", "partner", "datum_signaal", "bedrag", "dagen_achterstand", "dreiging"),
    key=("signaal_id",),
)
ACTIES = CsvLayout(
    "acties", ("signaal_id", "bsn", "datum", "actie"), key=("signaal_id", "datum", "actie")
)

ONTVANGEN = "nl.wgs.vroegsignalen.ontvangen"
OPGEVOLGD = "nl.wgs.vroegsignalen.opgevolgd"


def _required(row: Mapping[str, str], column: str) -> str:
    value = row[column]
    if not value:
        raise CellError(column, "empty; the column is required", reason="missing-field")
    return value


class VroegsignaleringSource(CsvSource):
    """Signals and follow-up actions of the vroegsignalering platform.

    Guarantees (besides :class:`~adapters.csvsource.CsvSource`'s): amounts are converted to
    whole cents exactly (no floating point); an amount that could be read two ways is
    rejected rather than guessed."""

    name = "vroegsignalering"
    layouts = (SIGNALEN, ACTIES)

    def map_row(self, layout: CsvLayout, row: Mapping[str, str]) -> dict[str, Any]:
        signaal_id = _required(row, "signaal_id")
        if layout is SIGNALEN:
            data: dict[str, Any] = {
                "bsn": row["bsn"],
                "datum": parse_date(_required(row, "datum_signaal"), "datum_signaal"),
                "signaal_id": signaal_id,
                "partner": enum_value(_required(row, "partner")),
                "bedrag_cent": parse_amount_cents(_required(row, "bedrag"), "bedrag"),
                "dagen_achterstand": parse_int(
                    _required(row, "dagen_achterstand"), "dagen_achterstand"
                ),
                "dreiging": enum_value(_required(row, "dreiging")),
            }
            event_id = derive_id(self.source, "signaal", signaal_id)
            event_type = ONTVANGEN
        else:
            datum = parse_date(_required(row, "datum"), "datum")
            actie = enum_value(_required(row, "actie"))
            data = {"bsn": row["bsn"], "datum": datum, "signaal_id": signaal_id, "actie": actie}
            event_id = derive_id(self.source, "actie", signaal_id, datum, actie)
            event_type = OPGEVOLGD
        return {
            "specversion": "1.0",
            "id": event_id,
            "source": self.source,
            "type": event_type,
            "data": data,
        }
