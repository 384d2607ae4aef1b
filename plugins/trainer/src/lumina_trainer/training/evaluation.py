"""Base model against adapter on a set of examples: answer loss, exact match, the fact contained.

The loss is the mean negative log-likelihood of the answers' tokens (lower is better); exact
match is the share of prompts whose greedy answer equals the target, and ``contains`` the share
whose greedy answer contains it, case, spacing and end punctuation ignored. All are read from
one model, with the adapter switched off for the base figures.

Two rules: on the held-out split the adapter must be no worse in loss and exact match; on the
wiki question set (what it must not forget) it must contain no fewer facts, and its loss may
rise by at most ``WIKI_LOSS_TOLERANCE``: every adapter moves every answer's likelihood a little.
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
#: On the wiki set the fact may come inside a sentence: room for the words around it.
WIKI_SLACK_TOKENS = 24
WIKI_MAX_TOKENS = 512
WIKI_LOSS_TOLERANCE = 0.02


@dataclass(frozen=True)
class Figures:
    loss: float
    exact_match: float
    contains: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


@torch.no_grad()
def measure(model: Any, tokenizer: Any, examples: Sequence[Example], max_tokens: int, *, adapter: bool,
            slack: int = SLACK_TOKENS) -> Figures:
    """The figures of the model with (``adapter=True``) or without its LoRA adapter."""
    switch = contextlib.nullcontext() if adapter else model.disable_adapter()
    with switch:
        answers = [(_greedy(model, tokenizer, e, slack), normalised(e.target)) for e in examples]
        count = max(len(examples), 1)
        return Figures(_loss(model, tokenizer, examples, max_tokens), sum(a == t for a, t in answers) / count,
                       sum(t in a for a, t in answers) / count)


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


def _greedy(model: Any, tokenizer: Any, example: Example, slack: int) -> str:
    """The model's greedy answer, normalised, of at most the target's length plus ``slack`` tokens."""
    ids = torch.tensor([prompt_ids(tokenizer, example.prompt)])
    budget = len(tokenizer(example.target, add_special_tokens=False)["input_ids"]) + slack
    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=budget, do_sample=False,
                         pad_token_id=tokenizer.pad_token_id)
    return normalised(tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True))


def normalised(text: str) -> str:
    return " ".join(text.lower().split()).strip(string.punctuation + " ")


def not_worse(base: Figures, adapter: Figures) -> bool:
    """The promotion rule: the adapter's answer loss is no higher, and it matches no fewer answers."""
    return adapter.loss <= base.loss and adapter.exact_match >= base.exact_match


def not_worse_on_wiki(base: Figures, adapter: Figures) -> bool:
    """The wiki rule: no fact lost, and the reference answers' loss risen by at most the tolerance."""
    return adapter.loss <= base.loss * (1 + WIKI_LOSS_TOLERANCE) and adapter.contains >= base.contains
