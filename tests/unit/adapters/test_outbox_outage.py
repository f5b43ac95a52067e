"""Which database errors of the outbox are outages (``SourceUnavailable``: waited out, exit
75) and which must be fixed (``AdapterError``: exit 2). The texts are libpq's, as psycopg
gives them while connecting (without a SQLSTATE); the server tests are in
tests/integration/adapters/test_outbox.py."""

from __future__ import annotations

import psycopg
import pytest

from adapters.outbox import _outage

AT = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: '


@pytest.mark.parametrize(
    "text",
    [
        AT + "Connection refused\n\tIs the server running on that host?",
        AT + "timeout expired",
        'connection failed: could not translate host name "db" to address',
        "consuming input failed: server closed the connection unexpectedly",
        AT + "FATAL:  the database system is starting up",
        AT + "FATAL:  the database system is shutting down",
        AT + "FATAL:  sorry, too many clients already",
        AT + "FATAL:  remaining connection slots are reserved for roles with SUPERUSER",
        AT + "FATAAL:  database »x« bestaat niet",  # not English: taken for an outage
    ],
)
def test_no_answer_or_a_refusal_for_now_is_an_outage(text: str) -> None:
    assert _outage(psycopg.OperationalError(text))


@pytest.mark.parametrize(
    "text",
    [
        AT + 'FATAL:  database "no_such_db" does not exist',
        AT + 'FATAL:  role "x" does not exist',
        AT + 'FATAL:  password authentication failed for user "x"',
        AT + "FATAL:  no pg_hba.conf entry for host",
    ],
)
def test_a_refusal_to_fix_is_not(text: str) -> None:
    assert not _outage(psycopg.OperationalError(text))


def test_errors_other_than_operational_are_not() -> None:
    assert not _outage(psycopg.ProgrammingError("syntax"))
    assert not _outage(psycopg.errors.UndefinedTable("relation does not exist"))
    assert not _outage(psycopg.errors.InsufficientPrivilege("permission denied"))


def test_sqlstates_of_a_database_gone_for_now_are_outages() -> None:
    assert _outage(psycopg.errors.AdminShutdown("terminating connection"))  # 57P01
    assert _outage(psycopg.errors.CannotConnectNow("starting up"))  # 57P03
    assert _outage(psycopg.errors.TooManyConnections("too many"))  # 53300
    assert not _outage(psycopg.errors.InvalidPassword("password"))  # 28P01
