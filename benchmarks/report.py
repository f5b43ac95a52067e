"""The figures of a benchmark run: one dict per broker, a Markdown table, the summary JSON.

The summary (the last line of ``make bench``) has these keys: ``commit``, ``dirty``,
``events``, ``per_citizen``, ``brokers``, ``load_average`` (before, after), ``command``, and
``runs``: per broker ``broker``, ``events_per_s`` / ``events_measured`` / ``seconds`` per path,
``ratio_to_faust_noop`` / ``ratio_to_quix`` per path, ``latency`` (``offered_per_s``,
``p50_ms``, ``p99_ms``, ``sent``, ``signalled``, ``processed_per_s``, ``behind_at_end``,
``p50_first_tenth_ms``, ``p50_last_tenth_ms``, ``kept_up``: whether the latency grew by at
most a second from the first tenth of the events to the last),
``peak_rss_bytes`` (``worker``, ``batch``, ``batch2``: the largest of its processes),
``batch_cpu_us_per_event`` (``batch``, ``batch2``: CPU time of the run's processes per event,
from its start: connecting and planning included),
``worker_us_per_event`` (``cpu``: CPU time of the worker's process per event; ``handle``:
mean wall time in ``Processor.handle`` per record), ``state_bytes_per_citizen``,
``changelog_bytes_per_event``, ``history`` (per events-per-citizen: ``events_per_s``,
``events_measured``). A path not run is absent; a figure not measured is ``null``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.contenders import Rate
from benchmarks.measures import Latency, StateSize

ROOT = Path(__file__).resolve().parents[1]
LABELS = {
    "publish": "publish (validate + pseudonymise + Avro + kafka-python, acks=all)",
    "quix_noop": "Quix Streams 3.28 no-op app",
    "faust_noop": "plain Faust agent, count only",
    "faust_table": "plain Faust agent, one Table update per event",
    "worker": "**Schakel worker** (`schakel worker --clock replay`)",
    "native": "Processor in a plain confluent-kafka loop, at least once (benchmark only)",
    "native_eos": "Processor in a plain confluent-kafka loop, transactions (benchmark only)",
    "batch": "**Schakel batch path** (`schakel replay --batch` machinery)",
    "batch2": "**Schakel batch path, 2 worker processes** (`replay --batch --jobs 2`)",
    "core": "Schakel pure core, per-event recompute, no Kafka",
}


def _cpu_per_event(rates: dict[str, Rate], prefix: str) -> dict[str, float]:
    """CPU µs per event of the paths whose name starts with ``prefix``, where measured."""
    return {
        k: round(r.cpu_us_per_event, 1)
        for k, r in rates.items()
        if k.startswith(prefix) and r.cpu_us_per_event is not None
    }


def run(kind: str, rates: dict[str, Rate], extra: dict[str, Any]) -> dict[str, Any]:
    """The figures of one broker's run."""
    out: dict[str, Any] = {
        "broker": kind,
        "events_per_s": {k: round(r.per_second, 1) for k, r in rates.items()},
        "events_measured": {k: r.events for k, r in rates.items()},
        "seconds": {k: round(r.seconds, 3) for k, r in rates.items()},
        "peak_rss_bytes": {
            k: rates[k].max_rss_bytes if k in rates else None
            for k in ("worker", "batch", "batch2", "native", "native_eos")
        },
        "batch_cpu_us_per_event": _cpu_per_event(rates, "batch"),
        "native_cpu_us_per_event": _cpu_per_event(rates, "native"),
        "worker_us_per_event": None,
        "latency": None,
        "state_bytes_per_citizen": None,
        "changelog_bytes_per_event": None,
        "history": None,
        "signals_vs_worker": extra.get("signals"),
        "native_loops": extra.get("native"),
    }
    worker = rates.get("worker")
    if worker is not None and worker.cpu_us_per_event is not None:
        out["worker_us_per_event"] = {
            "cpu": round(worker.cpu_us_per_event, 1),
            "handle": round(worker.handle_us_per_event or 0.0, 1),
        }
    latency: Latency | None = extra.get("latency")
    if latency is not None:
        out["latency"] = {
            "offered_per_s": latency.offered,
            "sent": latency.sent,
            "signalled": latency.signalled,
            "seconds": round(latency.seconds, 2),
            "p50_ms": latency.p50_ms,
            "p99_ms": latency.p99_ms,
            "processed_per_s": round(latency.processed_per_s, 1),
            "behind_at_end": latency.behind_at_end,
            "p50_first_tenth_ms": latency.p50_first_ms,
            "p50_last_tenth_ms": latency.p50_last_ms,
            "kept_up": latency.kept_up,
        }
    state: StateSize | None = extra.get("state")
    if state is not None:
        out["state_bytes_per_citizen"] = round(state.bytes_per_citizen, 1)
        out["changelog_bytes_per_event"] = round(state.changelog_bytes_per_event, 1)
        out["state_citizens"] = state.citizens
    history: dict[int, Rate] | None = extra.get("history")
    if history is not None:
        out["history"] = {
            str(n): {"events_per_s": round(r.per_second, 1), "events_measured": r.events}
            for n, r in history.items()
        }
    return out


