"""Renders the configuration table of the README from the settings models: every variable,
which processes read it (each kind of process loads only its own class,
``schemas.settings.PROCESS_SETTINGS``), its default and its description."""

from __future__ import annotations

from schemas.settings import (
    ENV_PREFIX,
    AdapterSettings,
    CommonSettings,
    ForgetSettings,
    Settings,
    WorkerSettings,
)

BEGIN = "<!-- config-table:begin -->"
END = "<!-- config-table:end -->"

READERS: tuple[tuple[str, type[CommonSettings]], ...] = (
    ("worker", WorkerSettings),
    ("adapters, publish, webhook", AdapterSettings),
    ("forget", ForgetSettings),
)
"""The processes named in the table, by settings class. Every process reads the common
variables; ``demo`` and ``replay`` (which run the whole pipeline) read all of them."""


def read_by(name: str) -> str:
    """Who reads variable ``name`` (a field of :class:`Settings`)."""
    if name in CommonSettings.model_fields:
        return "every process"
    return ", ".join(label for label, model in READERS if name in model.model_fields)


def markdown_table() -> str:
    rows = ["| variable | read by | default | description |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "—" if default is None else "empty" if default == "" else f"`{default}`"
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{ENV_PREFIX}{name.upper()}` | {read_by(name)} | {shown} | {description} |")
    return "\n".join(rows)
