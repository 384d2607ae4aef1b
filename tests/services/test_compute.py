"""The model thread: the process's embedded models compute there one at a time, and work started
in the background yields to what someone waits for."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from lumina_core.services.compute import in_background, on_model_thread


async def test_every_computation_runs_on_one_thread_one_at_a_time() -> None:
    running, overlaps, threads = [0], [], set()

    def work() -> None:
        threads.add(threading.get_ident())
        running[0] += 1
        overlaps.append(running[0])
        time.sleep(0.01)
        running[0] -= 1

    await asyncio.gather(*(on_model_thread(work) for _ in range(8)))
    assert len(threads) == 1 and threads != {threading.get_ident()} and max(overlaps) == 1


async def test_what_someone_waits_for_goes_before_background_work_queued_earlier() -> None:
    gate, order = threading.Event(), []

    async def background(name: str) -> None:
        with in_background():
            await on_model_thread(order.append, name)

    blocker = asyncio.ensure_future(on_model_thread(gate.wait, 5))
    await asyncio.sleep(0.05)  # the thread is busy: what follows queues behind it
    queued = [asyncio.ensure_future(background(f"backfill {n}")) for n in range(3)]
    await asyncio.sleep(0.05)
    asked = asyncio.ensure_future(on_model_thread(order.append, "question"))
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.gather(blocker, asked, *queued)
    assert order == ["question", "backfill 0", "backfill 1", "backfill 2"]


async def test_a_failing_computation_fails_its_caller_only() -> None:
    def fail() -> None:
        raise RuntimeError("bad batch")

    with pytest.raises(RuntimeError, match="bad batch"):
        await on_model_thread(fail)
    assert await on_model_thread(lambda: 42) == 42
