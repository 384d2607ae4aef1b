"""Choosing among given texts with the embedded model, paying a forward pass only for real choices.

A *program* alternates fixed text and choices, e.g. ``['{"tool":', ['"weather"', '"news"'], '}']``:
the model continues the prompt with the fixed text and, at each choice, with the option it
finds likeliest, token by token (greedy constrained decoding). The options of a choice are read
as a trie of their tokens, so where the trie does not branch (the quote every JSON string opens
with, the rest of a name once its first token settled it) tokens are taken without asking the
model; they are read together with the next real choice, in one batch. Reading a batch costs
about a pass per few tokens on a CPU, so what matters is how many tokens are read at all.

The model's context keeps what it read (:class:`KeptContext`, a llama.cpp context of its own, so
that chat answers do not evict it): a program whose prompt starts like the previous one's (the
same system message listing the tools, the same message with the tool now chosen) reads only
what is new.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lumina_core.errors import ValidationFailed

#: A program: fixed text, or the options of one choice.
Step = str | Sequence[str]


@dataclass(frozen=True)
class Selection:
    """The option taken at each choice, and what it cost: tokens read and forward passes."""

    chosen: tuple[str, ...]
    tokens_read: int
    passes: int


@dataclass
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    option: str | None = None


def option_trie(options: Sequence[str], tokenize: Callable[[str], list[int]]) -> _Node:
    """The options' token sequences as a trie; a node where an option ends names it."""
    root = _Node()
    for option in options:
        node = root
        for token in tokenize(option):
            node = node.children.setdefault(token, _Node())
        if node.option is None:
            node.option = option
    return root


class KeptContext:
    """A llama.cpp context over an already loaded model, which remembers the tokens in its cache
    so that a new read starts where it diverges from the last one."""

    def __init__(self, llama: Any, *, context: int, threads: int) -> None:
        import llama_cpp

        params = llama_cpp.llama_context_default_params()
        params.n_ctx = context
        params.n_batch = params.n_ubatch = llama.context_params.n_ubatch
        params.n_threads = params.n_threads_batch = threads
        params.no_perf = True
        # as ``Llama`` does: llama.cpp's automatic choice of flash attention read a batch after a
        # kept prompt at half the speed on this machine's CPU (87 ms against 160 ms, 26 tokens)
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        self._ctx = llama_cpp.llama_init_from_model(llama.model, params)
        if not self._ctx:
            raise RuntimeError("llama.cpp could not make a second context for the embedded model")
        self._window = context
        self._batch_size = params.n_batch
        self._vocabulary = llama.n_vocab()
        self._batch = llama_cpp.llama_batch_init(self._batch_size, 0, 1)
        self.tokens: list[int] = []

    @property
    def ctx(self) -> Any:
        return self._ctx

    def forget(self) -> None:
        """Drop what the cache holds (its weights changed: another LoRA adapter)."""
        import llama_cpp

        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self._ctx), True)
        self.tokens = []

    def logits_after(self, tokens: Sequence[int]) -> tuple[np.ndarray, int]:
        """The next-token logits after ``tokens``, and how many tokens had to be read for them."""
        import llama_cpp

        if len(tokens) > self._window:
            raise ValidationFailed(f"the choice's prompt takes {len(tokens)} tokens, more than the model's "
                                   f"{self._window}: shorten the messages", field="messages")
        kept = _common_prefix(self.tokens, tokens, limit=len(tokens) - 1)
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(self._ctx), 0, kept, -1)
        self.tokens = self.tokens[:kept]
        for start in range(kept, len(tokens), self._batch_size):
            self._decode(tokens, start, min(len(tokens), start + self._batch_size))
        self.tokens = list(tokens)
        row = llama_cpp.llama_get_logits_ith(self._ctx, -1)
        return np.ctypeslib.as_array(row, shape=(self._vocabulary,)), len(tokens) - kept

    def _decode(self, tokens: Sequence[int], start: int, end: int) -> None:
        import llama_cpp

        fill_batch(self._batch, tokens, start, end, wanted=(len(tokens) - 1,))
        if llama_cpp.llama_decode(self._ctx, self._batch) != 0:
            self.forget()
            raise RuntimeError("the embedded model could not read the choice's prompt")

    def close(self) -> None:
        import llama_cpp

        if self._ctx:
            llama_cpp.llama_batch_free(self._batch)
            llama_cpp.llama_free(self._ctx)
            self._ctx = None


def fill_batch(batch: Any, tokens: Sequence[int], start: int, end: int, *, wanted: Container[int]) -> None:
    """Put ``tokens[start:end]`` at their positions in llama.cpp's ``batch`` (one sequence), the
    logits asked for only at the positions in ``wanted``."""
    for i, position in enumerate(range(start, end)):
        batch.token[i], batch.pos[i], batch.n_seq_id[i] = tokens[position], position, 1
        batch.seq_id[i][0] = 0
        batch.logits[i] = position in wanted
    batch.n_tokens = end - start


def _common_prefix(a: Sequence[int], b: Sequence[int], *, limit: int) -> int:
    size = min(len(a), len(b), max(limit, 0))
    return next((i for i in range(size) if a[i] != b[i]), size)


def select(context: KeptContext, prompt: list[int], program: Sequence[Step],
           tokenize: Callable[[str], list[int]], end_token: int) -> Selection:
    """Run ``program`` after ``prompt`` (tokens): fixed text is taken as it is; at each choice the
    likeliest allowed token is taken, the model asked only where the options branch. An option
    may end where a longer one goes on: the model then weighs going on against the first token
    of what follows (the next fixed text, else ``end_token``)."""
    tokens = list(prompt)
    chosen: list[str] = []
    read = passes = 0
    for index, step in enumerate(program):
        if isinstance(step, str):
            tokens += tokenize(step)
            continue
        if not step:
            raise ValueError("a choice needs at least one option")
        after = program[index + 1] if index + 1 < len(program) else None
        follow = tokenize(after)[0] if isinstance(after, str) and after else end_token
        node = option_trie(step, tokenize)
        while node.children:
            moves = list(node.children)
            if len(moves) > 1 or node.option is not None:
                logits, fresh = context.logits_after(tokens)
                read, passes = read + fresh, passes + 1
                weighed = moves + ([follow] if node.option is not None and follow not in node.children else [])
                best = max(weighed, key=lambda token: logits[token])
                if best not in node.children:
                    break
            else:
                best = moves[0]
            tokens.append(best)
            node = node.children[best]
        chosen.append(node.option or "")
    return Selection(tuple(chosen), read, passes)
