"""The comment of ``config.extraEnv`` in the chart's values.yaml — what an operator reads
while writing the values — names every kind of name the chart refuses there at install
(``templates/_validate.tpl``). Reproduction: since the chart refuses a ``SCHAKEL_`` name
that is no setting (misspelt, or in small letters), the comment still named only the
secrets' variables and those the chart sets, so a misspelling read as allowed until
``helm install`` failed."""

from __future__ import annotations

import re

import pytest

from tests.unit.helm_chart import CHART
from tests.unit.test_helm_settings import chart

REFUSALS = [
    # (a name, what the chart's refusal says, what the comment says of that kind)
    ("SCHAKEL_API_TOKENS", "belongs to a secret", "under `secrets`"),
    ("SCHAKEL_PARTITIONS", "is set by the chart", "the chart sets"),
    ("SCHAKEL_HISTORY_LIMT", "is no Schakel setting: did you mean", "no setting"),
    ("SCHAKEL_History_Limit", "write the name in capitals", "small letters"),
    ("HISTORY_LIMIT", "names start with SCHAKEL_", "no `SCHAKEL_` name"),
]


def extra_env_comment() -> str:
    """The comment lines right above ``extraEnv:`` in values.yaml, as one line of text."""
    lines = (CHART / "values.yaml").read_text(encoding="utf-8").splitlines()
    at = next(n for n, line in enumerate(lines) if line.strip().startswith("extraEnv:"))
    comment: list[str] = []
    for line in reversed(lines[:at]):
        if not line.strip().startswith("#"):
            break
        comment.insert(0, line.strip().lstrip("#").strip())
    return re.sub(r"\s+", " ", " ".join(comment))


@pytest.mark.parametrize(("name", "refusal", "said"), REFUSALS)
def test_the_comment_names_every_refusal_of_extra_env(name: str, refusal: str, said: str) -> None:
    ok, error = chart({name: "1"})
    assert not ok and f"config.extraEnv: {name}" in error and refusal in error, error
    assert said in extra_env_comment()
