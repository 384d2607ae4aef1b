"""The token budget: which context blocks fit beside the conversation and the reply.

The conversation the caller sent always goes in whole (if it cannot fit with room for a reply,
the request is refused as too long). Plugins' context blocks fill what is left, highest
``priority`` first; those that do not fit are dropped and named in the budget.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass

from lumina_core.contract import ContextBlock, Message
from lumina_core.services.llm.base import ContextTooLong

#: Tokens a chat template adds around each message (role markers, separators).
MESSAGE_OVERHEAD = 4

TokenCounter = Callable[[str], Awaitable[int]]


@dataclass(frozen=True)
class Budget:
    """How the model's context window was spent on this request (shown in responses)."""

    context_window: int
    reply_tokens: int
    message_tokens: int
    context_tokens: int
    dropped: tuple[str, ...] = ()

    @property
    def free_tokens(self) -> int:
        return self.context_window - self.reply_tokens - self.message_tokens - self.context_tokens

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "dropped": list(self.dropped), "free_tokens": self.free_tokens}


@dataclass(frozen=True)
class Assembled:
    messages: tuple[Message, ...]
    blocks: tuple[ContextBlock, ...]
    budget: Budget


async def assemble(
    messages: Sequence[Message],
    blocks: Sequence[ContextBlock],
    *,
    count: TokenCounter,
    context_window: int,
    max_tokens: int | None,
    default_reply_tokens: int,
) -> Assembled:
    """Fit ``blocks`` around ``messages`` within ``context_window``, keeping room for the reply."""
    message_tokens = sum([await count(m.content) + MESSAGE_OVERHEAD for m in messages])
    room = context_window - message_tokens
    reply = max_tokens if max_tokens is not None else min(default_reply_tokens, room)
    if reply < 1 or reply > room:
        raise ContextTooLong(
            f"the messages take {message_tokens} tokens and the reply needs {max(reply, 1)}, but the "
            f"model's context window is {context_window} tokens: shorten the messages or lower max_tokens",
            field="messages",
        )
    chosen, dropped, spent = [], [], 0
    for block in sorted(blocks, key=lambda b: -b.priority):
        cost = (block.tokens if block.tokens is not None else await count(block.text)) + MESSAGE_OVERHEAD
        if spent + cost <= room - reply:
            chosen.append(block)
            spent += cost
        else:
            dropped.append(block.source)
    budget = Budget(context_window, reply, message_tokens, spent, tuple(dropped))
    kept = tuple(b for b in blocks if b in chosen)
    return Assembled(_with_context(messages, kept), kept, budget)


def _with_context(messages: Sequence[Message], blocks: Sequence[ContextBlock]) -> tuple[Message, ...]:
    """Role blocks become earlier turns; the others join the system prompt, by priority."""
    history = [Message(b.role, b.text) for b in blocks if b.role is not None]
    notes = [b.text for b in sorted(blocks, key=lambda b: -b.priority) if b.role is None]
    rest = list(messages)
    system = [rest.pop(0).content] if rest and rest[0].role == "system" else []
    system_text = "\n\n".join([*system, *notes])
    head = [Message("system", system_text)] if system_text else []
    return (*head, *history, *rest)
