"""``schakel adapter sociale-dienst export.csv[,export2.csv]``: the nightly Participatiewet export.

Columns ``bsn;gebeurtenis;datum;regeling;reden;uitkomst;trede;van;traject_id;soort;
uren_per_week;registratie_id`` (reading, encodings and rejections: :mod:`adapters.csvsource`).
``gebeurtenis`` selects one of the seven ``nl.participatiewet.*`` types; only the columns of
that type are read — the others are ignored (never validated, never published), so an export
that fills them for context is not rejected. Dates as ``YYYY-MM-DD`` or ``DD-MM-YYYY``;
``trede`` a whole number; ``uren_per_week`` a number with an optional decimal comma.
Enumerations are matched case-insensitively and validated against the catalogue by the runner.
Event id: ``derive_id(source, registratie_id)``; no ``time`` (the export has no registration
moment, and the read moment would make re-reads differ).

**A row id about the citizen** (:meth:`SocialeDienstSource.row_key`). A ``registratie_id`` that
holds a possible BSN (:func:`schemas.pseudonym.holds_bsn`: a system that numbers its rows by
citizen, ``999990111-3``), an e-mail address or an IBAN (:func:`schemas.personal.personal_data_in`)
is not hashed as it is: a plain SHA-256 of the source URN and a BSN is undone by trying the
10^8 numbers that pass the elfproef, which would tie the BSN to the event and its pseudonym.
The event id and ``bronsleutel`` are derived from its keyed token instead (``rk-`` and
:meth:`~schemas.pseudonym.Pseudonymiser.token` under the pseudonym key, the same for every
version of the row), as ``events.md`` asks of a source key that holds one; without a
pseudonymiser such a row is refused (``bsn-in-identifier`` /
``personal-data-in-identifier``, naming the column).

**Corrections** (``events.md``, "Corrections and deletions"). Every row is a version of the
record ``bronsleutel`` = ``derive_id(source, registratie_id)`` (a digest: a row id never travels
in clear). Without a version column a re-exported row with the same ``registratie_id`` has the
same event id, so the first accepted copy wins and a changed row is *not* picked up; its
``sequence`` is :data:`UNVERSIONED` (ten zeros). An export that adds the column ``versie`` — the
source system's version counter of the row, a whole number, raised on every change — is read
as record versions (layout ``export-versie``): ``sequence`` = ``versie`` zero-padded to 10
digits, event id ``derive_id(source, registratie_id, versie)``; from ``versie`` 1 on such a row
supersedes the row read before the column existed (with ``versie`` 0 the two tie, and the
higher event id wins, as ``events.md`` breaks ties).
A ``versie`` that could be a BSN (nine digits passing the elfproef) is refused
(``bsn-in-identifier``): padded to 10 digits it would be published in ``sequence`` and the
``ce_sequence`` header, where the check of the published value no longer finds it.
The highest ``versie`` of a row is then its current version downstream. The CSV export has no
way to say a row was deleted: a deletion needs the outbox or a ``nl.schakel.bron.verwijderd``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from adapters.base import derive_id
from adapters.csvsource import (
    CellError,
    CsvLayout,
    CsvSource,
    enum_value,
    no_bsn,
    parse_date,
    parse_decimal,
    parse_int,
)
from schemas.envelope import (
    BSN_IN_IDENTIFIER,
    BSN_IN_IDENTIFIER_RULE,
    PERSONAL_DATA_IN_IDENTIFIER,
    personal_data_rule,
)
from schemas.personal import personal_data_in
from schemas.pseudonym import Pseudonymiser, holds_bsn

COLUMNS = (
    "bsn",
    "gebeurtenis",
    "datum",
    "regeling",
    "reden",
    "uitkomst",
    "trede",
    "van",
    "traject_id",
    "soort",
    "uren_per_week",
    "registratie_id",
)
EXPORT = CsvLayout("export", COLUMNS, key=("registratie_id",))
EXPORT_VERSIE = CsvLayout("export-versie", (*COLUMNS, "versie"), key=("registratie_id", "versie"))
"""The export with a version column (see the module docstring)."""
VERSIE_WIDTH = 10
ROW_TOKEN_KIND = "registratie"  # noqa: S105 - a label, not a secret
"""The ``kind`` of the token of a ``registratie_id`` about the citizen
(:meth:`~schemas.pseudonym.Pseudonymiser.token`)."""
ROW_TOKEN_PREFIX = "rk-"  # noqa: S105 - a label, not a secret
"""What the key of such a row starts with (before it is hashed into the id)."""
UNVERSIONED = "0" * VERSIE_WIDTH
"""The ``sequence`` of a row of an export without ``versie``: below every ``versie`` from 1 on,
so an export that adds the column later supersedes what was read before it."""

Cell = Callable[[str, str], Any]
_ENUM: Cell = lambda value, _column: enum_value(value)  # noqa: E731 - a table of parsers
_TEXT: Cell = lambda value, _column: value  # noqa: E731

# gebeurtenis → (event type, {column: parser}) — the data fields of each type
MAPPING: dict[str, tuple[str, dict[str, Cell]]] = {
    "uitkering-toegekend": (
        "nl.participatiewet.uitkeringen.toegekend",
        {"regeling": _ENUM},
    ),
    "uitkering-beeindigd": ("nl.participatiewet.uitkeringen.beeindigd", {"reden": _ENUM}),
    "aanvraag-afgewezen": ("nl.participatiewet.aanvragen.afgewezen", {"reden": _ENUM}),
    "arbeidsvermogen-vastgesteld": (
        "nl.participatiewet.arbeidsvermogen.vastgesteld",
        {"uitkomst": _ENUM, "trede": parse_int},
    ),
    "verwijzing-ontvangen": ("nl.participatiewet.verwijzingen.ontvangen", {"van": _ENUM}),
    "traject-gestart": (
        "nl.participatiewet.trajecten.gestart",
        {"traject_id": _TEXT, "soort": _ENUM, "uren_per_week": parse_decimal},
    ),
    "traject-beeindigd": (
        "nl.participatiewet.trajecten.beeindigd",
        {"traject_id": _TEXT, "reden": _ENUM},
    ),
}


class SocialeDienstSource(CsvSource):
    """The Participatiewet export: one ``nl.participatiewet.*`` event per row.

    Guarantees (besides :class:`~adapters.csvsource.CsvSource`'s): the same row always maps
    to the same event (same id, same data); nothing but the catalogue fields of the row's
    type and ``data.bsn`` is put in the event."""

    name = "sociale-dienst"
    layouts = (EXPORT, EXPORT_VERSIE)

    def __init__(
        self, paths: Sequence[Path], *, source: str, pseudonymiser: Pseudonymiser | None = None
    ) -> None:
        """``pseudonymiser`` is the runner's (the same pseudonym key): it makes the token of a
        ``registratie_id`` about the citizen (:meth:`row_key`)."""
        super().__init__(paths, source=source)
        self._pseudonymiser = pseudonymiser

    def row_key(self, registratie_id: str) -> str:
        """What the event id and ``bronsleutel`` of a row are derived from: ``registratie_id``,
        unless it holds a possible BSN, an e-mail address or an IBAN — then ``rk-`` and its
        keyed token (module docstring), or, without a pseudonymiser, :class:`CellError`."""
        kind = personal_data_in(registratie_id)
        if not holds_bsn(registratie_id) and kind is None:
            return registratie_id
        if self._pseudonymiser is None:
            if kind is None:
                raise CellError("registratie_id", BSN_IN_IDENTIFIER_RULE, reason=BSN_IN_IDENTIFIER)
            raise CellError(
                "registratie_id", personal_data_rule(kind), reason=PERSONAL_DATA_IN_IDENTIFIER
            )
        return ROW_TOKEN_PREFIX + self._pseudonymiser.token(ROW_TOKEN_KIND, registratie_id)

    def map_row(self, layout: CsvLayout, row: Mapping[str, str]) -> dict[str, Any]:
        registratie_id = row["registratie_id"]
        if not registratie_id:
            raise CellError(
                "registratie_id",
                "empty; every row needs the source system's row id",
                reason="missing-field",
            )
        key = self.row_key(registratie_id)
        gebeurtenis = row["gebeurtenis"].lower()
        try:
            event_type, fields = MAPPING[gebeurtenis]
        except KeyError:
            raise CellError(
                "gebeurtenis",
                "unknown value; expected one of " + ", ".join(MAPPING),
                reason="unknown-value" if gebeurtenis else "missing-field",
            ) from None
        data: dict[str, Any] = {"bsn": row["bsn"]}
        if row["datum"]:
            data["datum"] = parse_date(row["datum"], "datum")
        for column, parse in fields.items():
            if row[column]:
                data[column] = parse(row[column], column)
        event = {
            "specversion": "1.0",
            "id": derive_id(self.source, key),
            "source": self.source,
            "type": event_type,
            "data": data,
        }
        event["bronsleutel"] = derive_id(self.source, key)
        event["sequence"] = UNVERSIONED
        if layout is EXPORT_VERSIE:
            if not row["versie"]:
                raise CellError(
                    "versie",
                    "empty; the versioned export needs it on every row",
                    reason="missing-field",
                )
            versie = parse_int(no_bsn(row["versie"], "versie"), "versie")
            event["id"] = derive_id(self.source, key, str(versie))
            event["sequence"] = str(versie).zfill(VERSIE_WIDTH)
        return event
