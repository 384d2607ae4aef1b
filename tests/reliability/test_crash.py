"""Writes survive a crash: SIGKILL of the server while clients add memories, and of a worker
while it runs tasks, loses nothing that was acknowledged (the ``crash`` scenario)."""

from __future__ import annotations

import pytest

from ops.reliability.crash import server_sigkill, worker_sigkill


@pytest.mark.timeout(300)
async def test_a_sigkilled_server_keeps_every_acknowledged_memory() -> None:
    figures = await server_sigkill(writers=3, kill_after_s=2.0)
    assert figures["acknowledged"] > 3
    assert figures["lost"] == 0 and figures["searchable_after_restart"]


@pytest.mark.timeout(300)
async def test_a_sigkilled_worker_loses_no_task_of_many(redis_backend) -> None:
    figures = await worker_sigkill(redis_backend, tasks=16, task_s=0.3)
    assert figures["succeeded"] == 16 and figures["lost"] == 0
    assert figures["runs_noted"] >= 16
