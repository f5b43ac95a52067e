"""The benchmark report's latency figures: whether the worker kept up with the offered load
is said, so a p50 that measures a backlog is not read as a delay."""

from __future__ import annotations

import argparse

from benchmarks import report
from benchmarks.contenders import Rate
from benchmarks.measures import KEPT_UP_MS, Latency

ARGS = argparse.Namespace(events=100, per_citizen=10)


def latency(first_ms: float, last_ms: float) -> Latency:
    return Latency(400.0, 8000, 8000, 20.0, 970.0, 1700.0, 398.2, 250, first_ms, last_ms)


def test_a_worker_that_kept_up() -> None:
    found = report.run("embedded", {}, {"latency": latency(450.0, 450.0 + KEPT_UP_MS)})
    assert found["latency"] == {
        "offered_per_s": 400.0,
        "sent": 8000,
        "signalled": 8000,
        "seconds": 20.0,
        "p50_ms": 970.0,
        "p99_ms": 1700.0,
        "processed_per_s": 398.2,
        "behind_at_end": 250,
        "p50_first_tenth_ms": 450.0,
        "p50_last_tenth_ms": 1450.0,
        "kept_up": True,
    }
    text = report.markdown(found, ARGS)
    assert (
        "the worker processed 398/s meanwhile, 250 behind when the last was sent; p50 of the "
        "first tenth 450 ms, of the last 1,450 ms\n"
    ) in text
    assert "backlog" not in text


def test_a_latency_that_grew_through_the_run_is_said_to_measure_a_backlog() -> None:
    found = report.run("embedded", {}, {"latency": latency(450.0, 451.0 + KEPT_UP_MS)})
    assert found["latency"]["kept_up"] is False
    assert "(it did not keep up: p50/p99 measure a backlog)" in report.markdown(found, ARGS)


def test_the_batch_paths_cpu_per_event_is_reported_beside_its_rate() -> None:
    rates = {
        "batch": Rate(100_000, 10.0, 150 << 20, cpu_us_per_event=112.34),
        "batch2": Rate(100_000, 6.0, 140 << 20, cpu_us_per_event=151.0),
        "worker": Rate(100_000, 50.0, 380 << 20, cpu_us_per_event=480.0),
    }
    found = report.run("kafka", rates, {})
    assert found["batch_cpu_us_per_event"] == {"batch": 112.3, "batch2": 151.0}
    assert (
        "- batch path cost per event: batch 112 µs CPU, batch2 151 µs CPU (its processes, all "
        "threads, from start to end)\n"
    ) in report.markdown(found, ARGS)


def test_no_batch_cost_line_without_a_batch_run() -> None:
    found = report.run("kafka", {}, {})
    assert found["batch_cpu_us_per_event"] == {}
    assert "batch path cost" not in report.markdown(found, ARGS)
