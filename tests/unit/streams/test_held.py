"""HeldSignals (streams/held.py): releases in order, the commit's wait, failures for good."""

from __future__ import annotations

import asyncio

import pytest

from streams.held import HeldSignals


def test_releases_run_in_order_and_released_waits_for_those_held_before_it() -> None:
    async def scenario() -> None:
        held = HeldSignals()
        gates = [asyncio.get_running_loop().create_future() for _ in range(3)]
        done: list[int] = []

        def release(n: int) -> object:
            async def run() -> None:
                await gates[n]
                done.append(n)

            return run

        held.hold(release(0))  # type: ignore[arg-type]
        held.hold(release(1))  # type: ignore[arg-type]
        commit = asyncio.create_task(held.released())  # covers 0 and 1, not what comes after
        held.hold(release(2))  # type: ignore[arg-type]
        gates[1].set_result(None)
        gates[2].set_result(None)
        await asyncio.sleep(0.01)
        assert done == [] and not commit.done()  # 1 and 2 wait behind 0
        gates[0].set_result(None)
        await commit
        assert done[:2] == [0, 1]
        await held.released()
        assert done == [0, 1, 2] and not held.pending

    asyncio.run(scenario())


def test_a_failure_for_good_is_raised_by_every_later_wait_and_never_hangs_one() -> None:
    async def scenario() -> None:
        held = HeldSignals(limit=1)

        async def broken() -> None:
            raise RuntimeError("a defect")

        async def never() -> None:
            raise AssertionError("nothing runs after a failure")

        held.hold(broken)
        held.hold(never)
        held.hold(never)
        with pytest.raises(RuntimeError, match="a defect"):
            await held.released()
        held.hold(never)  # queued, never run
        with pytest.raises(RuntimeError, match="a defect"):
            await asyncio.wait_for(held.released(), 1)
        await asyncio.wait_for(held.settled(), 1)  # an erasure is not held up by it
        await asyncio.wait_for(held.room(), 1)  # nor is the agent
        assert held.pending

    asyncio.run(scenario())


def test_a_cancelled_release_makes_the_commit_fail_not_vanish() -> None:
    """The release task cancelled (the loop ending): a commit waiting for it gets an error it
    handles (the worker crashes, nothing committed), not a cancellation that would silently
    end Faust's commit timer."""

    async def scenario() -> None:
        held = HeldSignals()
        blocked = asyncio.get_running_loop().create_future()

        async def waits() -> None:
            await blocked

        held.hold(waits)
        commit = asyncio.create_task(held.released())
        await asyncio.sleep(0.01)
        assert held._task is not None
        held._task.cancel()
        with pytest.raises(RuntimeError, match="never handed over"):
            await commit

    asyncio.run(scenario())
