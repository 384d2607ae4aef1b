"""The ``llm`` service: every configured provider behind one interface, in fallback order.

A request names a model (or none, for the default); the first provider that serves that name
answers. Without a name, providers are tried in order and one whose server is down is skipped,
so "Ollama first, the embedded model otherwise" is a matter of configuration.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from lumina_core.contract import Message, Usage
from lumina_core.errors import Unavailable
from lumina_core.services.llm.base import (
    ChatChunk,
    ChatResult,
    GenerationOptions,
    Likelihood,
    ModelInfo,
    ModelNotFound,
    Provider,
    ProviderUnavailable,
    collect,
)
from lumina_core.services.llm.selection import Selection, Step
from lumina_core.services.llm.spend import Spend, SpendLedger

log = logging.getLogger("lumina.llm")

MessageLike = Message | Mapping[str, Any]


def as_messages(messages: Sequence[MessageLike]) -> tuple[Message, ...]:
    """Accept ``Message`` records or ``{"role", "content"}`` mappings."""
    return tuple(m if isinstance(m, Message) else Message(m["role"], m["content"]) for m in messages)


class LLMService:
    """Providers in fallback order; model selection by name per request."""

    def __init__(self, providers: Sequence[Provider], *, timeout: float | None = None,
                 ledger: SpendLedger | None = None) -> None:
        if not providers:
            raise ValueError("at least one language-model provider is needed")
        self.providers = tuple(providers)
        self._timeout = timeout
        self._ledger = ledger

    def spend(self, day: str | None = None) -> Spend:
        """What priced (paid) models cost on a UTC day, today by default, across the processes
        sharing the data folder; local models cost nothing."""
        return self._ledger.day(day) if self._ledger else Spend()

    async def models(self) -> list[ModelInfo]:
        """Every model of every reachable provider (one that is down, or whose model file is not
        installed, lists nothing)."""
        listed: list[ModelInfo] = []
        for provider in self.providers:
            try:
                listed.extend(await provider.models())
            except Unavailable as exc:
                log.warning("provider '%s' cannot list its models: %s", provider.name, exc.message)
        return listed

    async def loaded_models(self) -> list[ModelInfo]:
        """The models held in this process's memory now (the embedded one, once loaded); models
        behind a server are that server's to report."""
        return [m for p in self.providers if getattr(p, "loaded", False) for m in await p.models()]

    async def resolve(self, model: str | None) -> tuple[Provider, str]:
        """The provider serving ``model`` (or the first reachable one) and the model's name."""
        problems: list[str] = []
        for provider in self.providers:
            try:
                if model is None:
                    await provider.models()
                    return provider, provider.default_model()
                if await provider.has_model(model):
                    return provider, model
            except Unavailable as exc:
                log.warning("provider '%s' skipped: %s", provider.name, exc.message)
                problems.append(f"{provider.name}: {exc.message}")
        if model is None:
            raise ProviderUnavailable("no language-model provider is reachable; " + "; ".join(problems))
        known = ", ".join(m.id for m in await self.models()) or "none"
        raise ModelNotFound(f"the model '{model}' does not exist here (available: {known})", field="model")

    async def stream(
        self,
        messages: Sequence[MessageLike],
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
        json_schema: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[ChatChunk]:
        """Stream a reply: text chunks, then one final chunk with finish reason and usage.
        With ``json_schema``, the reply is JSON that this schema accepts."""
        provider, name = await self.resolve(model)
        options = GenerationOptions(max_tokens, temperature, tuple(stop or ()), timeout or self._timeout, json_schema)
        async for chunk in provider.stream(as_messages(messages), name, options):
            if chunk.usage is not None:
                self._record(chunk.model, chunk.usage)
            yield chunk

    async def chat(
        self,
        messages: Sequence[MessageLike],
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
        json_schema: Mapping[str, Any] | None = None,
    ) -> ChatResult:
        """The whole reply at once (a provider's own non-streamed call when it has one).
        With ``json_schema``, the reply is JSON that this schema accepts."""
        provider, name = await self.resolve(model)
        options = GenerationOptions(max_tokens, temperature, tuple(stop or ()), timeout or self._timeout, json_schema)
        complete = getattr(provider, "complete", None)
        if complete is not None:
            result = await complete(as_messages(messages), name, options)
        else:
            result = await collect(provider.stream(as_messages(messages), name, options))
        self._record(result.model, result.usage)
        return result

    def _record(self, model: str, usage: Usage) -> None:
        if self._ledger is not None:
            self._ledger.record(model, usage)

    async def loglikelihood(self, context: str, continuation: str, *, model: str | None = None) -> Likelihood | None:
        """How likely the model finds ``continuation`` after ``context`` (how well a passage
        explains a question, say), or None when its provider cannot tell: Ollama and
        OpenAI-compatible servers give the log-probabilities of what they generate, not of a
        text given to them."""
        provider, name = await self.resolve(model)
        score = getattr(provider, "loglikelihood", None)
        return None if score is None else await score(context, continuation, name)

    async def select(self, messages: Sequence[MessageLike], program: Sequence[Step], *,
                     model: str | None = None) -> Selection | None:
        """The reply ``program`` allows (fixed text, and choices among given options) that the
        model finds likeliest, a forward pass only where options branch (``selection``); None
        when its provider cannot: a server generates, it does not weigh given tokens (constrain
        its generation with ``json_schema`` instead)."""
        provider, name = await self.resolve(model)
        choose = getattr(provider, "select", None)
        return None if choose is None else await choose(as_messages(messages), program, name)

    async def count_tokens(self, text: str, model: str | None = None) -> int:
        provider, name = await self.resolve(model)
        return await provider.count_tokens(text, name)

    async def context_window(self, model: str | None = None) -> int:
        provider, name = await self.resolve(model)
        return await provider.context_window(name)

    async def aclose(self) -> None:
        for provider in self.providers:
            await provider.aclose()
        if self._ledger is not None:
            self._ledger.close()
