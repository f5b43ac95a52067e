"""A plain Faust app (not Schakel's worker) that reads the event topics back and writes what it
received as JSON lines: ``python faust_reader.py BOOTSTRAP OUT COUNT``. Used by
``test_faust_readback.py``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import faust

from schemas.envelope import jsonable
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer
from schemas.wire import DEFAULT_WIRE


def main(bootstrap: str, out: str, count: int) -> None:
    app = faust.App(
        "readback-test",
        broker=f"kafka://{bootstrap}",
        web_enabled=False,
        broker_session_timeout=6,
        broker_heartbeat_interval=1,
        consumer_auto_offset_reset="earliest",
        topic_partitions=4,
        datadir=os.environ.get("READER_DATADIR", "/tmp/readback"),
    )
    topic = app.topic(
        *DEFAULT_WIRE.event_topics,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )
    deserialize = RecordDeserializer(LocalRegistry())
    seen: list[dict[str, Any]] = []

    @app.agent(topic)
    async def read(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            decoded = deserialize(message.value)
            seen.append(
                {
                    "topic": message.topic,
                    "key": message.key.decode(),
                    "headers": [[k, v.decode()] for k, v in message.headers or ()],
                    "value_hex": message.value.hex(),
                    "event": jsonable(decoded.to_json()),
                }
            )
            if len(seen) >= count:
                with Path(out).open("w", encoding="utf-8") as handle:
                    for row in seen:
                        handle.write(json.dumps(row) + "\n")
                os._exit(0)

    # app.main() parses sys.argv like the faust command line
    sys.argv = [sys.argv[0], "worker", "-l", "warn"]
    app.main()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