def add_core(figures: dict[str, Any], core: Rate) -> None:
    """Add the pure core (measured once per run, without a broker) to a broker's figures."""
    figures["events_per_s"]["core"] = round(core.per_second, 1)
    figures["events_measured"]["core"] = core.events
    figures["seconds"]["core"] = round(core.seconds, 3)


def _ratios(figures: dict[str, Any], base: str) -> dict[str, float] | None:
    rates: dict[str, float] = figures["events_per_s"]
    if not rates.get(base):
        return None
    return {k: round(v / rates[base], 3) for k, v in rates.items()}


def finish(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures with the ratios to the Faust no-op and to Quix."""
    figures["ratio_to_faust_noop"] = _ratios(figures, "faust_noop")
    figures["ratio_to_quix"] = _ratios(figures, "quix_noop")
    return figures


def _git(*args: str) -> str:
    result = subprocess.run(  # noqa: S603 - fixed git command
        ["git", *args],  # noqa: S607 - git from PATH
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip()


def _mib(value: int | None) -> str:
    return "–" if value is None else f"{value / 2**20:,.0f} MiB"


def markdown(figures: dict[str, Any], args: argparse.Namespace) -> str:
    """A Markdown table of one broker's run (paths, events/s, ratios) and its other figures."""
    figures = finish(figures)
    noop = figures["ratio_to_faust_noop"] or {}
    quix = figures["ratio_to_quix"] or {}
    lines = [
        f"\n{figures['broker']} broker, {args.events} events, {args.per_citizen} per citizen\n",
        "| path | events | seconds | events/s | × Faust no-op | × Quix no-op |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, label in LABELS.items():
        if key not in figures["events_per_s"]:
            continue
        r_noop = f"{noop[key]:.2f}" if key in noop else "–"
        r_quix = f"{quix[key]:.3f}" if key in quix else "–"
        lines.append(
            f"| {label} | {figures['events_measured'][key]:,} | {figures['seconds'][key]:.1f} "
            f"| {figures['events_per_s'][key]:,.0f} | {r_noop} | {r_quix} |"
        )
    lines.append("")
    costs = figures.get("worker_us_per_event")
    if costs:
        lines.append(
            f"- worker cost per event: {costs['cpu']:,.0f} µs CPU (its process, all threads), "
            f"of which {costs['handle']:,.0f} µs (wall) in `Processor.handle`"
        )
    batch_cpu = figures.get("batch_cpu_us_per_event")
    if batch_cpu:
        lines.append(
            "- batch path cost per event: "
            + ", ".join(f"{k} {v:,.0f} µs CPU" for k, v in batch_cpu.items())
            + " (its processes, all threads, from start to end)"
        )
    latency = figures["latency"]
    if latency:
        lines.append(
            f"- event→signal latency at {latency['offered_per_s']:,.0f} events/s offered "
            f"({latency['sent']:,} sent in {latency['seconds']} s, {latency['signalled']:,} "
            f"signalled): p50 {latency['p50_ms']:,.0f} ms, p99 {latency['p99_ms']:,.0f} ms; "
            f"the worker processed {latency['processed_per_s']:,.0f}/s meanwhile, "
            f"{latency['behind_at_end']:,} behind when the last was sent; p50 of the first "
            f"tenth {latency['p50_first_tenth_ms']:,.0f} ms, of the last "
            f"{latency['p50_last_tenth_ms']:,.0f} ms"
            + ("" if latency["kept_up"] else " (it did not keep up: p50/p99 measure a backlog)")
        )
    rss = figures["peak_rss_bytes"]
    lines.append(
        f"- peak RSS: worker {_mib(rss['worker'])}, batch path {_mib(rss['batch'])}, "
        f"batch path with 2 worker processes {_mib(rss['batch2'])} (largest process)"
    )
    if figures["state_bytes_per_citizen"] is not None:
        lines.append(
            f"- state: {figures['state_bytes_per_citizen']:,.0f} bytes per citizen (latest "
            f"changelog value); {figures['changelog_bytes_per_event']:,.0f} changelog bytes "
            "written per event"
        )
    if figures["history"]:
        parts = [
            f"{n} per citizen {h['events_per_s']:,.0f}/s (over {h['events_measured']:,})"
            for n, h in figures["history"].items()
        ]
        lines.append("- worker events/s by history length: " + "; ".join(parts))
    return "\n".join(lines)


def summary(
    args: argparse.Namespace,
    runs: dict[str, dict[str, Any]],
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> dict[str, Any]:
    """The one JSON object printed last."""
    return {
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "command": " ".join(["python -m benchmarks.streams", *sys.argv[1:]]),
        "events": args.events,
        "per_citizen": args.per_citizen,
        "brokers": list(runs),
        "load_average": {"before": list(load_before), "after": list(load_after)},
        "runs": {kind: finish(figures) for kind, figures in runs.items()},
    }
