"""Chats of the memory and thread endpoints, through the host's ``chat`` service.

The chat service gathers context (memory's own ``chat_context`` included), fits it in the token
budget, calls the model and hands the finished turn to ``after_chat_turn``. Here we only build
the request for the authenticated user and shape the answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from pydantic import BaseModel, Field, field_validator

from lumina_core.auth import User
from lumina_core.contract import ChatRequest, Message
from lumina_memory.plugin import Memory


class ChatBody(BaseModel):
    message: str = Field(min_length=1, max_length=100_000, description="What the user says.")
    brain_id: str | None = Field(None, min_length=1, max_length=100, description="Which of the user's memories.")
    system_prompt: str | None = Field(None, max_length=20_000)
    model: str | None = None
    max_tokens: int | None = Field(None, ge=1, le=32_768)

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the message is empty: say something")
        return value


def chat_request(
    user: User, body: ChatBody, *, brain_id: str, thread_id: str | None, system_prompt: str | None,
    metadata: Mapping[str, Any] | None = None,
) -> ChatRequest:
    messages = ([Message("system", system_prompt)] if system_prompt else []) + [Message("user", body.message)]
    return ChatRequest(
        messages=tuple(messages), user_id=user.id, model=body.model, brain_id=brain_id,
        thread_id=thread_id, metadata=dict(metadata or {}),
    )


async def complete(memory: Memory, request: ChatRequest, max_tokens: int | None) -> tuple[Any, float]:
    """The whole reply and the time it took in milliseconds."""
    started = time.perf_counter()
    reply = await memory.ctx.service("chat").complete(request, max_tokens=max_tokens)
    return reply, (time.perf_counter() - started) * 1000


def reply_summary(reply: Any, user: User, elapsed_ms: float) -> dict[str, Any]:
    """The seeds' answer shape, plus the model, usage and turn id."""
    memory_blocks = [b for b in reply.context if b.source.startswith("memory.")]
    return {
        "response": reply.text,
        "user_id": user.id,
        "context_used": bool(memory_blocks),
        "context_blocks": [{"source": b.source, "cite_id": b.cite_id} for b in reply.context],
        "context_length": sum(len(b.text) for b in reply.context),
        "response_length": len(reply.text),
        "persona_included": any(b.source == "memory.persona" for b in reply.context),
        "processing_time_ms": round(elapsed_ms, 1),
        "model": reply.model,
        "usage": {"prompt_tokens": reply.usage.prompt_tokens, "completion_tokens": reply.usage.completion_tokens},
        "turn_id": reply.turn_id,
    }


async def stream_events(
    memory: Memory, request: ChatRequest, max_tokens: int | None, on_done: Callable[[str], Mapping[str, Any]] | None = None
) -> AsyncIterator[dict[str, str]]:
    """Prepare first (so bad input is a 4xx before the stream starts), then yield SSE events:
    ``context``, ``token`` per piece, ``done`` (or ``error``)."""
    chat = memory.ctx.service("chat")
    started = time.perf_counter()
    prepared = await chat.prepare(request, max_tokens=max_tokens)

    async def events() -> AsyncIterator[dict[str, str]]:
        yield _event("context", {"blocks": [{"source": b.source, "cite_id": b.cite_id} for b in prepared.context]})
        parts: list[str] = []
        try:
            async for chunk in chat.run(prepared):
                if chunk.text:
                    parts.append(chunk.text)
                    yield _event("token", {"text": chunk.text})
                if chunk.finish_reason is not None:
                    text = "".join(parts)
                    extra = dict(on_done(text)) if on_done else {}
                    yield _event("done", {
                        "response_length": len(text),
                        "finish_reason": chunk.finish_reason,
                        "persona_included": any(b.source == "memory.persona" for b in prepared.context),
                        "processing_time_ms": round((time.perf_counter() - started) * 1000, 1),
                        "turn_id": prepared.turn_id,
                        **extra,
                    })
        except Exception as exc:  # noqa: BLE001 - a failure mid-stream becomes an error event
            memory.ctx.logger.warning("chat stream failed: %s", exc)
            yield _event("error", {"type": "unavailable", "message": f"the reply stopped: {exc}"})

    return events()


def _event(name: str, data: Mapping[str, Any]) -> dict[str, str]:
    return {"event": name, "data": json.dumps(data, ensure_ascii=False)}
