"""Chat examples as token ids, formatted exactly as the embedded model is prompted.

The embedded provider adds its default system message when a conversation brings none, and
formats with the model's own chat template; the same is done here, so what the adapter learns
is what the served model sees. Only the answer's tokens are learned (the prompt's labels are
masked), and an example longer than the limit keeps its answer and loses the prompt's start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lumina_core.services.llm.embedded import DEFAULT_SYSTEM_MESSAGE

IGNORED = -100


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]

    @property
    def answer_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORED)


def with_system(messages: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    chat = [dict(m) for m in messages]
    if not chat or chat[0]["role"] != "system":
        chat.insert(0, {"role": "system", "content": DEFAULT_SYSTEM_MESSAGE})
    return chat


def prompt_ids(tokenizer: Any, prompt: Sequence[dict[str, str]]) -> list[int]:
    """The prompt as the model reads it, ending where the assistant's answer starts."""
    text = tokenizer.apply_chat_template(with_system(prompt), tokenize=False, add_generation_prompt=True)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def encode(tokenizer: Any, prompt: Sequence[dict[str, str]], answer: str, max_tokens: int) -> Encoded:
    head = prompt_ids(tokenizer, prompt)
    tail = tokenizer(answer, add_special_tokens=False)["input_ids"] + [_end_of_turn(tokenizer)]
    tail = tail[:max_tokens]
    head = head[max(0, len(head) + len(tail) - max_tokens):]
    return Encoded(head + tail, [IGNORED] * len(head) + tail)


def _end_of_turn(tokenizer: Any) -> int:
    """``<|im_end|>`` for ChatML models (SmolLM2), else the end-of-sequence token."""
    token = tokenizer.convert_tokens_to_ids("<|im_end|>")
    return token if isinstance(token, int) and token != tokenizer.unk_token_id else tokenizer.eos_token_id


def batch(tokenizer: Any, items: Sequence[Encoded]) -> dict[str, Any]:
    """Right-padded tensors of a few examples."""
    import torch

    width = max(len(item.input_ids) for item in items)
    pad = tokenizer.pad_token_id
    ids = [item.input_ids + [pad] * (width - len(item.input_ids)) for item in items]
    labels = [item.labels + [IGNORED] * (width - len(item.labels)) for item in items]
    mask = [[1] * len(item.input_ids) + [0] * (width - len(item.input_ids)) for item in items]
    return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}
