"""Renders the configuration table of the README from the settings models: every variable,
which processes read it (each kind of process loads only its own class,
``schakel.cli.SETTINGS_OF``), its default and its description."""

from __future__ import annotations

from schakel.cli import SETTINGS_OF
from schemas.settings import ENV_PREFIX, CommonSettings, Settings

BEGIN = "<!-- config-table:begin -->"
END = "<!-- config-table:end -->"


def read_by(name: str) -> str:
    """Who reads variable ``name`` (a field of :class:`Settings`): "every process" for the
    common ones, else the processes of :data:`~schakel.cli.SETTINGS_OF` whose class has it.
    ``demo`` and ``replay`` (which run the whole pipeline) read every variable."""
    if name in CommonSettings.model_fields:
        return "every process"
    return ", ".join(f"`{p}`" for p, model in SETTINGS_OF.items() if name in model.model_fields)


def markdown_table() -> str:
    rows = ["| variable | read by | default | description |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "—" if default is None else "empty" if default == "" else f"`{default}`"
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{ENV_PREFIX}{name.upper()}` | {read_by(name)} | {shown} | {description} |")
    return "\n".join(rows)
