"""The outbox adapter never shows the password of its DSN (``SCHAKEL_OUTBOX_DSN``), whatever
psycopg makes of it: a DSN it cannot parse is reported by the class of the error and the
variable to check, without psycopg's text (which quotes the offending part: the password);
a DSN it parses differently from what was meant (an unencoded ``@`` or ``/`` in the password)
is reported the same way, before any connection attempt; the detail of a connection error
after the DSN parsed is kept, with the password taken out."""

from __future__ import annotations

from typing import Any, NoReturn
from urllib.parse import quote

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.exceptions import AdapterError
from adapters.outbox import OutboxSource
from schemas.pseudonym import Pseudonymiser

PREFIX = "outbox: cannot connect to the database: "
SYNTAX = "check the syntax of SCHAKEL_OUTBOX_DSN"
CLOSED = "127.0.0.1:1"  # nothing listens: a refused connection, no DNS


def failure(dsn: str) -> str:
    """The message of the error the source raises when it first connects."""
    source = OutboxSource(dsn, pseudonymiser=Pseudonymiser("unit-test-key"))
    with pytest.raises(AdapterError) as info:
        list(source.records({}))
    return str(info.value)


@pytest.mark.parametrize(
    ("dsn", "error"),
    [
        (f"postgresql://schakel:Zo%Geheim2024@{CLOSED}/bron", "ProgrammingError"),
        (f"postgresql://schakel:Zo Geheim2024@{CLOSED}/bron", "ProgrammingError"),
        ("host=127.0.0.1 port=1 password='Zo'Geheim2024'", "ProgrammingError"),
    ],
)
def test_a_dsn_psycopg_cannot_parse_names_the_class_and_the_variable(dsn: str, error: str) -> None:
    message = failure(dsn)
    assert message.startswith(f"{PREFIX}{error}: "), message
    assert SYNTAX in message
    assert "Geheim" not in message


@pytest.mark.parametrize(
    "password",
    ["ab@cdGeheim", "ab/cdGeheim", "a@b/cGeheim", "a/b@cGeheim"],
)
def test_a_password_psycopg_would_misread_is_a_syntax_error_before_any_connection(
    password: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libpq ends the user info at the first ``@`` or ``/``: the rest of the password becomes
    the host (looked up in DNS, and quoted in the error), the port or the database name."""

    def no_connection(*args: Any, **kwargs: Any) -> NoReturn:
        raise AssertionError("connected with a DSN that does not say what was meant")

    monkeypatch.setattr(psycopg, "connect", no_connection)
    message = failure(f"postgresql://schakel:{password}@{CLOSED}/bron")
    assert message.startswith(PREFIX), message
    assert SYNTAX in message and "percent-encode" in message
    assert "Geheim" not in message


def test_the_detail_of_a_connection_error_is_kept_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    password = "Zo%Geheim2024"

    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise psycopg.OperationalError(
            f'connection failed: FATAL: password "{password}" authentication failed for user '
            f'"schakel" ({quote(password, safe="")})\nsecond line'
        )

    monkeypatch.setattr(psycopg, "connect", refuse)
    message = failure(f"postgresql://schakel:{quote(password, safe='')}@{CLOSED}/bron")
    assert message.startswith(f"{PREFIX}OperationalError: connection failed: FATAL: password")
    assert 'for user "schakel"' in message and "second line" not in message
    assert "Geheim" not in message
    assert "***" in message


# Letters that no message of psycopg or libpq holds: a run of four characters of the
# password with one of them in the message is a piece of the password.
MARKERS = "QXZJKVW"
PASSWORDS = st.text(alphabet=MARKERS + "%@/:?#&=+ '\"\\,;!$[]ÄÖß€09", min_size=6, max_size=24)


def pieces(password: str) -> list[str]:
    return [
        password[i : i + 4]
        for i in range(len(password) - 3)
        if any(c in MARKERS for c in password[i : i + 4])
    ]


def kv_quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(password=PASSWORDS, form=st.sampled_from(["url", "url-encoded", "key-value"]))
def test_no_piece_of_the_password_is_ever_shown(password: str, form: str) -> None:
    """Whatever characters the password holds and however it is written: the message names
    the problem and holds no run of four of the password's characters."""
    dsn = {
        "url": f"postgresql://schakel:{password}@{CLOSED}/bron",
        "url-encoded": f"postgresql://schakel:{quote(password, safe='')}@{CLOSED}/bron",
        "key-value": f"host=127.0.0.1 port=1 user=schakel password={kv_quoted(password)}",
    }[form]
    message = failure(dsn)
    assert message.startswith(PREFIX), message
    assert password not in message
    assert not [piece for piece in pieces(password) if piece in message], message
