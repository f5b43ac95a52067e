"""The top-level ``schakel --help`` is written for users (issue 13 item 5): what Schakel is,
the commands, where the docs are; not the module's developer docstring."""

from __future__ import annotations

from tests.cli import run_cli


def test_the_top_level_help_is_for_users() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    out = result.stdout
    assert "pseudonymise" in out and "Start with `schakel demo`" in out
    for command in ("demo", "worker", "adapter", "replay", "forget", "dlq"):
        assert f"\n    {command} " in out, command
    assert "docs/operations.md" in out and "README.md" in out
    assert "Subcommands are wired here" not in out
