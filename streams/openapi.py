"""The OpenAPI 3.1 description of the worker's HTTP API (:mod:`streams.api`): the one source of
``GET /api/v1/openapi.json`` and of the committed ``docs/openapi.json``
(``python -m streams.openapi --write`` regenerates it; a test checks they are equal).

It describes what :mod:`streams.api` and :mod:`streams.webserver` do: bearer tokens (401),
the role matrix (403, :data:`streams.access.ROLE_MATRIX`), the purpose as header ``X-Doel`` or
query ``doel`` (400), the endpoints' own checks (400/404), the audit record before the answer
(503 with ``Retry-After``; 502 when the schema registry refuses the worker), errors as
``{"fout": …}``, pagination, and the signal and timeline shapes. The document itself
describes no data and is served without a token.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from schemas.http_headers import WWW_AUTHENTICATE
from schemas.wire import REASON_CODE, UNKNOWN_REASON
from streams.access import ROLE_MATRIX

OPENAPI_PATH = "/api/v1/openapi.json"
DOC_FILE = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"
MAX_PER_PAGE = 500
"""Largest ``per_pagina`` (that of :mod:`streams.api`)."""
MAX_PAGE = 1_000_000
"""Largest ``pagina`` (that of :mod:`streams.api`): seven digits at most, so the value echoed
in the answer and the audit record can never be a nine-digit number, which could be a BSN."""

_DATE = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
_NULL_DATE = {"anyOf": [_DATE, {"type": "null"}]}
_PSEUDONYM = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
_REASON_PATTERN = f"^(?:{REASON_CODE.pattern}|{re.escape(UNKNOWN_REASON)})$"
"""A dead letter's ``reden``: a code (:data:`schemas.wire.REASON_CODE`) or ``?``."""


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
    }


def _schemas() -> dict[str, Any]:
    signal = _obj(
        {
            "regel": {"type": "string", "description": "Rule id (docs/rules.md)."},
            "subject": _PSEUDONYM,
            "sleutel": {"type": "string", "description": "The signal's key within its rule."},
            "sinds": _DATE,
            "status": {"type": "string", "enum": ["open", "opgelost", "ingetrokken"]},
            "termijn": _NULL_DATE,
            "bewijs": {"type": "array", "items": {"type": "string"}},
            "uitleg": {"type": "string"},
            "opgelost_op": _NULL_DATE,
        }
    )
    page = {
        "pagina": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
        "per_pagina": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        "totaal": {"type": "integer", "minimum": 0},
    }
    event = _obj(
        {
            "id": {"type": "string"},
            "source": {"type": "string"},
            "type": {"type": "string"},
            "domein": {"type": "string"},
            "datum": _DATE,
            "time": {"type": ["string", "null"]},
            "data": {"type": "object", "description": "The event's data fields, JSON-typed."},
        }
    )
    period = _obj(
        {
            "naam": {"type": "string"},
            "sleutel": {"type": ["string", "null"]},
            "van": _DATE,
            "tot": _NULL_DATE,
        }
    )
    nullable_text = {"type": ["string", "null"]}
    return {
        "Fout": {
            **_obj({"fout": {"type": "string", "maxLength": 200}}),
            "additionalProperties": False,
            "description": "An error: the field or rule broken, never the submitted value.",
        },
        "Signaal": signal,
        "Signalen": _obj({"signalen": {"type": "array", "items": _ref("Signaal")}, **page}),
        "Tijdlijn": _obj(
            {
                "subject": _PSEUDONYM,
                "klok": _NULL_DATE,
                "tijdlijn": {
                    "type": "array",
                    "items": event,
                    "description": "The citizen's events ordered by datum.",
                },
                "toestand": {"type": "array", "items": period},
                "signalen": {
                    "type": "array",
                    "items": _ref("Signaal"),
                    "description": "Open signals.",
                },
                "alle_signalen": {"type": "array", "items": _ref("Signaal")},
            }
        ),
        "Deadletters": _obj(
            {
                "deadletters": {
                    "type": "array",
                    "items": _obj(
                        {
                            "tijd": {
                                "type": ["string", "null"],
                                "format": "date-time",
                                "description": "The record's Kafka time; null if it is no "
                                "date from the year 1 to 9999 (any producer may write any).",
                            },
                            "offset": {"type": "integer"},
                            "bron": _obj(
                                {
                                    "topic": nullable_text,
                                    "partitie": nullable_text,
                                    "offset": nullable_text,
                                }
                            ),
                            "fase": nullable_text,
                            "klasse": nullable_text,
                            "reden": {
                                "type": ["string", "null"],
                                "pattern": _REASON_PATTERN,
                                "description": "Why it was refused: the refusal's code as the "
                                "worker's metric labels it (header schakel.fout.reden: "
                                "wrong-type, history-limit, …, or the error class); '?' for a "
                                "header that holds no code; null for a dead letter written "
                                "before the header existed.",
                            },
                            "weggelaten": {
                                "type": ["integer", "null"],
                                "minimum": 0,
                                "description": "The size in bytes of the original's value "
                                "when the dead letter was written without it (it did not "
                                "fit; read the original at bron), else null.",
                            },
                            "weggelaten_overig": {
                                "type": ["integer", "null"],
                                "minimum": 0,
                                "description": "The size in bytes of the original's key and "
                                "headers when they were left out too, else null.",
                            },
                            "achtergehouden": {
                                "type": "boolean",
                                "description": "True when nothing of the original was copied "
                                "because it holds a possible BSN where none may be, or an "
                                "e-mail address or an IBAN in an identifier (correct it at "
                                "the source), not for its size.",
                            },
                        }
                    ),
                },
                **page,
            }
        ),
        "Configuratie": _obj(
            {
                "profiel": {"type": "string"},
                "klok": {"type": "string"},
                "partities": {"type": "integer"},
                "replicatie": {"type": "integer"},
                "opslag": {"type": "string"},
                "historie_limiet": {"type": "integer"},
                "timer_interval_s": {"type": "number"},
                "tijdzone": {
                    "type": "string",
                    "description": "Where the live clock's today is the date "
                    "(SCHAKEL_TIMEZONE, an IANA name).",
                },
                "schema_registry": {"type": "string", "enum": ["extern", "lokaal"]},
                "kafka_beveiliging": {
                    "type": "string",
                    "enum": ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"],
                    "description": "How the worker connects to Kafka "
                    "(SCHAKEL_KAFKA_SECURITY_PROTOCOL); never a password or key.",
                },
                "regels": _obj(
                    {
                        "actief": {"type": "array", "items": {"type": "string"}},
                        "uitgeschakeld": {"type": "array", "items": {"type": "string"}},
                    }
                ),
                "api_clients": {
                    "type": "array",
                    "items": _obj({"naam": {"type": "string"}, "rol": {"type": "string"}}),
                },
            }
        ),
        "Inzage": _obj(
            {
                "inzage": {
                    "type": "array",
                    "items": _obj(
                        {
                            "id": {"type": ["string", "null"]},
                            "subject": {"type": ["string", "null"]},
                            "wie": {"type": ["string", "null"]},
                            "rol": {"type": ["string", "null"]},
                            "doel": {"type": ["string", "null"]},
                            "wat": {"type": ["string", "null"]},
                            "tijd": {
                                "type": ["string", "null"],
                                "description": "The audit record's time; for a row onleesbaar "
                                "the record's Kafka time, null if it is no date from the year "
                                "1 to 9999.",
                            },
                            "onleesbaar": {
                                "type": "boolean",
                                "description": "A record on the topic that is no audit record "
                                "(any producer may write there): its time and offset only, "
                                "the other fields null.",
                            },
                            "offset": {
                                "type": "integer",
                                "minimum": 0,
                                "description": "The record's offset on schakel.inzage.",
                            },
                        }
                    ),
                },
                **page,
            }
        ),
    }


