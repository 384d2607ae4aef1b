"""The values that cross the plugin boundary through hooks.

Hook implementations receive and return these small, frozen records, so the host and every
plugin agree on one shape. New optional fields may be added; existing ones never change meaning
within an ``API_VERSION`` major.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

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
    """A function that models may call, described by a JSON Schema of its parameters.

    ``run`` is awaited with the arguments as keywords, once they fit ``parameters``; what it
    returns (JSON-like data or text) is the result. Registered tools are kept on the core's
    ``plugin_tools`` shelf (:mod:`lumina_core.chat.tools`) for the plugin that runs tools.
    """

    name: str
    description: str
    parameters: Mapping[str, Any]
    run: Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class ToolCall:
    """A call a model decided on: which tool, with which arguments (an id to answer it by)."""

    id: str
    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)


class ToolRouter(Protocol):
    """The ``tool_router`` service (the router-tools plugin offers it): the OpenAI and Ollama
    gateways ask it which of the tools a client offered to call for a conversation.

    ``tools`` are OpenAI function definitions (``name``, ``description``, ``parameters``);
    ``choice`` is ``auto``, ``required`` or one tool's name. The calls come back for the client to
    run, with the decision (why) as plain data for Lumina's own response fields.
    """

    async def choose_tools(
        self, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]], *, user_id: str, choice: str
    ) -> tuple[Sequence[ToolCall], Mapping[str, Any]]: ...


EventHandler = Callable[[Mapping[str, Any]], Awaitable[None]]
TaskHandler = Callable[..., Awaitable[Any]]
