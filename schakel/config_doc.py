"""Renders the configuration table of the README from the settings models: every variable,
which processes use it (each kind of process loads only its own class,
``schakel.cli.SETTINGS_OF``, less :data:`NOT_USED_BY`), its default and its description."""

from __future__ import annotations

from schakel.cli import SETTINGS_OF
from schemas.settings import ENV_PREFIX, CommonSettings, Settings

BEGIN = "<!-- config-table:begin -->"
END = "<!-- config-table:end -->"

NOT_USED_BY: dict[str, frozenset[str]] = {
    # the webhook serves /metrics on WEBHOOK_PORT and is pushed to; `publish` runs once
    "metrics_port": frozenset({"adapter wijkteam --serve", "publish"}),
    "poll_interval_s": frozenset({"adapter wijkteam --serve", "publish"}),
    # only the iwmo adapter reads XML (adapters.registry)
    "max_xml_bytes": frozenset({"adapter outbox", "adapter wijkteam --serve", "publish"}),
}
"""Variables a process's settings class carries (it inherits them) but the process never
uses: left out of its "read by" column. Checked by tests/unit/test_settings.py."""


def read_by(name: str) -> str:
    """Who uses variable ``name`` (a field of :class:`Settings`): "every process" for the
    common ones, else the processes of :data:`~schakel.cli.SETTINGS_OF` whose class has it,
    less those of :data:`NOT_USED_BY`. ``demo`` and ``replay`` (which run the whole pipeline)
    read every variable."""
    if name in CommonSettings.model_fields:
        return "every process"
    unused = NOT_USED_BY.get(name, frozenset())
    return ", ".join(
        f"`{p}`"
        for p, model in SETTINGS_OF.items()
        if name in model.model_fields and p not in unused
    )


def markdown_table() -> str:
    rows = ["| variable | read by | default | description |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "—" if default is None else "empty" if default == "" else f"`{default}`"
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{ENV_PREFIX}{name.upper()}` | {read_by(name)} | {shown} | {description} |")
    return "\n".join(rows)
