"""Runs are measured on the project's wiki question set too (a subset here), base against adapter,
and an adapter worse on it is not promoted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lumina_trainer.wiki import CHECKOUT_QUESTIONS

QUICK = {"steps": 4, "batch_size": 2, "learning_rate": 5e-3, "checkpoint_every": 2}
SUBSET = 2


def apollo_8_questions(folder: Path) -> Path:
    """The wiki set's own first Apollo 8 questions: a subset cheap enough for CI."""
    lines = [line for line in CHECKOUT_QUESTIONS.read_text().splitlines() if json.loads(line)["title"] == "Apollo 8"][:SUBSET]
    subset = folder / "questions.jsonl"
    subset.write_text("\n".join(lines) + "\n")
    return subset


@pytest.mark.timeout(900)  # trains for real: minutes on two shared cores
async def test_a_run_reports_base_and_adapter_on_the_wiki_set(trainer_host: Any, kit: Any, tmp_path: Path) -> None:
    config = {"trainer": {"wiki_questions": str(apollo_8_questions(tmp_path))}}
    async with trainer_host(plugins=["knowledge"], plugin_config=config) as host:
        await host.kernel.services.get("knowledge").index_article(kit.apollo_8)
        imported = await host.client.post("/trainer/datasets/import", content=kit.paraphrases_jsonl(6))
        started = await host.client.post("/trainer/runs", json={"dataset_id": imported.json()["id"], **QUICK})

        async def finished() -> dict[str, Any] | None:
            run = (await host.client.get(started.headers["Location"])).json()
            return run if run["state"] in ("succeeded", "failed", "cancelled") else None

        run = await kit.until(finished, timeout=280)
    assert run["state"] == "succeeded", run["error"]
    figures = run["adapter"]["figures"]
    wiki = figures["wiki"]
    assert wiki["questions"] == SUBSET and "wiki_skipped" not in figures, figures
    assert set(wiki["base"]) == set(wiki["adapter"]) == {"loss", "exact_match", "contains"}
    assert wiki["base"]["loss"] > 0 and wiki["base"]["contains"] > 0, wiki  # the passage holds the facts
    from lumina_trainer.training.evaluation import Figures, not_worse, not_worse_on_wiki

    on_wiki = not_worse_on_wiki(Figures(**wiki["base"]), Figures(**wiki["adapter"]))
    held_out = not_worse(Figures(**figures["base"]), Figures(**figures["adapter"]))
    assert (run["adapter"]["status"] == "promoted") == (on_wiki and held_out), figures


def test_an_adapter_better_on_held_out_but_worse_on_the_wiki_set_is_rejected() -> None:
    from lumina_trainer.training.evaluation import Figures
    from lumina_trainer.training.loop import Outcome
    from lumina_trainer.training.run import RunResult

    better, base = Figures(0.5, 1.0, 1.0), Figures(2.0, 0.0, 0.0)
    kept = RunResult(Outcome(3), 10, 2, base, better, wiki=(Figures(1.0, 0.0, 0.67), Figures(1.01, 0.0, 0.67)), wiki_questions=3)
    forgot = RunResult(Outcome(3), 10, 2, base, better, wiki=(Figures(1.0, 0.0, 0.67), Figures(1.0, 0.0, 0.33)), wiki_questions=3)
    drifted = RunResult(Outcome(3), 10, 2, base, better, wiki=(Figures(1.0, 0.0, 0.67), Figures(1.1, 0.0, 0.67)), wiki_questions=3)
    assert kept.promoted and not forgot.promoted and not drifted.promoted
