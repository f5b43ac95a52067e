"""The collector settings: the batch path's set for the block, restored after, cycles collected
at each checkpoint; the worker's set for the rest of the process, cycles still collected."""

from __future__ import annotations

import gc
import weakref

from streams.gc_tuning import THRESHOLDS, WORKER_THRESHOLDS, fewer_collections, for_a_worker


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_thresholds_hold_in_the_block_and_are_restored_after() -> None:
    before = gc.get_threshold()
    assert before != THRESHOLDS
    with fewer_collections():
        assert gc.get_threshold() == THRESHOLDS
        assert gc.get_freeze_count() > 0  # start-up objects are not walked again
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_checkpoint_frees_the_cycles_of_the_work_before_it() -> None:
    with fewer_collections() as collections:
        a, b = _Node(), _Node()
        a.other, b.other = b, a  # a cycle: reference counting alone never frees it
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None  # not yet: no collection ran since
        collections.checkpoint()
        assert gone() is None


def test_the_settings_are_restored_when_the_block_raises() -> None:
    before = gc.get_threshold()
    try:
        with fewer_collections():
            raise RuntimeError("a partition failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_worker_freezes_its_start_up_and_still_collects_cycles() -> None:
    before = gc.get_threshold()
    try:
        for_a_worker()
        assert gc.get_threshold() == WORKER_THRESHOLDS
        assert gc.get_freeze_count() > 0
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None
        kept: list[list[int]] = [
            [] for _ in range(WORKER_THRESHOLDS[0] + 10)
        ]  # enough for a young collection
        assert kept
        assert gone() is None
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
