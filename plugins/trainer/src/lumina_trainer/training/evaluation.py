"""Base model against adapter on the held-out examples: answer loss and exact match.

The loss is the mean negative log-likelihood of the held-out answers' tokens (lower is better);
exact match is the share of held-out prompts whose greedy answer equals the target, case,
spacing and end punctuation ignored. Both are read from one model, with the adapter switched
off for the base figures.
"""

from __future__ import annotations

import contextlib
import string
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

from lumina_trainer.datasets import Example
from lumina_trainer.training.encoding import IGNORED, encode, prompt_ids

#: Tokens generated beyond the target's own length before an answer counts as wrong.
SLACK_TOKENS = 4


@dataclass(frozen=True)
class Figures:
    loss: float
    exact_match: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


@torch.no_grad()
def measure(model: Any, tokenizer: Any, held_out: Sequence[Example], max_tokens: int, *, adapter: bool) -> Figures:
    """The figures of the model with (``adapter=True``) or without its LoRA adapter."""
    switch = contextlib.nullcontext() if adapter else model.disable_adapter()
    with switch:
        return Figures(_loss(model, tokenizer, held_out, max_tokens), _exact_match(model, tokenizer, held_out))


def _loss(model: Any, tokenizer: Any, held_out: Sequence[Example], max_tokens: int) -> float:
    total, tokens = 0.0, 0
    for example in held_out:
        encoded = encode(tokenizer, example.prompt, example.target, max_tokens)
        ids = torch.tensor([encoded.input_ids])
        logits = model(input_ids=ids).logits[0, :-1]
        labels = torch.tensor(encoded.labels[1:])
        keep = labels != IGNORED
        total += float(torch.nn.functional.cross_entropy(logits[keep], labels[keep], reduction="sum"))
        tokens += int(keep.sum())
    return total / max(tokens, 1)


def _exact_match(model: Any, tokenizer: Any, held_out: Sequence[Example]) -> float:
    hits = 0
    for example in held_out:
        ids = torch.tensor([prompt_ids(tokenizer, example.prompt)])
        budget = len(tokenizer(example.target, add_special_tokens=False)["input_ids"]) + SLACK_TOKENS
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=budget, do_sample=False,
                             pad_token_id=tokenizer.pad_token_id)
        answer = tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
        hits += normalised(answer) == normalised(example.target)
    return hits / max(len(held_out), 1)


def normalised(text: str) -> str:
    return " ".join(text.lower().split()).strip(string.punctuation + " ")


def not_worse(base: Figures, adapter: Figures) -> bool:
    """The promotion rule: the adapter's answer loss is no higher, and it matches no fewer answers."""
    return adapter.loss <= base.loss and adapter.exact_match >= base.exact_match
