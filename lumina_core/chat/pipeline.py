"""The ``chat`` service: context hooks → token budget → model → after-turn hooks.

Plugins add context through ``chat_context`` (called concurrently, each bounded by the hook
timeout, so a slow plugin only loses its blocks). After the reply has been streamed,
``after_chat_turn`` runs in the background: the caller never waits for it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Histogram

from lumina_core.chat.budget import Budget, assemble
from lumina_core.contract import ChatRequest, ChatTurn, ContextBlock, Message, Usage
from lumina_core.errors import ValidationFailed
from lumina_core.services.llm.base import ChatChunk, FinishReason
from lumina_core.services.llm.registry import LLMService

if TYPE_CHECKING:
    from lumina_core.kernel import Kernel

log = logging.getLogger("lumina.chat")

CHAT_TOKENS = Counter("lumina_chat_tokens_total", "Tokens of finished chat turns.", ["model", "kind"])
FIRST_TOKEN_SECONDS = Histogram(
    "lumina_chat_first_token_seconds", "Time from the model call to its first chunk.", ["model"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


@dataclass(frozen=True)
class PreparedChat:
    """A request checked and assembled, ready to run: what the model will see, and why."""

    request: ChatRequest
    model: str
    messages: tuple[Message, ...]
    context: tuple[ContextBlock, ...]
    budget: Budget
    turn_id: str
    options: dict[str, Any]


@dataclass(frozen=True)
class ChatReply:
    text: str
    model: str
    usage: Usage
    finish_reason: FinishReason
    context: tuple[ContextBlock, ...]
    budget: Budget
    turn_id: str


class ChatService:
    def __init__(self, kernel: Kernel, llm: LLMService, *, reply_tokens: int = 512) -> None:
        self._kernel = kernel
        self._llm = llm
        self._reply_tokens = reply_tokens

    async def prepare(
        self,
        request: ChatRequest,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: list[str] | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> PreparedChat:
        """Check the request, gather context and fit it in the budget; raise 4xx errors here,
        before any reply starts. ``json_schema`` constrains the reply to JSON of that schema."""
        if not request.messages:
            raise ValidationFailed("messages must hold at least one message", field="messages")
        provider, model = await self._llm.resolve(request.model)
        blocks = await self._context_blocks(request)

        async def count(text: str) -> int:
            return await provider.count_tokens(text, model)

        assembled = await assemble(
            request.messages,
            blocks,
            count=count,
            context_window=await provider.context_window(model),
            max_tokens=max_tokens,
            default_reply_tokens=self._reply_tokens,
        )
        options = {"max_tokens": assembled.budget.reply_tokens, "temperature": temperature, "stop": stop}
        if json_schema is not None:
            options["json_schema"] = json_schema
        return PreparedChat(
            request, model, assembled.messages, assembled.blocks, assembled.budget, uuid.uuid4().hex, options
        )

    async def run(self, prepared: PreparedChat) -> AsyncIterator[ChatChunk]:
        """Stream the reply; once it is complete, hand the turn to ``after_chat_turn`` hooks."""
        started = time.perf_counter()
        parts: list[str] = []
        async for chunk in self._llm.stream(prepared.messages, model=prepared.model, **prepared.options):
            if not parts:
                FIRST_TOKEN_SECONDS.labels(prepared.model).observe(time.perf_counter() - started)
            parts.append(chunk.text)
            if chunk.finish_reason is not None:
                self._after_turn(prepared, "".join(parts), chunk, started)
            yield chunk

    async def stream(self, request: ChatRequest, **options: Any) -> AsyncIterator[ChatChunk]:
        prepared = await self.prepare(request, **options)
        async for chunk in self.run(prepared):
            yield chunk

    async def complete(self, request: ChatRequest, **options: Any) -> ChatReply:
        prepared = await self.prepare(request, **options)
        return await self.reply_of(prepared)

    async def reply_of(self, prepared: PreparedChat) -> ChatReply:
        """Run a prepared chat to the end and return the whole reply with its metadata."""
        parts: list[str] = []
        async for chunk in self.run(prepared):
            parts.append(chunk.text)
            if chunk.finish_reason is not None:
                return ChatReply(
                    "".join(parts), chunk.model, chunk.usage or Usage(), chunk.finish_reason,
                    prepared.context, prepared.budget, prepared.turn_id,
                )
        raise RuntimeError("the model's stream ended without a final chunk")

    async def _context_blocks(self, request: ChatRequest) -> list[ContextBlock]:
        blocks: list[ContextBlock] = []
        for outcome in await self._kernel.call_each("chat_context", request=request):
            for block in outcome.value or ():
                if isinstance(block, ContextBlock):
                    blocks.append(block)
                else:
                    log.warning("plugin '%s' returned %r from chat_context, not a ContextBlock", outcome.plugin, block)
        return blocks

    def _after_turn(self, prepared: PreparedChat, reply: str, last: ChatChunk, started: float) -> None:
        turn = ChatTurn(
            request=prepared.request,
            reply=reply,
            model=last.model,
            usage=last.usage or Usage(),
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            context=prepared.context,
            turn_id=prepared.turn_id,
            created_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        )
        CHAT_TOKENS.labels(turn.model, "prompt").inc(turn.usage.prompt_tokens)
        CHAT_TOKENS.labels(turn.model, "completion").inc(turn.usage.completion_tokens)
        self._kernel.call_each_later("after_chat_turn", turn=turn)
