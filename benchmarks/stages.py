"""CPU per event of each stage of the batch path's work, in-process, without Kafka: what one
process could reach if reading and writing records cost nothing.

    .venv/bin/python -m benchmarks.stages [--events 50000] [--rounds 3]

The events of :mod:`benchmarks.workload` (10 per citizen) are encoded as the adapters publish
them, then taken through the batch path's own steps one stage at a time, with the collector
tuned as the batch path tunes it (:func:`streams.gc_tuning.fewer_collections`):

- ``decode+validate``: :class:`streams.batch_decode.FastIngest` (Avro to a timeline event, every
  check an adapter makes);
- ``insert``: into each citizen's :class:`streams.state.CitizenState`;
- ``assess``: :func:`streams.state.close_replay`, the one assessment per citizen;
- ``signal events``, ``snapshot``, ``state``: encoding the outputs
  (:class:`streams.outputs.CitizenOutputs`).

Prints CPU microseconds per event per stage (the best of ``--rounds``) and the events/s the sum
allows. Issue 14's target of 50,000 events/s in one process is 20 µs per event for all of it,
Kafka included.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

from benchmarks.workload import SOURCE, events
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import DEFAULT_WIRE
from streams.batch_decode import FastIngest
from streams.gc_tuning import fewer_collections
from streams.model import TimelineEvent
from streams.outputs import CitizenOutputs
from streams.rules import load_rules
from streams.state import CitizenState, Outcome, StoredEvent, close_replay

HISTORY_LIMIT = 2000
_T = TypeVar("_T")


def _timed(work: Callable[[], _T]) -> tuple[float, _T]:
    started = time.process_time()
    result = work()
    return time.process_time() - started, result


def one_round(payloads: list[tuple[str, bytes]]) -> dict[str, float]:
    """CPU seconds of each stage over ``payloads`` ((topic, record) as published)."""
    registry = LocalRegistry()
    serializer, deserializer = RecordSerializer(registry), RecordDeserializer(registry)
    engine = load_rules()
    outputs = CitizenOutputs(DEFAULT_WIRE, serializer, deserializer, SOURCE)
    outputs.prepare()
    fast = FastIngest(deserializer, DEFAULT_WIRE)
    seconds: dict[str, float] = {}

    def decode() -> list[tuple[tuple[str, TimelineEvent], bytes]]:
        return [(fast.decode(value, topic), value) for topic, value in payloads]

    seconds["decode+validate"], decoded = _timed(decode)

    def insert() -> dict[str, CitizenState]:
        states: dict[str, CitizenState] = {}
        for (subject, event), value in decoded:
            state = states.get(subject)
            if state is None:
                state = states[subject] = CitizenState(subject=subject)
            state.insert(StoredEvent(event, value), HISTORY_LIMIT)
        return states

    seconds["insert"], states = _timed(insert)

    def assess() -> list[tuple[CitizenState, Outcome]]:
        return [(s, close_replay(s, engine, until=None)) for s in states.values()]

    seconds["assess"], done = _timed(assess)
    seconds["signal events"], _ = _timed(lambda: [outputs.signals(o.changes) for _, o in done])
    seconds["snapshot"], _ = _timed(lambda: [outputs.snapshot(s, o.clock) for s, o in done])
    seconds["state"], _ = _timed(lambda: [outputs.codec.encode(s) for s, _ in done])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    serializer = RecordSerializer(LocalRegistry())
    payloads = []
    for event in events(args.events, 10):
        topic = DEFAULT_WIRE.topic_for(event.type)
        payloads.append((topic, serializer.encode(topic, event.type, event.to_record())))
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        with fewer_collections():
            for stage, spent in one_round(payloads).items():
                best[stage] = min(best.get(stage, spent), spent)
    total = sum(best.values())
    for stage, spent in best.items():
        share = 100 * spent / total
        print(f"{stage:16} {spent * 1e6 / args.events:6.1f} µs/event  {share:4.1f} %")
    print(
        f"{'total':16} {total * 1e6 / args.events:6.1f} µs/event"
        f"  → {args.events / total:,.0f} events/s without Kafka"
    )


if __name__ == "__main__":
    main()
