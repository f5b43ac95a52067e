"""Plain Faust baselines for ``benchmarks/streams.py`` (not Schakel code):

``python -m benchmarks.faust_baseline MODE BOOTSTRAP COUNT OUT DATADIR [NAMESPACE]`` with MODE
``count`` (an agent that only counts in a local variable) or ``table`` (one Table update per
event, memory store). Reads the four event topics of NAMESPACE (default: none) from the
beginning, writes the seconds between the first and the COUNT-th event to OUT, and exits."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import faust

from schemas.wire import Wire


def main(mode: str, bootstrap: str, count: int, out: str, datadir: str, *, namespace: str) -> None:
    app = faust.App(
        f"baseline-{mode}",
        broker=f"kafka://{bootstrap}",
        web_enabled=False,
        broker_session_timeout=6,
        broker_heartbeat_interval=1,
        consumer_auto_offset_reset="earliest",
        topic_partitions=4,
        datadir=datadir,
        store="memory://",
    )
    topic = app.topic(
        *Wire(namespace).event_topics,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )
    table = app.Table("tellers", default=int, partitions=4)
    state = {"n": 0, "first": 0.0}

    def done() -> None:
        elapsed = time.perf_counter() - state["first"]
        Path(out).write_text(json.dumps({"mode": mode, "events": count, "seconds": elapsed}))
        os._exit(0)

    if mode == "count":

        @app.agent(topic)
        async def count_only(stream: Any) -> None:
            async for _ in stream:
                if state["n"] == 0:
                    state["first"] = time.perf_counter()
                state["n"] += 1
                if state["n"] >= count:
                    done()
    else:

        @app.agent(topic)
        async def one_update(stream: Any) -> None:
            async for event in stream.events():
                if state["n"] == 0:
                    state["first"] = time.perf_counter()
                table[event.key] += 1
                state["n"] += 1
                if state["n"] >= count:
                    done()

    sys.argv = [sys.argv[0], "worker", "-l", "warn"]
    app.main()


if __name__ == "__main__":
    namespace = sys.argv[6] if len(sys.argv) > 6 else ""
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], namespace=namespace)
