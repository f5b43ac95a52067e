"""The length bounds of what an input event may carry (schemas.envelope.MAX_ATTRIBUTE_CHARS,
schemas.models.MAX_IDENTIFIER_CHARS): a longer value is refused early, with its field, and
never echoed — it used to reach Kafka, which refused the record for its size."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from schemas.envelope import MAX_ATTRIBUTE_CHARS, MAX_URI_CHARS, validate_input
from schemas.exceptions import InvalidEvent
from schemas.models import MAX_IDENTIFIER_CHARS
from schemas.pseudonym import Pseudonymiser

WT = "urn:nld:oin:00000001234567890000:systeem:wijkteam"
PSEUDONYMISE = Pseudonymiser("limits-test-key")


def event(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "specversion": "1.0",
        "id": "wt-1",
        "source": WT,
        "type": "nl.wijkteams.casussen.geopend",
        "data": {"bsn": "999990111", "datum": "2026-01-10", "casus_id": "W-1"},
    }
    raw.update(over)
    return raw


def time_of(chars: int) -> str:
    """An RFC 3339 time of ``chars`` characters (a long fraction of a second)."""
    return "2026-01-10T09:30:00." + "1" * (chars - 26) + "+01:00"


def data(**over: Any) -> dict[str, Any]:
    return {"bsn": "999990111", "datum": "2026-01-10", "casus_id": "W-1", **over}


# (field, the event with a value of `chars` characters in it)
CASES: list[tuple[str, Any]] = [
    ("id", lambda chars: event(id="i" * chars)),
    ("source", lambda chars: event(source="urn:" + "s" * (chars - 4))),
    ("time", lambda chars: event(time=time_of(chars))),
    ("datacontenttype", lambda chars: event(datacontenttype="application/" + "j" * (chars - 12))),
    ("dataschema", lambda chars: event(dataschema="https://x/" + "d" * (chars - 10))),
    ("dataref", lambda chars: event(dataref="https://x/" + "d" * (chars - 10))),
    ("bronsleutel", lambda chars: event(bronsleutel="b" * chars, sequence="1")),
    ("sequence", lambda chars: event(bronsleutel="b", sequence="0" * chars)),
    ("data.casus_id", lambda chars: event(data=data(casus_id="c" * chars))),
]


def limit_of(name: str) -> int:
    return MAX_IDENTIFIER_CHARS if name.startswith("data.") else MAX_ATTRIBUTE_CHARS[name]


@pytest.mark.parametrize(("name", "make"), CASES, ids=[c[0] for c in CASES])
def test_a_value_longer_than_its_bound_is_too_large(name: str, make: Any) -> None:
    limit = limit_of(name)
    validate_input(make(limit), PSEUDONYMISE)  # at the bound: accepted
    with pytest.raises(InvalidEvent) as refused:
        validate_input(make(limit + 1), PSEUDONYMISE)
    assert (refused.value.reason, refused.value.field) == ("too-large", name)
    assert f"longer than {limit} characters" in str(refused.value)
    assert len(str(refused.value)) < 100  # the value is not echoed


def test_the_bounds_are_the_ones_docs_adapters_md_gives() -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "adapters.md").read_text()
    section = text.split("## Length bounds", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    documented: dict[str, int] = {}
    for row in rows[2:]:  # after the header and its rule
        names, bound = row.strip("|").split("|")
        for name in re.findall(r"`([a-z_]+)`", names):
            documented[name] = int(bound.strip())
    identifiers = ("casus_id", "traject_id", "signaal_id", "toewijzing_nummer")
    assert documented == {
        **dict(MAX_ATTRIBUTE_CHARS),
        **dict.fromkeys(identifiers, MAX_IDENTIFIER_CHARS),
    }
    assert MAX_ATTRIBUTE_CHARS["dataschema"] == MAX_URI_CHARS


@pytest.mark.parametrize("field", ["traject_id", "signaal_id", "toewijzing_nummer"])
def test_every_identifier_in_data_is_bounded(field: str) -> None:
    types = {
        "traject_id": ("nl.participatiewet.trajecten.beeindigd", {"reden": "werk"}),
        "signaal_id": ("nl.wgs.vroegsignalen.opgevolgd", {"actie": "gesprek"}),
        "toewijzing_nummer": ("nl.wmo.voorzieningen.gestart", {}),
    }
    event_type, rest = types[field]
    body = {"bsn": "999990111", "datum": "2026-01-10", **rest, field: "n" * 257}
    with pytest.raises(InvalidEvent) as refused:
        validate_input(event(type=event_type, data=body), PSEUDONYMISE)
    assert (refused.value.reason, refused.value.field) == ("too-large", f"data.{field}")


def test_a_600_kb_id_is_refused_before_anything_else_is_checked() -> None:
    # the review's case: a 600 KB id on a JSON-lines line went on to Kafka
    with pytest.raises(InvalidEvent) as refused:
        validate_input(event(id="wt-" + "x" * 600_000), PSEUDONYMISE)
    assert (refused.value.reason, refused.value.field) == ("too-large", "id")
