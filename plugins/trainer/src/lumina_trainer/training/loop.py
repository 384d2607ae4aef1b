"""The LoRA training loop: a few hundred thousand parameters on the attention projections, on the CPU.

Each step's batch is drawn from a generator seeded by the run and the step number, and a
checkpoint (adapter weights, optimizer state, losses) is written atomically every few steps, so
a run whose worker was killed resumes from its last checkpoint and goes on exactly as it would
have. A cancel is honoured between steps, after a last checkpoint.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict

from lumina_trainer.runs import RunParams
from lumina_trainer.training.encoding import Encoded, batch

#: SmolLM2's attention: the two projections the measured 460,800-parameter adapter (r=8) adapts.
TARGET_MODULES = ("q_proj", "v_proj")
CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class Progress:
    step: int
    total_steps: int
    loss: float
    eta_s: float
    seconds_per_step: float


@dataclass
class Outcome:
    steps_done: int
    losses: list[float] = field(default_factory=list)
    resumed_from: int = 0
    cancelled: bool = False
    trainable_parameters: int = 0
    seconds_per_step: float = 0.0


def with_lora(model: Any, params: RunParams) -> Any:
    config = LoraConfig(r=params.rank, lora_alpha=params.alpha, lora_dropout=0.0, target_modules=list(TARGET_MODULES),
                        bias="none", task_type="CAUSAL_LM")
    return get_peft_model(model, config)


def train(
    model: Any,
    tokenizer: Any,
    examples: Sequence[Encoded],
    params: RunParams,
    run_dir: Path,
    *,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Outcome:
    """Train ``model`` (already wrapped by :func:`with_lora`) for ``params.steps`` steps, from the
    run's checkpoint when there is one."""
    torch.manual_seed(params.seed)
    torch.set_num_threads(params.threads)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=params.learning_rate, weight_decay=0.0)
    outcome = Outcome(0, trainable_parameters=sum(p.numel() for p in trainable))
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = run_dir / CHECKPOINT
    if checkpoint.exists():
        outcome.steps_done = outcome.resumed_from = _restore(checkpoint, model, optimizer, outcome)
    model.train()
    timings: list[float] = []
    while outcome.steps_done < params.steps:
        if should_stop():
            outcome.cancelled = True
            break
        started = time.perf_counter()
        loss = _step(model, optimizer, tokenizer, _batch_of(examples, params, outcome.steps_done))
        timings.append(time.perf_counter() - started)
        outcome.steps_done += 1
        outcome.losses.append(loss)
        if outcome.steps_done % params.checkpoint_every == 0 or outcome.steps_done == params.steps:
            _save(checkpoint, model, optimizer, outcome)
        per_step = sum(timings) / len(timings)
        on_progress(Progress(outcome.steps_done, params.steps, loss, round(per_step * (params.steps - outcome.steps_done), 1),
                             per_step))
    if outcome.cancelled:
        _save(checkpoint, model, optimizer, outcome)
    model.eval()
    outcome.seconds_per_step = sum(timings) / len(timings) if timings else 0.0
    return outcome


def _batch_of(examples: Sequence[Encoded], params: RunParams, step: int) -> list[Encoded]:
    chooser = random.Random(params.seed * 1_000_003 + step)
    return chooser.sample(list(examples), min(params.batch_size, len(examples)))


def _step(model: Any, optimizer: Any, tokenizer: Any, items: Sequence[Encoded]) -> float:
    tensors = batch(tokenizer, items)
    loss = model(**tensors).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.detach())


def _save(path: Path, model: Any, optimizer: Any, outcome: Outcome) -> None:
    """Written whole or not at all: a kill mid-write leaves the previous checkpoint."""
    temporary = path.with_name(f".{path.name}.tmp")
    torch.save({"step": outcome.steps_done, "lora": get_peft_model_state_dict(model),
                "optimizer": optimizer.state_dict(), "losses": outcome.losses}, temporary)
    os.replace(temporary, path)


def _restore(path: Path, model: Any, optimizer: Any, outcome: Outcome) -> int:
    state = torch.load(path, map_location="cpu", weights_only=True)
    set_peft_model_state_dict(model, state["lora"])
    optimizer.load_state_dict(state["optimizer"])
    outcome.losses = list(state["losses"])
    return int(state["step"])
