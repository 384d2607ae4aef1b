"""The values that cross the plugin boundary through hooks.

Hook implementations receive and return these small, frozen records, so the host and every
plugin agree on one shape. New optional fields may be added; existing ones never change meaning
within an ``API_VERSION`` major.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
HealthStatus = Literal["ok", "degraded", "down"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class ChatRequest:
    """What context hooks see of a chat request: who asks, in which thread, and what."""

    messages: tuple[Message, ...]
    user_id: str
    model: str | None = None
    brain_id: str = "default"
    thread_id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def last_user_message(self) -> str:
        return next((m.content for m in reversed(self.messages) if m.role == "user"), "")


@dataclass(frozen=True)
class ContextBlock:
    """A piece of context a plugin adds to a prompt.

    Blocks with a ``role`` are replayed as conversation history; the others are joined into the
    system prompt. Under a tight token budget, blocks with a higher ``priority`` are kept first.
    ``cite_id`` lets an answer cite the block's source.
    """

    source: str
    text: str
    priority: int = 50
    role: Role | None = None
    tokens: int | None = None
    cite_id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ChatTurn:
    """A finished chat turn, handed to ``after_chat_turn`` hooks once the reply is sent."""

    request: ChatRequest
    reply: str
    model: str
    usage: Usage
    latency_ms: float
    context: tuple[ContextBlock, ...] = ()
    turn_id: str = ""
    created_at: str = ""


@dataclass(frozen=True)
class HealthCheck:
    """One part's health, as shown by ``GET /health``."""

    name: str
    status: HealthStatus
    latency_ms: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class PeriodicJob:
    """A job run once per schedule across all workers."""

    name: str
    cron: str
    run: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Tool:
    """A function that models may call, described by a JSON Schema of its parameters."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    run: Callable[..., Awaitable[Any]]


EventHandler = Callable[[Mapping[str, Any]], Awaitable[None]]
TaskHandler = Callable[..., Awaitable[Any]]
