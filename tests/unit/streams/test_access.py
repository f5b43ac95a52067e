"""API tokens compared in constant time, and the role matrix (streams/access.py)."""

from __future__ import annotations

import hmac

import pytest

from schemas.settings import ROLES, ApiToken
from streams.access import ROLE_MATRIX, AccessDenied, authenticate, authorize, find_token

CLIENTS = [
    ApiToken("anna", "regisseur", "token-anna-0123456789"),
    ApiToken("bert", "beheerder", "token-bert-0123456789"),
    ApiToken("carla", "auditor", "token-carla-012345678"),
    ApiToken("dirk", "regisseur", "x"),
]


@pytest.fixture
def comparisons(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, bytes]]:
    """Every call of ``hmac.compare_digest`` made by streams.access."""
    calls: list[tuple[bytes, bytes]] = []
    compare = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    return calls


@pytest.mark.parametrize(
    "presented",
    [c.token for c in CLIENTS] + ["", "token-anna", "token-anna-0123456789x", "t" * 10_000],
)
def test_every_token_is_compared_whichever_matches(
    comparisons: list[tuple[bytes, bytes]], presented: str
) -> None:
    found = find_token(CLIENTS, presented)
    assert found is next((c for c in CLIENTS if c.token == presented), None)
    assert len(comparisons) == len(CLIENTS)  # no early exit on a match
    # digests of equal length: the length of a token does not show in the comparison
    assert {len(a) for a, _ in comparisons} | {len(b) for _, b in comparisons} == {32}


def test_a_bearer_token_is_required() -> None:
    for header in ("", "Bearer", "Bearer   ", "Basic dG9rZW4tYW5uYQ==", "token-anna-0123456789"):
        with pytest.raises(AccessDenied) as refused:
            authenticate(CLIENTS, header)
        assert refused.value.status == 401
    with pytest.raises(AccessDenied) as refused:
        authenticate(CLIENTS, "Bearer token-anna-012345678X")
    assert refused.value.status == 401
    assert "token-anna" not in str(refused.value)
    assert authenticate(CLIENTS, "bearer  token-bert-0123456789 ").name == "bert"


def test_the_role_matrix() -> None:
    allowed = {(e, r) for e, roles in ROLE_MATRIX.items() for r in roles}
    assert allowed == {
        ("signalen", "regisseur"),
        ("tijdlijn", "regisseur"),
        ("deadletters", "beheerder"),
        ("configuratie", "beheerder"),
        ("inzage", "auditor"),
    }
    for endpoint in ROLE_MATRIX:
        for role in ROLES:
            client = ApiToken("iemand", role, "geheim")
            if (endpoint, role) in allowed:
                authorize(client, endpoint)
            else:
                with pytest.raises(AccessDenied) as refused:
                    authorize(client, endpoint)
                assert refused.value.status == 403
                assert "geheim" not in str(refused.value)
