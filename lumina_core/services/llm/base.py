"""What every language-model provider offers, and the values it returns.

A provider serves one or more named models: ``chat`` answers at once, ``stream`` yields text
pieces and ends with one chunk that carries the finish reason and the token counts (counted by
the backend itself, never estimated). Errors are :class:`~lumina_core.errors.LuminaError`
subclasses with an OpenAI-style ``code``, so every API can answer with the right status.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from lumina_core.contract import Message, Usage
from lumina_core.errors import NotFound, Unavailable, ValidationFailed

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True)
class GenerationOptions:
    """How to generate. ``json_schema`` constrains the reply to JSON valid against that schema
    (llama.cpp grammar, Ollama ``format``, OpenAI ``response_format``), so it always parses."""

    max_tokens: int | None = None
    temperature: float | None = None
    stop: tuple[str, ...] = ()
    timeout: float | None = None
    json_schema: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ChatChunk:
    """A piece of streamed text; the last chunk of a stream has ``finish_reason`` and ``usage``."""

    text: str
    model: str
    finish_reason: FinishReason | None = None
    usage: Usage | None = None


@dataclass(frozen=True)
class ChatResult:
    text: str
    model: str
    usage: Usage
    finish_reason: FinishReason


@dataclass(frozen=True)
class Likelihood:
    """log p(continuation | context), summed over the continuation's ``tokens``."""

    logprob: float
    tokens: int

    @property
    def per_token(self) -> float:
        """Comparable across continuations of different lengths."""
        return self.logprob / max(self.tokens, 1)


@dataclass(frozen=True)
class ModelDetails:
    """What a model file is, in Ollama's words (its ``details``); empty where a server says nothing."""

    format: str = ""
    family: str = ""
    parameter_size: str = ""
    quantization_level: str = ""


@dataclass(frozen=True)
class ModelInfo:
    id: str
    provider: str
    context_window: int | None = None
    created: int = 0
    size: int = 0
    details: ModelDetails = ModelDetails()
    #: The LoRA adapter the model answers with, when one is loaded (see ``EmbeddedProvider.set_adapter``).
    adapter: str | None = None


class ModelNotFound(NotFound):
    code = "model_not_found"


class ContextTooLong(ValidationFailed):
    """The prompt (plus the room asked for the reply) does not fit the model's context window."""

    status = 400
    code = "context_length_exceeded"


class ProviderUnavailable(Unavailable):
    """The provider's server cannot be reached, or failed; the fallback order may try the next."""

    code = "provider_unavailable"


class Provider(Protocol):
    """One backend: embedded llama.cpp, an Ollama server, or an OpenAI-compatible server."""

    name: str

    async def models(self) -> list[ModelInfo]: ...

    async def has_model(self, model: str) -> bool: ...

    def default_model(self) -> str: ...

    def stream(
        self, messages: Sequence[Message], model: str, options: GenerationOptions
    ) -> AsyncIterator[ChatChunk]: ...

    async def count_tokens(self, text: str, model: str) -> int: ...

    async def context_window(self, model: str) -> int: ...

    async def aclose(self) -> None: ...


async def collect(chunks: AsyncIterator[ChatChunk]) -> ChatResult:
    """Drain a stream into one result (how every provider implements non-streamed chat)."""
    parts: list[str] = []
    async for chunk in chunks:
        parts.append(chunk.text)
        if chunk.finish_reason is not None:
            return ChatResult("".join(parts), chunk.model, chunk.usage or Usage(), chunk.finish_reason)
    raise ProviderUnavailable("the model's stream ended without a final chunk")


def rough_token_count(text: str) -> int:
    """About four characters per token: for servers that do not expose their tokenizer."""
    return max(1, len(text) // 4) if text else 0


class ServerBudget:
    """Token budgeting for a model behind a server: its window is a setting, and its tokens are
    estimated, since such servers do not expose their tokenizer."""

    _context_window: int

    async def context_window(self, model: str) -> int:
        return self._context_window

    async def count_tokens(self, text: str, model: str) -> int:
        return rough_token_count(text)
