"""What the audit record of an API read says (docs/operations.md, "Audit guarantee"): the
method, the endpoint and the validated parameters in ``wat`` — never the purpose, never a
value as typed — and that a 404 for a path segment that is no pseudonym is audited too,
without the segment (it may be a BSN)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.signals import EmittedSignal

from .api_harness import REGISSEUR, serve

BSN = "123456782"


def signal(regel: str, status: str, sinds: date) -> EmittedSignal:
    return EmittedSignal(
        regel=regel,
        sleutel="k",
        sinds=sinds,
        termijn=None,
        status=status,  # type: ignore[arg-type]  # one of the three, as given
        opgelost_op=None,
        ingetrokken_op=None,
        bewijs=("e1",),
        uitleg="u",
        reden=None,
    )


SIGNALS = [
    (f"{1:032x}", signal("r1", "open", date(2026, 1, 1))),
    (f"{2:032x}", signal("r1", "open", date(2026, 1, 2))),
    (f"{3:032x}", signal("r2", "ingetrokken", date(2026, 1, 3))),
    (f"{4:032x}", signal("r2", "opgelost", date(2026, 1, 4))),
]


def reads(method: str, paths: list[str], headers: dict[str, str] = REGISSEUR) -> list[Any]:
    """(status, audit records) after ``method`` on each path of an API over :data:`SIGNALS`."""

    async def run() -> list[Any]:
        async with serve(signals=SIGNALS, rule_ids=frozenset({"r3"})) as api:
            statuses = []
            for path in paths:
                response = await api.client.request(method, path, headers=headers)
                statuses.append(response.status)
            return [statuses, api.audit.records]

    return asyncio.run(run())


def test_the_signal_list_record_names_the_query_normalised() -> None:
    statuses, records = reads(
        "GET",
        [
            "/api/v1/signalen?pagina=1&per_pagina=1",
            "/api/v1/signalen?per_pagina=1&pagina=2",
            "/api/v1/signalen?status=ingetrokken",
            "/api/v1/signalen",
            "/api/v1/signalen?tot=2026-01-03&van=2026-01-02&regel=r1&page=02&status=open",
            "/api/v1/signalen?regel=r3",  # a rule of the rule set without signals
            "/api/v1/signalen?status=weg",  # 400: nothing read, not audited
            "/api/v1/signalen?van=1",
        ],
    )
    assert statuses == [200] * 6 + [400, 400]
    assert [r["wat"] for r in records] == [
        "GET /api/v1/signalen?pagina=1&per_pagina=1",
        "GET /api/v1/signalen?pagina=2&per_pagina=1",
        "GET /api/v1/signalen?status=ingetrokken&pagina=1&per_pagina=50",
        "GET /api/v1/signalen?pagina=1&per_pagina=50",
        "GET /api/v1/signalen?status=open&regel=r1&van=2026-01-02&tot=2026-01-03"
        "&pagina=2&per_pagina=50",
        "GET /api/v1/signalen?regel=r3&pagina=1&per_pagina=50",
    ]
    assert {r["subject"] for r in records} == {None}


def test_the_record_holds_no_value_as_typed_and_not_the_purpose() -> None:
    # a BSN as a rule id (a valid rule-id syntax), the purpose in the query
    statuses, records = reads(
        "GET",
        [f"/api/v1/signalen?regel={BSN}&doel=casusoverleg+over+{BSN}"],
        headers={"Authorization": "Bearer token-anna"},
    )
    assert statuses == [200]
    (record,) = records
    assert record["wat"] == "GET /api/v1/signalen?regel=[onbekend]&pagina=1&per_pagina=50"
    assert "casusoverleg" not in record["wat"]
    assert BSN not in record["wat"]


def test_a_head_is_recorded_as_a_head() -> None:
    statuses, records = reads("HEAD", ["/api/v1/signalen?status=open"])
    assert statuses == [200]
    assert [r["wat"] for r in records] == [
        "HEAD /api/v1/signalen?status=open&pagina=1&per_pagina=50"
    ]
    # an endpoint without parameters: the method and the path, whatever the query holds
    statuses, records = reads(
        "HEAD",
        ["/api/v1/configuratie?pagina=7"],
        headers={"Authorization": "Bearer token-bert", "X-Doel": "beheer van de koppeling"},
    )
    assert statuses == [200]
    assert [r["wat"] for r in records] == ["HEAD /api/v1/configuratie"]


def test_a_path_segment_that_is_no_pseudonym_is_audited_without_it() -> None:
    async def run() -> None:
        async with serve() as api:
            for segment in (BSN, "0123456789ABCDEF0123456789ABCDEF", "x" * 40):
                response = await api.client.get(
                    f"/api/v1/burgers/{segment}/tijdlijn", headers=REGISSEUR
                )
                assert response.status == 404
                text = await response.text()
                assert segment not in text
                assert await response.json() == {"fout": "pseudoniem: onbekend"}
            assert (
                api.audit.records
                == [
                    {
                        "wie": "anna",
                        "rol": "regisseur",
                        "doel": "casusoverleg",
                        "wat": "GET /api/v1/burgers/[ongeldig]/tijdlijn",
                        "subject": None,
                    }
                ]
                * 3
            )
            # no audit record, no answer: not even this 404
            api.audit.fail = True
            response = await api.client.get(f"/api/v1/burgers/{BSN}/tijdlijn", headers=REGISSEUR)
            assert response.status == 503
            assert response.headers["Retry-After"] == "5"

    asyncio.run(run())


def test_a_page_number_that_could_be_a_bsn_is_refused_not_echoed() -> None:
    """``pagina`` is echoed in the answer and in ``wat``: above 1,000,000 (seven digits) it is
    refused, so a nine-digit number that could be a BSN is never echoed (review F4)."""

    async def run() -> list[Any]:
        async with serve(signals=SIGNALS, rule_ids=frozenset({"r3"})) as api:
            out = []
            for page in (BSN, "1000001", "1000000"):
                response = await api.client.get(
                    f"/api/v1/signalen?pagina={page}", headers=REGISSEUR
                )
                out.append((response.status, await response.text()))
            return [out, api.audit.records]

    answers, records = asyncio.run(run())
    assert [status for status, _ in answers] == [400, 400, 200]
    assert all(BSN not in text for _, text in answers)
    assert BSN not in str(records)
    assert [r["wat"] for r in records] == ["GET /api/v1/signalen?pagina=1000000&per_pagina=50"]


@given(st.dates(date(1, 1, 1), date(9999, 12, 31)), st.sampled_from(["van", "tot"]))
@settings(max_examples=25)
def test_a_date_parameter_is_an_iso_date_in_its_extended_form_only(day: date, name: str) -> None:
    """``van`` and ``tot`` are ``JJJJ-MM-DD``: Python 3.11 also reads ``20260101`` and other
    ISO forms, which the API refuses (its document says ``format: date``) — 400, nothing read,
    nothing audited (review G, M2: the check was untested)."""
    other_forms = [
        day.strftime("%Y%m%d"),  # ISO 8601 basic
        f"{day.isocalendar().year:04d}-W{day.isocalendar().week:02d}-{day.isoweekday()}",
        f"{day.isoformat()}T00:00",
        f"{day.year}-{day.month}-{day.day}" if day.month < 10 or day.day < 10 else " " + str(day),
    ]
    paths = [f"/api/v1/signalen?{name}={form}" for form in other_forms]
    statuses, records = reads("GET", [f"/api/v1/signalen?{name}={day.isoformat()}", *paths])
    assert statuses == [200] + [400] * len(paths)
    assert [r["wat"] for r in records] == [
        f"GET /api/v1/signalen?{name}={day.isoformat()}&pagina=1&per_pagina=50"
    ]
