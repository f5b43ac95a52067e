"""The Prometheus alerts and the Grafana dashboard checked by Prometheus's own ``promtool``
(Debian's ``prometheus`` package; ``make system-deps`` installs it): the rules and the Compose
scrape config load, every alert fires on its failure and stays silent on a healthy deployment
(``tests/unit/prometheus/alerts.test.yml``), and every dashboard query parses. Without
promtool these tests fail; they never skip."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "helm" / "schakel" / "files" / "alerts.yml"
"""The one alerts file: Compose mounts it, the Helm chart's PrometheusRule embeds it."""
CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
COMPOSE = ROOT / "docker-compose.yml"
ALERT_TESTS = Path(__file__).parent / "prometheus" / "alerts.test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "schakel.json"
# Grafana's built-in variables, as Grafana fills them in for a 1 h range at 15 s scrapes.
# (Replaced in this order: ``$__rate_interval_ms`` before ``$__rate_interval``.)
GRAFANA_VARIABLES = {
    "$__rate_interval_ms": "60000",
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
}


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: make system-deps (apt-get install -y prometheus)")
    return subprocess.run(
        [binary, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def passes(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode == 0


def alert_names() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule["alert"] for group in rules["groups"] for rule in group["rules"]]


def test_promtool_accepts_the_alert_rules() -> None:
    result = promtool("check", "rules", ALERTS)
    assert passes(result), result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_names())} rules found" in result.stdout


def prometheus_mounts() -> dict[Path, Path]:
    """Container path → host path of the Compose Prometheus's bind mounts."""
    spec = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]["prometheus"]
    mounts = {}
    for volume in spec["volumes"]:
        source, target, *_ = str(volume).split(":")
        if source.startswith("."):
            mounts[Path(target)] = ROOT / source
    return mounts


def test_promtool_accepts_the_compose_prometheus_config(tmp_path: Path) -> None:
    """prometheus.yml names its rule files where Compose mounts them; the check reads each
    from its host path (through Compose's bind mounts), copied next to the config."""
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    mounts = prometheus_mounts()
    copied = []
    for rule_file in config["rule_files"]:
        (host,) = [
            source / Path(rule_file).relative_to(target)
            for target, source in mounts.items()
            if Path(rule_file).is_relative_to(target)
        ]
        assert host.resolve() == ALERTS, f"{rule_file} is not the alerts file"
        shutil.copy(host, tmp_path / host.name)
        copied.append(str(tmp_path / host.name))
    config["rule_files"] = copied
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    result = promtool("check", "config", tmp_path / "prometheus.yml")
    assert passes(result), result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_names())} rules found" in result.stdout


def test_every_alert_fires_on_its_failure_and_stays_silent_when_healthy() -> None:
    result = promtool("test", "rules", ALERT_TESTS)
    assert passes(result), result.stdout + result.stderr


def alert_tests() -> list[dict[str, Any]]:
    tests = yaml.safe_load(ALERT_TESTS.read_text(encoding="utf-8"))
    assert [(ALERT_TESTS.parent / f).resolve() for f in tests["rule_files"]] == [ALERTS]
    groups: list[dict[str, Any]] = tests["tests"]
    return groups


def seconds(duration: str) -> int:
    units = {"h": 3600, "m": 60, "s": 1}
    parts = re.findall(r"(\d+)([hms])", duration)
    assert "".join(n + u for n, u in parts) == duration, f"unsupported duration {duration!r}"
    return sum(int(n) * units[u] for n, u in parts)


def test_every_alert_has_a_failure_and_a_healthy_promtool_case() -> None:
    """An alert without a case in alerts.test.yml fails here: each must fire in some test
    group with labels it did not fire with at an earlier evaluation of that group (the time
    it starts firing is pinned down), and not fire in ``healthy``. A misspelt alert name with
    ``exp_alerts: []`` would pass promtool: none is allowed."""
    alerts = alert_names()
    groups = alert_tests()
    named = {case["alertname"] for group in groups for case in group["alert_rule_test"]}
    assert named <= set(alerts), f"not in alerts.yml: {sorted(named - set(alerts))}"
    healthy = [group for group in groups if group.get("name") == "healthy"]
    assert len(healthy) == 1
    silent = {case["alertname"] for case in healthy[0]["alert_rule_test"]}
    assert all(case["exp_alerts"] == [] for case in healthy[0]["alert_rule_test"])
    assert set(alerts) - silent == set(), f"not in the healthy case: {set(alerts) - silent}"

    def starts_firing(alert: str, group: dict[str, Any]) -> bool:
        firing = [
            (
                seconds(case["eval_time"]),
                {frozenset(a["exp_labels"].items()) for a in case["exp_alerts"]},
            )
            for case in group["alert_rule_test"]
            if case["alertname"] == alert
        ]
        return any(
            earlier < later and now - before for later, now in firing for earlier, before in firing
        )

    for alert in alerts:
        assert any(starts_firing(alert, group) for group in groups), (
            f"{alert}: no test group in {ALERT_TESTS.name} where it starts firing"
        )


