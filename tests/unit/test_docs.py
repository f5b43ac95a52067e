"""The operator docs say what the code does: the README's configuration table is the settings
model's, and every command, option, setting, metric, log event and alert the docs name exists."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from adapters.metrics import AdapterMetrics
from adapters.registry import FACTORIES
from schakel.cli import build_parser
from schakel.config_doc import BEGIN, END, markdown_table
from schemas.settings import Settings
from streams.metrics import WorkerMetrics

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_DOCS = (
    "README.md",
    "docs/operations.md",
    "docs/adapters.md",
    "docs/api.md",
    "docs/demo.md",
    "deploy/README.md",
)
SETTING_NAMES = {f"SCHAKEL_{name.upper()}" for name in Settings.model_fields}
_COMMAND = re.compile(r"(?:^|\.venv/bin/|-- )schakel ([a-z][\w-]*)(.*)")
_LOG_EVENT = re.compile(r"`((?:adapter|worker|api|http|consumer|log)\.(?!md`)[a-z_]+)`")
_METRIC = re.compile(r"\b(schakel_(?:worker|adapter|api)_[a-z_]+)(\{[^}]*\})?")


def test_readme_configuration_table_is_generated_from_the_settings_model() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert table == markdown_table(), "run `schakel config --markdown` and paste it in README"


def code(doc: str) -> Iterator[str]:
    """The inline code spans and the lines of the code blocks of ``doc``."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M):
        yield from block.splitlines()
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    yield from re.findall(r"`([^`\n]+)`", prose)


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_schakel_command_and_option_in_the_docs_exists() -> None:
    subcommands = _subcommands()
    wrong = []
    found = 0
    for doc in OPERATOR_DOCS:
        for span in code(doc):
            for match in _COMMAND.finditer(span.strip()):
                found += 1
                command, rest = match.group(1), re.split(r"\s#|\||&&|;", match.group(2))[0]
                parser = subcommands.get(command)
                if parser is None:
                    wrong.append(f"{doc}: `schakel {command}` is no subcommand ({span})")
                    continue
                options = {o for a in parser._actions for o in a.option_strings}
                for option in re.findall(r"(?<![\w-])--[a-z][\w-]*", rest):
                    if option not in options:
                        wrong.append(f"{doc}: `schakel {command}` has no option {option} ({span})")
                # the first argument, when it is a literal word: an action or an adapter name
                word = next(iter(rest.split()), "")
                if not re.fullmatch(r"[a-z][\w-]*", word):
                    continue
                first = next((a for a in parser._actions if not a.option_strings), None)
                if first is not None and first.choices and word not in first.choices:
                    wrong.append(f"{doc}: `schakel {command} {word}` is no action ({span})")
                if command == "adapter" and word not in FACTORIES:
                    wrong.append(f"{doc}: no adapter {word} ({span})")
    assert found > 50, found
    assert not wrong, "\n".join(wrong)


def test_every_schakel_variable_in_the_docs_is_a_setting() -> None:
    tests = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py"))
    unknown = {
        f"{doc}: {name}"
        for doc in OPERATOR_DOCS
        for name in re.findall(r"\bSCHAKEL_[A-Z0-9_]*[A-Z0-9]\b", (ROOT / doc).read_text("utf-8"))
        if name not in SETTING_NAMES and f'"{name}"' not in tests  # a test's own knob
    }
    assert not unknown, f"not a field of schemas.settings.Settings: {sorted(unknown)}"


def _metric_labels() -> dict[str, set[str]]:
    """Every metric family Schakel registers (without ``_total``), with its label names."""
    worker = WorkerMetrics()
    worker.watch_open_signals(lambda: {"regel": 1})
    adapters = CollectorRegistry()
    AdapterMetrics(adapters)
    families: dict[str, set[str]] = {}
    for registry in (worker.registry, adapters):
        for family in registry.collect():
            families[family.name] = {k for s in family.samples for k in s.labels} - {"le"}
    for collector in (*vars(worker).values(), *vars(AdapterMetrics(CollectorRegistry())).values()):
        name = getattr(collector, "_name", None)
        if name:  # labelled families without samples yet
            families[name.removesuffix("_total")] = set(collector._labelnames)
    return families


def test_every_metric_in_the_docs_exists_with_its_labels() -> None:
    families = _metric_labels()
    wrong = []
    for doc in OPERATOR_DOCS:
        text = (ROOT / doc).read_text(encoding="utf-8")
        for name, labels in _METRIC.findall(text):
            family = re.sub(r"_(total|bucket|count|sum)$", "", name)
            if family not in families:
                wrong.append(f"{doc}: no metric {name}")
                continue
            named = {part.split("=")[0].strip() for part in labels.strip("{}").split(",") if part}
            if not named <= families[family]:
                wrong.append(f"{doc}: {name} has no label {sorted(named - families[family])}")
    assert not wrong, "\n".join(wrong)


def test_every_log_event_in_the_docs_is_logged() -> None:
    source = "".join(
        p.read_text(encoding="utf-8")
        for package in ("adapters", "schakel", "schemas", "streams")
        for p in (ROOT / package).rglob("*.py")
    )
    unknown = sorted(
        f"{doc}: {event}"
        for doc in OPERATOR_DOCS
        for event in set(_LOG_EVENT.findall((ROOT / doc).read_text(encoding="utf-8")))
        if f'"{event}"' not in source
    )
    assert not unknown, f"no such log event in the code: {unknown}"


def test_the_deploy_readme_lists_every_alert() -> None:
    rules = yaml.safe_load(
        (ROOT / "deploy/helm/schakel/files/alerts.yml").read_text(encoding="utf-8")
    )
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    readme = (ROOT / "deploy/README.md").read_text(encoding="utf-8")
    table = readme.split("| alert | when |", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`(Schakel\w+)`", table))
    assert alerts - listed == set(), f"deploy/README.md does not list {sorted(alerts - listed)}"
    assert listed - alerts == set(), f"not in alerts.yml: {sorted(listed - alerts)}"


_MARKDOWN_FILE = re.compile(r"[\w./-]*\b[\w-]+\.md\b")


def test_every_markdown_file_the_docs_name_is_in_the_repository() -> None:
    """A guide that cites a ``.md`` file sends the reader to it: it must be here (relative to
    the guide, to ``docs/`` or to the repository root). adapters.md cited ``sources.md`` and
    synthetic-municipality.md ``spec/README.md``, the project's specification, which is not
    in the repository (an earlier fix had removed such references; they came back)."""
    guides = [ROOT / "README.md", ROOT / "deploy" / "README.md", ROOT / "tests" / "README.md"]
    guides += sorted((ROOT / "docs").glob("*.md"))
    missing = []
    for guide in guides:
        for name in set(_MARKDOWN_FILE.findall(guide.read_text(encoding="utf-8"))):
            places = (guide.parent, ROOT / "docs", ROOT)
            if not any((place / name).is_file() for place in places):
                missing.append(f"{guide.relative_to(ROOT)}: {name}")
    assert not missing, missing
