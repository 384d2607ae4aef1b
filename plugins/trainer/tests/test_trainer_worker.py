"""A training run on Redis whose ``lumina worker`` is SIGKILLed after a checkpoint: another worker
resumes it from that checkpoint and finishes it, with its figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lumina_core.testing import LuminaProcess

RUN = {"steps": 6, "batch_size": 2, "learning_rate": 5e-3, "checkpoint_every": 2}


def run_state(data_dir: Path, run_id: str) -> dict[str, Any]:
    """The run as the workers left it in the trainer's own file (no server is running)."""
    from lumina_trainer.database import Database
    from lumina_trainer.runs import RunStore

    db = Database(data_dir / "plugins" / "trainer" / "trainer.sqlite3")
    try:
        return RunStore(db).get(run_id)
    finally:
        db.close()


@pytest.mark.timeout(900)  # trains for real: minutes on two shared cores
async def test_a_run_whose_worker_is_killed_resumes_on_another_worker(lumina_host: Any, lumina_data_dir: Path,
                                                                     redis_backend: dict[str, Any], tmp_path: Path,
                                                                     kit: Any) -> None:
    from lumina_trainer.training.loop import CHECKPOINT

    common = {"plugins": ["trainer"], **redis_backend}
    async with lumina_host(**common, task_workers=0) as host:  # the server queues the run, trains nothing
        imported = await host.client.post("/trainer/datasets/import", content=kit.paraphrases_jsonl(6))
        started = await host.client.post("/trainer/runs", json={"dataset_id": imported.json()["id"], **RUN})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    checkpoint = lumina_data_dir / "plugins" / "trainer" / "runs" / run_id / CHECKPOINT
    worker = {**redis_backend, "load_plugins": "trainer", "events_claim_idle": 1.0, "task_workers": 1}
    doomed = LuminaProcess.worker(lumina_data_dir, tmp_path / "doomed.log", **worker)
    rescuer = None
    try:
        async def checkpointed() -> bool:
            assert doomed.process.poll() is None, doomed.output()[-3000:]
            return checkpoint.exists()

        await kit.until(checkpointed, timeout=200)
        doomed.kill()
        killed = run_state(lumina_data_dir, run_id)
        assert killed["state"] == "running" and 2 <= killed["step"] < RUN["steps"], killed
        rescuer = LuminaProcess.worker(lumina_data_dir, tmp_path / "rescuer.log", **worker)

        async def finished() -> bool:
            return run_state(lumina_data_dir, run_id)["state"] in ("succeeded", "failed", "cancelled")

        await kit.until(finished, timeout=250, every=0.5)
    finally:
        doomed.stop()
        if rescuer is not None:
            assert rescuer.stop() == 0, rescuer.output()[-3000:]

    async with lumina_host(**common, task_workers=0) as host:
        run = (await host.client.get(f"/trainer/runs/{run_id}")).json()
        task = (await host.client.get(f"/tasks/{run['task_id']}")).json()
    assert run["state"] == "succeeded", run["error"]
    figures = run["adapter"]["figures"]
    assert figures["resumed_from"] >= 2 and figures["steps"] == RUN["steps"], figures
    assert figures["base"] and figures["adapter"] and run["adapter"]["status"] in ("promoted", "rejected")
    assert task["state"] == "succeeded" and task["attempts"] == 2, task