def alert_rules() -> list[dict[str, Any]]:
    rules = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in rules["groups"] for rule in group["rules"]]


def test_every_command_in_an_annotation_is_given_for_both_platforms() -> None:
    """The alerts serve Docker Compose and Kubernetes (the Helm chart's PrometheusRule): an
    annotation that tells a `docker compose` command also tells what to do on Kubernetes."""
    for rule in alert_rules():
        text = " ".join(rule["annotations"].values())
        if "docker compose" in text:
            assert "kubectl" in text or "Kubernetes" in text, f"{rule['alert']}: Compose only"


def test_every_annotation_that_names_the_pod_is_tested_with_kubernetes_labels() -> None:
    """An annotation that differs by platform (``{{ if $labels.pod }}``) fires in a test group
    with the Helm chart's target labels (pod, namespace) and in one with Compose's."""
    groups = alert_tests()
    branching = [r["alert"] for r in alert_rules() if "$labels.pod" in str(r["annotations"])]
    assert branching
    for alert in branching:
        fired_with = [
            "pod" in expected["exp_labels"]
            for group in groups
            for case in group["alert_rule_test"]
            if case["alertname"] == alert
            for expected in case["exp_alerts"]
        ]
        assert True in fired_with, f"{alert}: no case with Kubernetes target labels"
        assert False in fired_with, f"{alert}: no case with Compose target labels"


def dashboard_exprs() -> list[str]:
    def panels(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [p for item in items for p in (item, *panels(item.get("panels") or []))]

    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [
        str(target["expr"])
        for panel in panels(dashboard["panels"])
        for target in panel.get("targets") or []
        if target.get("expr")
    ]


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    """Each query, Grafana's variables filled in, as a recording rule promtool checks."""
    exprs = dashboard_exprs()
    assert exprs
    rules = []
    for number, expr in enumerate(exprs):
        filled = expr
        for variable, value in GRAFANA_VARIABLES.items():
            filled = filled.replace(variable, value)
        assert "$" not in filled, f"a dashboard variable the test does not fill in: {expr}"
        rules.append({"record": f"schakel_dashboard:query_{number}", "expr": filled})
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8"
    )
    result = promtool("check", "rules", path)
    assert passes(result), result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def dashboard_counts() -> list[tuple[str, str, int, list[str]]]:
    """(query, counter, window in seconds, the query's ``sum by`` labels) of each dashboard
    query that counts with increase(), Grafana's variables filled in."""
    counted = []
    for expr in dashboard_exprs():
        if "increase(" not in expr:
            continue
        filled = expr
        for variable, value in GRAFANA_VARIABLES.items():
            filled = filled.replace(variable, value)
        (metric,) = set(re.findall(r"increase\((schakel_[a-z0-9_]+)\[", filled))
        (window,) = set(re.findall(r"increase\(schakel_[a-z0-9_]+\[([0-9hms]+)\]\)", filled))
        by = re.search(r"sum by \(([^)]*)\)", filled)
        keys = sorted(k.strip() for k in by.group(1).split(",")) if by else []
        counted.append((filled, metric, seconds(window), keys))
    assert len(counted) >= 3
    return counted


Scenario = Callable[[int], tuple[str, str, list[tuple[int, float]]]]
"""For a query's window ``W`` in minutes: the values of the counter and of
``process_start_time_seconds`` (promtool's notation, a sample a minute: ``axn`` is n + 1
samples, ``_xn`` n), and (minute, expected count) pairs."""


