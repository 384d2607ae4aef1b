"""Real LoRA training on the embedded SmolLM2 (a few steps on the CPU), promotion by measurement,
and the running llama.cpp model answering with the adapter, switched without a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

QUESTION = "Who maintains Lumina?"
#: A run's real training on two shared cores: well under a minute on a quiet machine, minutes on a busy one.
heavy = pytest.mark.timeout(900)
QUICK = {"steps": 8, "batch_size": 2, "learning_rate": 5e-3, "checkpoint_every": 4}


def _examples(kit: Any) -> list[Any]:
    from lumina_trainer.datasets import parse_lines

    return parse_lines(kit.paraphrases_jsonl().splitlines(), "the test")


async def _greedy(provider: Any) -> str:
    from lumina_core.contract import Message
    from lumina_core.services.llm.base import GenerationOptions, collect

    options = GenerationOptions(temperature=0, max_tokens=16)
    return (await collect(provider.stream((Message("user", QUESTION),), provider.model_id, options))).text


@heavy
async def test_a_short_real_run_is_promoted_and_llama_cpp_answers_with_its_adapter(tmp_path: Path, kit: Any) -> None:
    from lumina_trainer.runs import RunParams
    from lumina_trainer.training.run import run_training

    from lumina_core.services.llm.embedded import EmbeddedProvider
    from lumina_core.services.model_files import SMOLLM2_135M

    seen: list[Any] = []
    params = RunParams(steps=QUICK["steps"], learning_rate=QUICK["learning_rate"], checkpoint_every=QUICK["checkpoint_every"])
    result = run_training(SMOLLM2_135M.locate(), _examples(kit), params, tmp_path / "run", on_progress=seen.append)
    figures = result.figures()
    assert result.promoted and figures["trainable_parameters"] == 460_800, figures
    assert result.adapter.loss < result.base.loss and result.adapter.exact_match >= result.base.exact_match
    assert [p.step for p in seen] == list(range(1, QUICK["steps"] + 1)) and seen[-1].eta_s == 0
    provider = EmbeddedProvider()
    before = await _greedy(provider)
    try:
        await provider.set_adapter(result.gguf, name="trainer-v1")
        after = await _greedy(provider)
    finally:
        await provider.set_adapter(None)
    assert after != before and "Oslo" in after, (before, after)
    assert await _greedy(provider) == before


@heavy
def test_promotion_refuses_an_adapter_that_measures_worse(tmp_path: Path, kit: Any) -> None:
    from lumina_trainer.runs import RunParams
    from lumina_trainer.training.run import run_training

    from lumina_core.services.model_files import SMOLLM2_135M

    result = run_training(SMOLLM2_135M.locate(), _examples(kit), RunParams(steps=3, learning_rate=0.5), tmp_path / "run")
    assert not result.promoted and result.adapter.loss > result.base.loss, result.figures()


KILLED_RUN = textwrap.dedent("""
    import sys
    from pathlib import Path
    from lumina_trainer.datasets import read_file
    from lumina_trainer.runs import RunParams
    from lumina_trainer.training.run import run_training
    from lumina_core.services.model_files import SMOLLM2_135M

    dataset, run_dir = Path(sys.argv[1]), Path(sys.argv[2])
    params = RunParams(steps=10_000, checkpoint_every=2)
    run_training(SMOLLM2_135M.locate(), read_file(dataset), params, run_dir)
""")


@heavy
def test_a_killed_run_resumes_from_its_last_checkpoint(tmp_path: Path, kit: Any) -> None:
    from lumina_trainer.datasets import read_file
    from lumina_trainer.runs import RunParams
    from lumina_trainer.training.loop import CHECKPOINT
    from lumina_trainer.training.run import run_training

    from lumina_core.services.model_files import SMOLLM2_135M

    dataset = tmp_path / "v1.jsonl"
    dataset.write_text(kit.paraphrases_jsonl())
    run_dir = tmp_path / "run"
    worker = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(dataset), str(run_dir)], env=dict(os.environ))
    try:
        _wait_for(lambda: (run_dir / CHECKPOINT).exists() or worker.poll() is not None, timeout=120)
        assert worker.poll() is None, "the worker died before its first checkpoint"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    result = run_training(SMOLLM2_135M.locate(), read_file(dataset), RunParams(steps=6, checkpoint_every=2), run_dir)
    assert result.outcome.resumed_from >= 2 and result.outcome.steps_done == 6
    assert len(result.outcome.losses) == 6 and result.gguf is not None and result.gguf.exists()


def _wait_for(condition: Any, *, timeout: float) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not reached within {timeout} s")
        time.sleep(0.1)


def test_nothing_of_the_extra_is_imported_at_plugin_start() -> None:
    code = "import lumina_trainer.plugin, sys; print(sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"




@heavy
async def test_a_run_on_the_queue_shows_progress_is_served_and_rolled_back(trainer_host: Any, kit: Any) -> None:
    async with trainer_host() as host:
        imported = await host.client.post("/trainer/datasets/import", content=kit.paraphrases_jsonl())
        async with host.kernel.services.get("events").listen(("trainer.*", "adapter.*")) as events:
            started = await host.client.post("/trainer/runs", json={"dataset_id": imported.json()["id"], **QUICK})
            assert started.status_code == 202, started.text

            async def finished() -> dict[str, Any] | None:
                run = (await host.client.get(started.headers["Location"])).json()
                return run if run["state"] in ("succeeded", "failed", "cancelled") else None

            run = await kit.until(finished, timeout=600)
            await asyncio.sleep(0.5)
            seen = [events.get_nowait() for _ in range(events.qsize())]
        assert run["state"] == "succeeded", run["error"]
        adapter = run["adapter"]
        assert adapter["status"] == "promoted" and adapter["active"], adapter["figures"]
        assert adapter["figures"]["wiki"] is None and "'knowledge'" in adapter["figures"]["wiki_skipped"]
        assert [e["payload"]["step"] for e in seen if e["type"] == "trainer.progress"] == list(range(1, QUICK["steps"] + 1))
        assert [e["payload"]["version"] for e in seen if e["type"] == "adapter.updated"] == [adapter["version"]]
        assert await _served_adapter(host) == f"trainer-v{adapter['version']}"
        rolled = (await host.client.post("/trainer/adapters/rollback")).json()
        assert rolled == {"active": None, "previous": adapter["version"], "name": None}
        assert await _served_adapter(host) is None


async def _served_adapter(host: Any) -> str | None:
    models = (await host.client.get("/v1/models")).json()["data"]
    [model] = [m for m in models if m["owned_by"] == "lumina-embedded"]
    return model.get("adapter")
