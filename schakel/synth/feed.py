"""Feeding a generated municipality through the real adapters, as ``schakel adapter NAME
SPEC --once`` would: one :class:`~adapters.runner.Runner` per source (validation,
pseudonymisation, quarantine, checkpoints), with a progress line on a terminal.

The outbox rows go into a throwaway PostgreSQL (:mod:`schakel.synth.postgres`) and through the
``outbox`` adapter; without PostgreSQL binaries they go through the generic JSON-lines adapter
instead (the same CloudEvents, another transport)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from adapters.base import Cursor, Record, Source
from adapters.checkpoint import FileCheckpoint
from adapters.quarantine import Quarantine
from adapters.registry import open_source
from adapters.runner import Runner
from schakel import wiring
from schakel.synth.exceptions import PostgresUnavailable
from schakel.synth.postgres import TempPostgres
from schemas.settings import Settings

Say = Callable[[str], None]


class ProgressSource(Source):
    """Passes another source's records through and shows how many were read (on a terminal,
    on one line that is overwritten)."""

    def __init__(self, inner: Source, interactive: bool) -> None:
        self.inner = inner
        self.name = inner.name
        self.count = 0
        self._interactive = interactive
        self._shown = 0.0

    def records(self, cursor: Cursor) -> Iterator[Record]:
        """The inner source's records, counted."""
        for record in self.inner.records(cursor):
            self.count += 1
            now = time.monotonic()
            if self._interactive and now - self._shown > 0.25:
                self._shown = now
                sys.stdout.write(f"\r  {self.name:17} {self.count:6d} gelezen …")
                sys.stdout.flush()
            yield record

    def close(self) -> None:
        """Close the inner source."""
        self.inner.close()


def outbox_input(
    rows_file: Path, workdir: Path, *, use_postgres: bool, say: Say
) -> tuple[str, str, TempPostgres | None]:
    """(adapter, spec, server) for the outbox rows: a started throwaway PostgreSQL holding the
    rows in ``schakel_outbox`` and the ``outbox`` adapter over its DSN (the caller stops the
    server), or ``publish`` over a JSON-lines file of the events and no server."""
    text = rows_file.read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line]
    if use_postgres:
        server: TempPostgres | None = None
        try:
            server = TempPostgres().start()
            server.load_outbox(rows)
            return "outbox", server.dsn, server
        except PostgresUnavailable as exc:
            if server is not None:
                server.stop()
            say(
                f"  PostgreSQL niet beschikbaar ({str(exc).splitlines()[0]}); de outbox-rijen "
                "gaan via de generieke JSON-lines-adapter"
            )
    path = workdir / "outbox-events.jsonl"
    path.write_text(
        "".join(json.dumps(r["event"], ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return "publish", str(path), None


def run_adapter(
    name: str,
    spec: str,
    settings: Settings,
    bootstrap: str,
    *,
    workdir: Path,
    expected: dict[str, Any],
    say: Say,
) -> dict[str, Any]:
    """Run adapter ``name`` once over ``spec`` (checkpoint and quarantine under ``workdir``);
    print one line with read / published / rejected against the manifest's ``expected``
    counts and return them."""
    label = expected["adapter"]
    interactive = sys.stdout.isatty()
    pseudonymiser = wiring.pseudonymiser(settings)
    source = ProgressSource(
        open_source(name, spec, settings, pseudonymiser=pseudonymiser), interactive
    )
    publisher = wiring.publisher(settings, bootstrap, f"schakel-demo-{label}")
    quarantine_file = workdir / "quarantaine" / f"{label}.jsonl"
    runner = Runner(
        source,
        publisher=publisher,
        pseudonymiser=pseudonymiser,
        checkpoint=FileCheckpoint(workdir / "checkpoints" / f"{label}.json"),
        quarantine=Quarantine(name, quarantine_file, publisher),
        dedupe_in_run=True,
        batch_size=2000,
    )
    try:
        stats = runner.run_once()
    finally:
        publisher.close()
        runner.close()
    if interactive:
        sys.stdout.write("\r")
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(stats.by_reason.items()))
    say(
        f"  {label:17} gelezen {stats.read:6d}  gepubliceerd {stats.published:6d} "
        f"(verwacht {expected['gebeurtenissen']})  afgewezen {stats.rejected} "
        f"(verwacht {expected['afgekeurd']}{'; ' + reasons if reasons else ''})"
    )
    return {
        "gelezen": stats.read,
        "gepubliceerd": stats.published,
        "afgewezen": stats.rejected,
        "verwacht_gepubliceerd": expected["gebeurtenissen"],
        "verwacht_afgewezen": expected["afgekeurd"],
        "redenen": dict(stats.by_reason),
        "quarantaine": str(quarantine_file),
    }
