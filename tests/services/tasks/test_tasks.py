"""The task queue over HTTP and in worker processes, on both backends."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx

from lumina_core.services.tasks import TaskQueue, build_queue
from lumina_core.testing import LuminaProcess, host_settings, settings_env

FIXTURES = Path(__file__).parents[2] / "fixtures" / "plugins"
FAST_RETRIES = {"task_backoff": 0.05, "task_max_attempts": 3}


async def finished(client: httpx.AsyncClient, task_id: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        record = (await client.get(f"/tasks/{task_id}")).json()
        if record["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return record
        await asyncio.sleep(0.05)


def probe_host(lumina_host, backend_settings: dict[str, Any], **overrides: Any):
    return lumina_host(plugins=["probe"], plugins_dir=FIXTURES, **FAST_RETRIES, **backend_settings, **overrides)


async def test_a_submitted_task_answers_202_with_its_location_and_runs(lumina_host, backend):
    async with probe_host(lumina_host, backend) as host:
        response = await host.client.post("/tasks", json={"echo": ["Mandelbrot set"], "hops": 1})
        assert response.status_code == 202
        task_id = response.json()["id"]
        assert response.headers["location"] == f"/tasks/{task_id}"
        record = await finished(host.client, task_id)
        assert (record["state"], record["kind"], record["result"], record["attempts"]) == (
            "succeeded", "echo", ["Mandelbrot set"], 1,
        )
        listing = (await host.client.get("/tasks")).json()
        assert task_id in [item["id"] for item in listing["items"]]


async def test_a_failing_task_is_retried_with_backoff(lumina_host, backend):
    async with probe_host(lumina_host, backend) as host:
        task_id = (await host.client.post("/tasks", json={"flaky": 3})).json()["id"]
        record = await finished(host.client, task_id)
        assert (record["state"], record["result"], record["attempts"]) == ("succeeded", 3, 3)


async def test_a_task_failing_every_attempt_goes_to_the_dead_letters(lumina_host, backend):
    async with probe_host(lumina_host, backend) as host:
        task_id = (await host.client.post("/tasks", json={"fail": True})).json()["id"]
        record = await finished(host.client, task_id)
        assert (record["state"], record["attempts"]) == ("failed", 3)
        assert record["error"] == "ValueError: this task always fails"
        assert task_id in await host.kernel.services.get("tasks").dead_letters()


async def test_a_running_task_shows_its_progress(lumina_host, backend):
    async with probe_host(lumina_host, backend) as host:
        task_id = (await host.client.post("/tasks", json={"sleep": 0.5})).json()["id"]
        await asyncio.sleep(0.25)
        record = (await host.client.get(f"/tasks/{task_id}")).json()
        assert (record["state"], record["progress"], record["note"]) == ("running", 0.5, "sleeping")
        assert (await finished(host.client, task_id))["progress"] == 1.0


async def test_tasks_nobody_handles_and_unknown_ids_are_clear_errors(lumina_host, backend):
    async with probe_host(lumina_host, backend) as host:
        response = await host.client.post("/tasks", json={"paint": "a fence"})
        assert response.status_code == 422
        assert "no plugin handles tasks of kind 'paint'" in response.json()["error"]["message"]
        assert (await host.client.post("/tasks", json={})).status_code == 422
        assert (await host.client.get("/tasks/nope")).json()["error"]["type"] == "not_found"


async def test_a_periodic_job_runs_on_its_schedule(lumina_host, backend, tmp_path):
    journal = tmp_path / "journal.jsonl"
    config = {"probe": {"cron": "* * * * * *", "journal": str(journal)}}
    async with probe_host(lumina_host, backend, plugin_config=config):
        await asyncio.sleep(2.5)
    assert sum("tick" in line for line in journal.read_text().splitlines()) >= 2


# --- several processes on Redis ---------------------------------------------------------------


def journal_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def submitter(redis_settings: dict[str, Any], data_dir: Path) -> TaskQueue:
    """A queue that only submits (no workers here), as a server with LUMINA_TASK_WORKERS=0 would."""
    queue = build_queue(host_settings(data_dir, [], **redis_settings))

    async def not_here(task: Any) -> None:
        raise AssertionError("this process runs no tasks")

    queue.handle("sleep", not_here, owner="probe")
    return queue


def start_worker(redis_settings: dict[str, Any], tmp_path: Path, name: str, journal: Path, **extra: Any) -> LuminaProcess:
    overrides = {
        **redis_settings, "plugins_dir": FIXTURES, "load_plugins": "probe", "events_claim_idle": 1.0,
        "plugin_config__probe__journal": str(journal), **extra,
    }
    return LuminaProcess(["worker"], settings_env(tmp_path / name, overrides), tmp_path / f"{name}.log")


async def wait_until(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_two_worker_processes_share_one_queue(redis_backend, tmp_path):
    journal = tmp_path / "journal.jsonl"
    workers = [start_worker(redis_backend, tmp_path, f"w{i}", journal, task_workers=2) for i in range(2)]
    queue = await submitter(redis_backend, tmp_path / "server")
    try:
        ids = [await queue.submit({"sleep": 0.4}, owner="test") for _ in range(12)]

        async def all_done() -> bool:
            return all([(await queue.get(i))["state"] == "succeeded" for i in ids])

        await wait_until(all_done)
        lines = journal_lines(journal)
        assert sorted(line["id"] for line in lines) == sorted(ids)  # each ran exactly once
        assert {line["pid"] for line in lines} == {w.process.pid for w in workers}
    finally:
        for worker in workers:
            assert worker.stop() == 0, worker.output()
        await queue.close()


async def test_a_sigkilled_worker_loses_no_task(redis_backend, tmp_path):
    journal = tmp_path / "journal.jsonl"
    doomed = start_worker(redis_backend, tmp_path, "doomed", journal, task_workers=1)
    queue = await submitter(redis_backend, tmp_path / "server")
    rescuer = None
    try:
        task_id = await queue.submit({"sleep": 1.5}, owner="test")

        async def running() -> bool:
            return (await queue.get(task_id))["state"] == "running"

        await wait_until(running)
        doomed.kill()
        rescuer = start_worker(redis_backend, tmp_path, "rescuer", journal, task_workers=1)

        async def succeeded() -> bool:
            return (await queue.get(task_id))["state"] == "succeeded"

        await wait_until(succeeded)
        record = await queue.get(task_id)
        assert record["attempts"] == 2, (record, doomed.output()[-3000:], rescuer.output()[-3000:])
        assert [line["pid"] for line in journal_lines(journal)] == [rescuer.process.pid]
    finally:
        doomed.stop()
        if rescuer is not None:
            assert rescuer.stop() == 0, rescuer.output()
        await queue.close()


async def test_a_stopped_worker_finishes_its_running_task_first(redis_backend, tmp_path):
    journal = tmp_path / "journal.jsonl"
    worker = start_worker(redis_backend, tmp_path, "w", journal, task_workers=1)
    queue = await submitter(redis_backend, tmp_path / "server")
    try:
        task_id = await queue.submit({"sleep": 1.0}, owner="test")

        async def running() -> bool:
            return (await queue.get(task_id))["state"] == "running"

        await wait_until(running)
        assert worker.stop() == 0, worker.output()  # SIGTERM: graceful
        record = await queue.get(task_id)
        assert (record["state"], record["attempts"]) == ("succeeded", 1)
    finally:
        worker.stop()
        await queue.close()


async def test_periodic_jobs_run_once_per_schedule_across_workers(redis_backend, tmp_path):
    journal = tmp_path / "journal.jsonl"
    workers = [
        start_worker(redis_backend, tmp_path, f"w{i}", journal, plugin_config__probe__cron="* * * * * *")
        for i in range(2)
    ]
    def ticks() -> list[int]:
        return [line["slot"] for line in journal_lines(journal) if line.get("job") == "tick"]

    async def both_ticking() -> bool:
        return len({line["pid"] for line in journal_lines(journal)}) == 2 or len(ticks()) >= 8

    try:
        await wait_until(both_ticking, timeout=40)
        await asyncio.sleep(1.5)
    finally:
        for worker in workers:
            worker.stop()
    slots = ticks()
    assert len(slots) == len(set(slots)), "a slot ran more than once"
