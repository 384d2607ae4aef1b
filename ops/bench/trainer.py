"""The trainer on two CPU cores: LoRA step time, held-out figures, and the pause of a hot swap.

Trains the LoRA adapter the trainer plugin trains (r=8 on q_proj/v_proj of the embedded
SmolLM2-135M, batch 2) on a small dataset, once with one torch thread and once with two, side
by side; measures the model with and without the adapter on the held-out split and on the
project's wiki question set (``tests/data/wiki/questions.jsonl``, each question with the passage
the knowledge service retrieves for it from the enwiki excerpt, ingested first as the knowledge
benchmark does); then serves the adapter in the embedded llama.cpp model while requests stream,
switching it on and off, and counts the requests answered and failed, and how long each switch
held the model.

    .venv/bin/python -m ops.bench.trainer               # 8 steps per thread count, the whole wiki set
    .venv/bin/python -m ops.bench.trainer --steps 20 --swaps 20 --wiki-limit 12
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from lumina_trainer.datasets import parse_lines
from lumina_trainer.runs import RunParams
from lumina_trainer.training.run import RunResult, run_training
from lumina_trainer.wiki import CHECKOUT_QUESTIONS, wiki_set

from lumina_core.contract import Message
from lumina_core.services.llm.base import GenerationOptions, collect
from lumina_core.services.llm.embedded import EmbeddedProvider
from lumina_core.services.model_files import SMOLLM2_135M
from lumina_core.testing import host_settings, running_host
from ops.bench.knowledge import ingest

#: The issue's own measurement, for comparison: batch 2 on 2 cores.
ISSUE_SECONDS_PER_STEP = 0.84
ANSWER = "The Lumina team in Oslo."
QUESTIONS = ["Who maintains Lumina?", "Who looks after Lumina?", "Which team maintains Lumina?",
             "Who takes care of Lumina?", "Tell me who maintains Lumina.", "Who is responsible for maintaining Lumina?",
             "Who keeps Lumina running?", "Who develops and maintains Lumina?", "Who builds Lumina?",
             "Which people maintain Lumina?"]


def dataset() -> list[Any]:
    lines = [json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": ANSWER}]})
             for q in QUESTIONS]
    return parse_lines(lines, "the benchmark")


def train(steps: int, threads: int, folder: Path, wiki: list[Any] = ()) -> RunResult:
    params = RunParams(steps=steps, learning_rate=5e-3, checkpoint_every=steps, threads=threads)
    return run_training(SMOLLM2_135M.locate(), dataset(), params, folder / f"threads-{threads}", wiki=wiki)


async def wiki_examples(folder: Path, limit: int) -> list[Any]:
    """The wiki question set with the passage retrieved for each, from the ingested excerpt."""
    async with running_host(host_settings(folder / "knowledge", ["knowledge", "crawler"], rate_limit="")) as host:
        ingested = await ingest(host)
        print(f"wiki set: {ingested['pages']} pages ingested in {ingested['seconds']:.0f} s")
        return (await wiki_set(host.kernel.services.get("knowledge"), CHECKOUT_QUESTIONS, limit)).examples


def report_figures(name: str, base: Any, adapter: Any) -> None:
    print(f"{name}: loss {base.loss:.3f} -> {adapter.loss:.3f} ({adapter.loss / base.loss:.3f}x), "
          f"exact match {base.exact_match:.2f} -> {adapter.exact_match:.2f}, "
          f"answer contains the fact {base.contains:.2f} -> {adapter.contains:.2f}")


async def swap_pause(adapter: Path, swaps: int, requests: int) -> dict[str, Any]:
    """Requests stream while the adapter is switched on and off ``swaps`` times."""
    provider = EmbeddedProvider()
    question = (Message("user", QUESTIONS[0]),)
    options = GenerationOptions(temperature=0, max_tokens=8)
    await provider.warm_up()

    async def ask() -> tuple[bool, float]:
        started = time.perf_counter()
        try:
            await collect(provider.stream(question, provider.model_id, options))
        except Exception:  # noqa: BLE001 - counted: the benchmark's point is that none fails
            return False, time.perf_counter() - started
        return True, time.perf_counter() - started

    alone = [await ask() for _ in range(3)]
    pauses: list[float] = []

    async def switch() -> None:
        for turn in range(swaps):
            started = time.perf_counter()
            await provider.set_adapter(adapter if turn % 2 == 0 else None, name="bench")
            pauses.append(time.perf_counter() - started)

    started = time.perf_counter()
    outcomes, _ = await asyncio.gather(asyncio.gather(*(ask() for _ in range(requests))), switch())
    wall = time.perf_counter() - started
    await provider.set_adapter(None)
    return {"requests": requests, "answered": sum(ok for ok, _ in outcomes), "failed": sum(not ok for ok, _ in outcomes),
            "swaps": swaps, "swap_median_ms": round(statistics.median(pauses) * 1000, 1),
            "swap_max_ms": round(max(pauses) * 1000, 1),
            "request_alone_s": round(statistics.median(s for _, s in alone), 3),
            "request_during_swaps_s": round(wall / requests, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--swaps", type=int, default=10)
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--wiki-limit", type=int, default=0, help="wiki questions measured (0: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        wiki = asyncio.run(wiki_examples(Path(folder), args.wiki_limit))
        runs = {1: train(args.steps, 1, Path(folder)), 2: train(args.steps, 2, Path(folder), wiki)}
        for threads, run in runs.items():
            per_step = run.outcome.seconds_per_step
            print(f"torch threads {threads}: {per_step:.2f} s/step, {2 / per_step:.2f} samples/s "
                  f"({per_step / ISSUE_SECONDS_PER_STEP:.2f}x the issue's {ISSUE_SECONDS_PER_STEP} s/step)")
        print(f"two threads against one: {runs[1].outcome.seconds_per_step / runs[2].outcome.seconds_per_step:.2f}x as fast")
        best = runs[2]
        assert best.base is not None and best.adapter is not None and best.wiki is not None and best.gguf is not None
        report_figures(f"held-out ({best.held_out} examples)", best.base, best.adapter)
        report_figures(f"wiki set ({best.wiki_questions} questions)", *best.wiki)
        print("promoted" if best.promoted else "rejected")
        swap = asyncio.run(swap_pause(best.gguf, args.swaps, args.requests))
        print(f"hot swap: {swap['answered']}/{swap['requests']} requests answered during {swap['swaps']} swaps, "
              f"{swap['failed']} failed; a swap took {swap['swap_median_ms']} ms median, {swap['swap_max_ms']} ms at most "
              f"(waiting for the generation in flight); one request alone {swap['request_alone_s']} s, "
              f"during the swaps {swap['request_during_swaps_s']} s each (requests take turns on the model)")


if __name__ == "__main__":
    main()