def run_dashboard_case(tmp_path: Path, name: str, scenario: Scenario) -> None:
    """Each counting dashboard query on the input of ``scenario`` for its window, checked by
    promtool as the total it counts (``sum(query) or vector(0)``: an empty answer is 0)."""
    groups = []
    for filled, metric, window, keys in dashboard_counts():
        counter, start, expected = scenario(window // 60)
        labels = ",".join([*(f'{k}="eerste"' for k in keys), 'job="j"', 'instance="i"'])
        inputs = [
            {"series": metric + "{" + labels + "}", "values": counter},
            {"series": 'process_start_time_seconds{job="j",instance="i"}', "values": start},
        ]
        cases = [
            {
                "expr": f"sum({filled}) or vector(0)",
                "eval_time": f"{minute}m",
                "exp_samples": [{"labels": "{}", "value": value}],
            }
            for minute, value in expected
        ]
        groups.append(
            {
                "name": f"{name}: {filled}",
                "interval": "1m",
                "input_series": inputs,
                "promql_expr_test": cases,
            }
        )
    tests = {"rule_files": [], "evaluation_interval": "1m", "tests": groups}
    path = tmp_path / "dashboard.test.yml"
    path.write_text(yaml.safe_dump(tests), encoding="utf-8")
    result = promtool("test", "rules", path)
    assert passes(result), result.stdout + result.stderr


LONG_AGO = -86400
"""``process_start_time_seconds`` of a process started a day before the test's first
scrape."""


def test_every_dashboard_count_ignores_a_failed_scrape(tmp_path: Path) -> None:
    """Review finding: a counter at 500 for long, nothing new, one scrape failed (a staleness
    marker) at minute W + 1, W the query's window: at 2W + 1 the count read 500 — ``X unless X
    offset W`` took the series for new — where nothing happened. Now 0."""

    def scenario(w: int) -> tuple[str, str, list[tuple[int, float]]]:
        gap = f"x{w} stale "
        return (
            f"500{gap}500x{w + 10}",
            f"{LONG_AGO}{gap}{LONG_AGO}x{w + 10}",
            [(2 * w + 1, 0), (2 * w + 2, 0)],
        )

    run_dashboard_case(tmp_path, "failed scrape", scenario)


def test_every_dashboard_count_ignores_a_prometheus_without_history(tmp_path: Path) -> None:
    """A Prometheus started (or its storage emptied) at minute W, scraping a process of
    long ago whose counter stands at 500: 0, not 500."""

    def scenario(w: int) -> tuple[str, str, list[tuple[int, float]]]:
        return (f"_x{w} 500x10", f"_x{w} {LONG_AGO}x10", [(w, 0), (w + 5, 0)])

    run_dashboard_case(tmp_path, "no history", scenario)


def test_every_dashboard_count_includes_a_new_series_first_increment(tmp_path: Path) -> None:
    """A counter series that appears, at 1, at minute W + 3 in a process started long before
    (a (stage, reason), a reason, a rule at its first dead letter, rejection or signal; the
    dead-letter and rejection reasons are no closed set, so such a series is not made at 0
    at start): counted at once (plain increase() read nothing: "Dead letters (24 h)" said 0,
    the per-interval panels showed no bar), and once: six minutes later, nothing having
    changed, 1 only where the window still holds the series' start (the 24 h count)."""

    def scenario(w: int) -> tuple[str, str, list[tuple[int, float]]]:
        return (
            f"_x{w + 3} 1x{w + 10}",
            f"{LONG_AGO}x{2 * w + 20}",
            [(w + 3, 1), (w + 9, 1 if w > 6 else 0)],
        )

    run_dashboard_case(tmp_path, "new series", scenario)


def test_every_dashboard_count_counts_a_series_made_at_zero_at_once(tmp_path: Path) -> None:
    """A series present at 0 (made at start for a known label value) and incremented at
    minute W + 3: counted at once."""

    def scenario(w: int) -> tuple[str, str, list[tuple[int, float]]]:
        return (f"0x{w + 2} 1x{w + 10}", f"{LONG_AGO}x{2 * w + 20}", [(w + 2, 0), (w + 3, 1)])

    run_dashboard_case(tmp_path, "made at 0", scenario)


def test_every_dashboard_count_counts_a_restart_as_increase_does(tmp_path: Path) -> None:
    """The process restarts 30 s before the scrape of minute W + 2 and has counted 2 since:
    the counter goes from 5 to 2, counted as 2 (increase() counts the value after a counter
    reset whole), and once: W + 1 minutes later, 0."""

    def scenario(w: int) -> tuple[str, str, list[tuple[int, float]]]:
        restart = (w + 2) * 60 - 30
        return (
            f"5x{w + 1} 2x{w + 10}",
            f"{LONG_AGO}x{w + 1} {restart}x{w + 10}",
            [(w + 1, 0), (w + 2, 2), (2 * w + 3, 0)],
        )

    run_dashboard_case(tmp_path, "restart", scenario)
