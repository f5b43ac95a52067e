"""The batch path (``schakel replay --batch``: :class:`streams.batch.BatchRebuild`) over one
namespace, in a process of its own so that its peak memory is its own.

``python -m benchmarks.batch_run BOOTSTRAP NAMESPACE OUT [JOBS]`` writes ``{"seconds": …,
"cpu_seconds": …, "max_rss_bytes": …}`` to OUT: the run's wall time, the CPU time (user +
system, every thread: librdkafka's I/O threads too) of the process and its reaped worker
processes during the run, and the peak resident set of the process (``VmHWM``, which includes
the interpreter and its imports), or with ``JOBS`` > 1 (the first round in that many worker
processes, ``schakel replay --batch --jobs JOBS``) of the largest of it and its worker
processes (``ru_maxrss`` of the reaped children). ``SCHAKEL_PROFILE``
(``embedded``, the default, or ``kafka``) says which broker it runs on, as for ``schakel
replay --batch``."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

from benchmarks.contenders import peak_rss
from benchmarks.workload import SOURCE
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import Wire
from streams.batch import BatchRebuild
from streams.rules import load_rules

PARTITIONS = 4
HISTORY_LIMIT = 2000


def _cpu_seconds() -> float:
    """User + system CPU time of this process and of its reaped children."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(bootstrap: str, namespace: str, out: str, jobs: int = 1) -> None:
    registry = LocalRegistry()
    cpu = _cpu_seconds()
    started = time.perf_counter()
    BatchRebuild(
        bootstrap,
        wire=Wire(namespace),
        engine=load_rules(),
        serializer=RecordSerializer(registry),
        deserializer=RecordDeserializer(registry),
        partitions=PARTITIONS,
        source=SOURCE,
        history_limit=HISTORY_LIMIT,
        embedded=os.environ.get("SCHAKEL_PROFILE", "embedded") == "embedded",
        jobs=jobs,
    ).run()
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
    # this process: VmHWM (ru_maxrss would include the launching process's peak: Linux keeps
    # it across exec); its worker processes (forked, no exec): ru_maxrss of the largest reaped
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # kB on Linux
    peak = max(peak_rss(os.getpid()), children)
    Path(out).write_text(
        json.dumps({"seconds": seconds, "cpu_seconds": cpu, "max_rss_bytes": peak})
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], *(int(n) for n in sys.argv[4:5]))
