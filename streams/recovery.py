"""Seek before resuming: a correction to Faust's end of table recovery (every profile).

After a rebalance, faust-streaming (as installed, 0.15.3) ends table recovery in
``Recovery.on_recovery_completed`` by *first* resuming the stream partitions and *then*
awaiting ``consumer.perform_seek()`` (one OffsetFetch per partition), and only after that
calling ``app.flow_control.resume()``. That last call clears every agent queue (mode's
``FlowControlEvent.resume``). So records fetched while the seek is in flight are put in the
agent's queue and thrown away a moment later, unacked, while the fetch position has already
moved past them:

* if the group had committed offsets, the partition's next commit waits forever for the lost
  offsets (Faust only commits a contiguous run of acked offsets): the worker keeps
  processing but its committed offsets stop advancing, and a later restart reprocesses
  everything since;
* if it had none yet (``perform_seek`` does not seek then), the records are simply skipped.

Seen after a worker was killed with SIGKILL mid-backlog and restarted: the rejoin is a
rebalance with a fetcher that is already running. Upstream faust-streaming fixed the same
ordering once for apps without tables (pull request #217: seek, then resume); this applies
that order to the path an app with tables takes. :func:`seek_before_resume` replaces the
method with one that seeks while the stream partitions are still paused, then resumes the
partitions and the flow with no ``await`` in between, so nothing can be fetched into a queue
that is about to be cleared.

The seek itself has a hole too: aiokafka's ``seek_to_committed`` does not move a partition
that has no committed offset (or offset 0). Records Faust fetched and dropped during the
rebalance (its fetcher drops what arrives while the flow is stopped, counting on this seek)
are then never fetched again: a worker that restarts before its group's first commit skipped
them all. The replacement seeks such stream partitions to their beginning, which is what
``consumer_auto_offset_reset="earliest"`` (our setting) means for a group without offsets."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any


async def _on_recovery_completed(self: Any, generation_id: int = 0) -> None:
    app = self.app
    consumer = app.consumer
    self.log.info("Restore complete!")
    await app.on_rebalance_complete.send()
    self._set_recovery_ended()
    finishing = [
        asyncio.ensure_future(
            table.on_recovery_completed(
                self.actives_for_table[table], self.standbys_for_table[table]
            )
        )
        for table in self.tables.values()
    ]
    if finishing:
        await asyncio.wait(finishing)
    if app.consumer_generation_id != generation_id:
        self.log.warning("Recovery rebalancing again (generation %s)", generation_id)
        return
    assignment = consumer.assignment()
    if assignment:
        # the stream partitions are still paused: nothing is fetched while we seek
        self.log.info("Seek stream partitions to committed offsets.")
        await self._wait(consumer.perform_seek(), timeout=app.conf.broker_request_timeout)
        if app.consumer_generation_id != generation_id:
            self.log.warning("Recovery rebalancing again (generation %s)", generation_id)
            return
    self.completed.set()
    # no await from here until the flow runs: resuming the flow clears the agent queues
    consumer.resume_partitions({tp for tp in assignment if not self._is_changelog_tp(tp)})
    app.flow_control.resume()
    consumer.resume_flow()
    await app._fetcher.maybe_start()
    self.tables.on_actives_ready()
    if not app.assignor.assigned_standbys():
        self.tables.on_standbys_ready()
    app.on_rebalance_end()
    self.log.info("Worker ready")


async def _seek_committed_or_beginning(thread: Any, consumer: Any) -> Mapping[Any, Any]:
    committed: Mapping[Any, Any] = await consumer.seek_to_committed()
    uncommitted = [
        tp
        for tp, offset in committed.items()
        if not offset and not thread.consumer._is_changelog_tp(tp)
    ]
    if uncommitted:
        await consumer.seek_to_beginning(*uncommitted)
    return committed


async def _seek_to_committed(self: Any) -> Mapping[Any, Any]:
    consumer = self._ensure_consumer()
    result: Mapping[Any, Any] = await self.call_thread(_seek_committed_or_beginning, self, consumer)
    return result


def seek_before_resume() -> None:
    """Make Faust seek every stream partition before it resumes them (idempotent)."""
    from faust.tables.recovery import Recovery
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    if getattr(Recovery, "_schakel_seek_before_resume", False):
        return
    Recovery.on_recovery_completed = _on_recovery_completed
    AIOKafkaConsumerThread.seek_to_committed = _seek_to_committed
    Recovery._schakel_seek_before_resume = True