def _error(description: str, retry: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref("Fout")}},
    }
    if retry:
        answer["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}
        }
    return answer


_ERRORS = {
    "400": _error(
        "A missing or invalid purpose (`doel`), or an invalid parameter; also a malformed request."
    ),
    "401": {
        **_error("Authorization: missing, not a bearer token, or unknown."),
        "headers": {
            "WWW-Authenticate": {
                "schema": {"type": "string", "const": WWW_AUTHENTICATE},
                "description": "RFC 6750 §3: the scheme and the realm, nothing else.",
            }
        },
    },
    "403": _error("The client's role may not call this endpoint."),
    "502": _error(
        "The schema registry refuses the worker (its credentials or certificates, or a schema "
        "not registered): a misconfiguration, logged as api.registry_refused; no answer, not "
        "audited, and no Retry-After: retrying does not help until it is mended."
    ),
    "503": _error(
        "The audit record could not be written (or the topic read) in time: no answer.",
        retry=True,
    ),
}

_PAGING = [
    {"$ref": "#/components/parameters/pagina"},
    {"$ref": "#/components/parameters/per_pagina"},
]
_PURPOSE = [{"$ref": "#/components/parameters/X-Doel"}, {"$ref": "#/components/parameters/doel"}]


def _operation(
    endpoint: str,
    summary: str,
    body: str,
    parameters: list[dict[str, Any]],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    roles = ", ".join(sorted(ROLE_MATRIX[endpoint]))
    return {
        "get": {
            "operationId": endpoint,
            "summary": summary,
            "description": f"Role: {roles}. Audited before the answer (`X-Inzage-Id`).",
            "tags": ["api"],
            "security": [{"bearer": []}],
            "parameters": [*_PURPOSE, *parameters],
            "responses": {
                "200": {
                    "description": "The answer; its audit record's id in `X-Inzage-Id`.",
                    "headers": {"X-Inzage-Id": {"schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": _ref(body)}},
                },
                **_ERRORS,
                **(extra or {}),
            },
        }
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _paths() -> dict[str, Any]:
    def public(summary: str, responses: dict[str, Any]) -> dict[str, Any]:
        return {
            "get": {"summary": summary, "tags": ["beheer"], "security": [], "responses": responses}
        }

    def json_ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": schema}}}

    timeline_errors = {
        "404": {
            **_error(
                "pseudoniem: unknown or erased, or not a pseudonym (the request is audited; "
                "its audit record's id in `X-Inzage-Id`)."
            ),
            "headers": {"X-Inzage-Id": {"schema": {"type": "string"}}},
        },
        "503": _error(
            "The audit record could not be written in time, or the worker that owns the "
            "citizen's partition is not known (partitions being rebalanced) or did not "
            "answer, or the worker is not ready and its table does not hold the citizen (it "
            "may not be restored yet): no answer.",
            retry=True,
        ),
    }
    return {
        "/api/v1/signalen": _operation(
            "signalen",
            "Signals, newest `sinds` first, paginated",
            "Signalen",
            [
                _query(
                    "status",
                    {"type": "string", "enum": ["open", "opgelost", "ingetrokken"]},
                    "Default: open and opgelost.",
                ),
                _query("regel", {"type": "string"}, "A rule id."),
                _query("van", _DATE, "Only signals with `sinds` on or after this date."),
                _query("tot", _DATE, "Only signals with `sinds` on or before this date."),
                *_PAGING,
            ],
            {
                "503": _error(
                    "The audit record could not be written in time, or the read model has "
                    "not caught up with the timelines yet: no answer.",
                    retry=True,
                )
            },
        ),
        "/api/v1/burgers/{pseudonym}/tijdlijn": _operation(
            "tijdlijn",
            "A citizen's timeline, derived state and signals",
            "Tijdlijn",
            [{"name": "pseudonym", "in": "path", "required": True, "schema": _PSEUDONYM}],
            timeline_errors,
        ),
        "/api/v1/deadletters": _operation(
            "deadletters",
            "Streams dead letters, newest first (not the record, not the message)",
            "Deadletters",
            _PAGING,
        ),
        "/api/v1/configuratie": _operation(
            "configuratie",
            "The worker's effective settings and rules (no secrets)",
            "Configuratie",
            [],
        ),
        "/api/v1/inzage": _operation(
            "inzage",
            "The audit trail, newest first",
            "Inzage",
            _PAGING,
            {
                "503": _error(
                    "The audit record could not be written in time, the topic not read, or "
                    "its records not decoded (the schema registry unreachable): no answer.",
                    retry=True,
                )
            },
        ),
        OPENAPI_PATH: public(
            "This document (no token: it describes no data)",
            {"200": json_ok({"type": "object"})},
        ),
        "/metrics": public(
            "Prometheus exposition",
            {
                "200": {
                    "description": "OK",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        ),
        "/health": public(
            "Liveness",
            {"200": json_ok(_obj({"status": {"const": "ok"}}))},
        ),
        "/ready": public(
            "Readiness",
            {
                "200": json_ok(_obj({"ready": {"const": True}})),
                "503": json_ok(_obj({"ready": {"const": False}}), "Not ready."),
            },
        ),
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh dict on every call)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Schakel worker HTTP API",
            "version": "1",
            "description": (
                "Signals and citizens' timelines for case coordinators (regisseur), "
                "operational data (beheerder), the audit trail (auditor). Every `/api/v1` "
                "request but this document needs a bearer token and a purpose (header "
                "`X-Doel` or query `doel`; the header wins); checks run in the order "
                "token (401), role (403), purpose (400), the endpoint's own (400/404), "
                "audit (503; 502 when the schema registry refuses the worker). See "
                "docs/api.md."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token of SCHAKEL_API_TOKENS (name:role:token).",
                }
            },
            "parameters": {
                "X-Doel": {
                    "name": "X-Doel",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 200},
                    "description": (
                        "The purpose of the request: real words (one of at least three "
                        "letters), at most 200 characters, no invisible characters; BSNs "
                        "and full dates are masked before it is stored. Required unless "
                        "given as query `doel`."
                    ),
                },
                "doel": _query(
                    "doel",
                    {"type": "string", "maxLength": 200},
                    "The purpose, if not given as header `X-Doel`.",
                ),
                "pagina": _query(
                    "pagina", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "Default 1."
                ),
                "per_pagina": _query(
                    "per_pagina",
                    {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                    "Default 50.",
                ),
            },
            "schemas": _schemas(),
        },
    }


def render() -> str:
    """The document as committed in ``docs/openapi.json``."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the document, or ``--write`` it to ``docs/openapi.json``."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    if args.write:
        DOC_FILE.write_text(render(), encoding="utf-8")
    else:
        print(render(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
