"""A Quix Streams no-op app, the Python peer a user might pick instead (not Schakel code).

``.venv-bench/bin/python benchmarks/quix_noop.py BOOTSTRAP COUNT OUT TOPIC[,TOPIC...]``

Runs in its own virtual environment (``make bench`` creates ``.venv-bench``: quixstreams 3.28
pins confluent-kafka below the project's 2.16), so it imports nothing of the project. Reads
the topics from the beginning with one consumer group, counts each record in a Python
callback, writes the seconds between the first and the COUNT-th record to OUT and exits.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def main(bootstrap: str, count: int, out: str, topics: list[str]) -> None:
    from quixstreams import Application  # type: ignore[import-not-found]  # in .venv-bench only

    app = Application(
        broker_address=bootstrap,
        consumer_group="bench-quix-noop",
        auto_offset_reset="earliest",
        auto_create_topics=False,
        use_changelog_topics=False,
        loglevel="WARNING",
        state_dir=str(Path(out).parent / "quix-state"),
    )
    state = {"n": 0, "first": 0.0}

    def seen(_value: Any) -> None:
        if state["n"] == 0:
            state["first"] = time.perf_counter()
        state["n"] += 1
        if state["n"] >= count:
            elapsed = time.perf_counter() - state["first"]
            Path(out).write_text(json.dumps({"events": count, "seconds": elapsed}))
            os._exit(0)

    for name in topics:
        topic = app.topic(name, key_deserializer="bytes", value_deserializer="bytes")
        app.dataframe(topic).update(seen)
    app.run()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split(","))
