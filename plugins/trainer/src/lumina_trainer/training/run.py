"""One training run from start to verdict: train on most of a dataset, measure on the rest, export.

The held-out split is chosen by each example's content (about one in five, at least one), so it
is the same on every attempt of a run and for every run of the same dataset. Given the wiki
question set (see :mod:`lumina_trainer.wiki`), base and adapter are measured on it too, and the
adapter is promoted only when it is not worse on both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lumina_core.errors import ValidationFailed
from lumina_trainer.datasets import Example
from lumina_trainer.runs import RunParams
from lumina_trainer.training.base_model import load_base
from lumina_trainer.training.encoding import encode
from lumina_trainer.training.evaluation import (WIKI_MAX_TOKENS, WIKI_SLACK_TOKENS, Figures, measure, not_worse,
                                                 not_worse_on_wiki)
from lumina_trainer.training.export import write_gguf_lora
from lumina_trainer.training.loop import Outcome, Progress, train, with_lora

HELD_OUT_SHARE = 5
ADAPTER_FILE = "adapter.gguf"


@dataclass(frozen=True)
class RunResult:
    outcome: Outcome
    examples: int
    held_out: int
    base: Figures | None = None
    adapter: Figures | None = None
    gguf: Path | None = None
    wiki: tuple[Figures, Figures] | None = None
    wiki_questions: int = 0

    @property
    def promoted(self) -> bool:
        if self.base is None or self.adapter is None or not not_worse(self.base, self.adapter):
            return False
        return self.wiki is None or not_worse_on_wiki(*self.wiki)

    def figures(self) -> dict[str, object]:
        wiki = None if self.wiki is None else {"base": self.wiki[0].to_dict(), "adapter": self.wiki[1].to_dict(),
                                                "questions": self.wiki_questions}
        return {"base": self.base.to_dict() if self.base else None,
                "adapter": self.adapter.to_dict() if self.adapter else None,
                "held_out": self.held_out, "trained_on": self.examples - self.held_out, "wiki": wiki,
                "steps": self.outcome.steps_done, "resumed_from": self.outcome.resumed_from,
                "seconds_per_step": round(self.outcome.seconds_per_step, 3),
                "trainable_parameters": self.outcome.trainable_parameters,
                "final_loss": round(self.outcome.losses[-1], 4) if self.outcome.losses else None}


def split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(train, held out): about one in five held out, at least one of each."""
    if len(examples) < 2:
        raise ValidationFailed(f"a run needs at least 2 examples (one is held out to measure the adapter); "
                               f"this dataset has {len(examples)}", field="dataset_id")
    held = [e for e in examples if int(e.key[:8], 16) % HELD_OUT_SHARE == 0] or [min(examples, key=lambda e: e.key)]
    if len(held) == len(examples):
        held = held[:1]
    keys = {e.key for e in held}
    return [e for e in examples if e.key not in keys], held


def run_training(
    model_path: Path,
    examples: Sequence[Example],
    params: RunParams,
    run_dir: Path,
    *,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    should_stop: Callable[[], bool] = lambda: False,
    wiki: Sequence[Example] = (),
) -> RunResult:
    """Train, then (unless cancelled) measure base and adapter (on ``wiki`` too, when given) and
    write the GGUF adapter."""
    train_set, held_out = split(examples)
    base = load_base(model_path)
    model = with_lora(base.model, params)
    encoded = [encode(base.tokenizer, e.prompt, e.target, params.max_tokens) for e in train_set]
    outcome = train(model, base.tokenizer, encoded, params, run_dir, on_progress=on_progress, should_stop=should_stop)
    if outcome.cancelled:
        return RunResult(outcome, len(examples), len(held_out))
    before = measure(model, base.tokenizer, held_out, params.max_tokens, adapter=False)
    after = measure(model, base.tokenizer, held_out, params.max_tokens, adapter=True)
    on_wiki = None
    if wiki:
        on_wiki = tuple(measure(model, base.tokenizer, wiki, WIKI_MAX_TOKENS, adapter=adapter, slack=WIKI_SLACK_TOKENS)
                        for adapter in (False, True))
    gguf = run_dir / ADAPTER_FILE
    write_gguf_lora(model, gguf)
    return RunResult(outcome, len(examples), len(held_out), before, after, gguf, on_wiki, len(wiki))
