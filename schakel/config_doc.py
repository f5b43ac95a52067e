"""Renders the configuration table of the README from the settings model."""

from __future__ import annotations

from schemas.settings import ENV_PREFIX, Settings

BEGIN = "<!-- config-table:begin -->"
END = "<!-- config-table:end -->"


def markdown_table() -> str:
    rows = ["| variable | default | description |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "—" if default is None else "empty" if default == "" else f"`{default}`"
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{ENV_PREFIX}{name.upper()}` | {shown} | {description} |")
    return "\n".join(rows)
