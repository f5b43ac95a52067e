"""The README's configuration table is the settings model's."""

from __future__ import annotations

from pathlib import Path

from schakel.config_doc import BEGIN, END, markdown_table

ROOT = Path(__file__).resolve().parents[2]


def test_readme_configuration_table_is_generated_from_the_settings_model() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert table == markdown_table(), "run `schakel config --markdown` and paste it in README"
