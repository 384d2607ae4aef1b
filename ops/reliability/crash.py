"""SIGKILL mid-write: of the server while clients add memories, and of a worker while it runs
tasks. Every write the server acknowledged, and every task it accepted, must survive."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from lumina_core.testing import LuminaProcess, settings_env
from ops.reliability import PROBE_PLUGINS, probe_journal


async def _write_memories(url: str, acknowledged: list[str], stop: asyncio.Event, writer: int) -> int:
    """Add memories until the server dies; note the id of each one it acknowledged (201)."""
    attempts = 0
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        while not stop.is_set():
            attempts += 1
            try:
                response = await client.post("/memory/memories", json={"text": f"note {writer}-{attempts}: buy milk"})
            except httpx.HTTPError:
                return attempts  # the server is gone
            if response.status_code == 201:
                acknowledged.append(response.json()["id"])
    return attempts


async def server_sigkill(writers: int = 4, kill_after_s: float = 3.0) -> dict[str, Any]:
    """Clients add memories; the server is SIGKILLed mid-stream, restarted on the same data, and
    every acknowledged memory is read back."""
    folder = Path(tempfile.mkdtemp(prefix="lumina-crash-"))
    server = LuminaProcess.serve(folder / "data", folder / "serve.log", load_plugins="memory", rate_limit="")
    acknowledged: list[str] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:  # the first add loads the embedder
        warm = await client.post("/memory/memories", json={"text": "first note: the writers start now"})
        acknowledged.append(warm.json()["id"])
    stop = asyncio.Event()
    loops = [asyncio.create_task(_write_memories(server.url, acknowledged, stop, w)) for w in range(writers)]
    await asyncio.sleep(kill_after_s)
    server.kill()
    attempts = sum(await asyncio.gather(*loops))
    again = LuminaProcess.serve(folder / "data", folder / "serve-again.log", load_plugins="memory", rate_limit="")
    try:
        async with httpx.AsyncClient(base_url=again.url, timeout=30) as client:
            found = await asyncio.gather(*(client.get(f"/memory/memories/{i}") for i in acknowledged))
            searched = await client.post("/memory/search", json={"query": "buy milk", "limit": 5})
    finally:
        again.stop()
    lost = [i for i, response in zip(acknowledged, found, strict=True) if response.status_code != 200]
    return {"attempted": attempts, "acknowledged": len(acknowledged), "lost": len(lost),
            "searchable_after_restart": bool(searched.json()["items"])}


async def worker_sigkill(redis: dict[str, Any], tasks: int = 30, task_s: float = 0.3) -> dict[str, Any]:
    """A server queues tasks for two workers; one is SIGKILLed while running some; every task
    must still succeed (the survivor takes over the dead one's claims)."""
    folder = Path(tempfile.mkdtemp(prefix="lumina-worker-crash-"))
    common = {**redis, "plugins_dir": PROBE_PLUGINS, "load_plugins": "rel-probe", "events_claim_idle": 1,
              "rate_limit": ""}
    server = LuminaProcess.serve(folder / "data", folder / "serve.log", task_workers=0, **common)
    workers = [LuminaProcess(["worker", "--concurrency", "2"], settings_env(folder / "data", common),
                             folder / f"worker-{n}.log") for n in range(2)]
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            await _until(lambda: _worker_started(folder, workers), 60)
            ids = [(await client.post("/tasks", json={"note": task_s})).json()["id"] for _ in range(tasks)]
            await _until(lambda: _running_in(folder / "data", workers[0]), 30)
            workers[0].kill()
            killed_at = time.monotonic()
            states = await _final_states(client, ids, timeout=60)
            recovered_s = time.monotonic() - killed_at
    finally:
        for process in [*workers, server]:
            process.stop()
    ran = probe_journal(folder / "data", "tasks.jsonl")
    return {
        "tasks": tasks,
        "succeeded": sum(state == "succeeded" for state in states.values()),
        "lost": sum(state != "succeeded" for state in states.values()),
        "runs_noted": len(ran),
        "runs_again_after_the_kill": len(ran) - len({r["task"] for r in ran}),
        "all_done_s_after_kill": round(recovered_s, 2),
    }


def _worker_started(folder: Path, workers: list[LuminaProcess]) -> bool:
    return all("task workers on" in w.output() for w in workers)


def _running_in(data: Path, worker: LuminaProcess) -> bool:
    """True once the doomed worker has finished at least one task (so it surely holds others)."""
    return any(r["pid"] == worker.process.pid for r in probe_journal(data, "tasks.jsonl"))


async def _final_states(client: httpx.AsyncClient, ids: list[str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        states = {i: (await client.get(f"/tasks/{i}")).json()["state"] for i in ids}
        if all(s in ("succeeded", "failed") for s in states.values()):
            break
        await asyncio.sleep(0.5)
    return states


async def _until(condition, timeout: float) -> None:  # noqa: ANN001 - a callable returning bool
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout:g} s: {condition}")
        await asyncio.sleep(0.1)
