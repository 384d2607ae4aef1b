"""Any OpenAI-compatible server (vLLM, llama.cpp's server, OpenAI itself) through the ``openai`` client.

Usage comes from the server (``stream_options.include_usage``); a server that sends none gives
zero counts rather than guesses.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from lumina_core.contract import Message, Usage
from lumina_core.services.llm.base import (
    ChatChunk,
    ChatResult,
    ContextTooLong,
    GenerationOptions,
    ModelInfo,
    ModelNotFound,
    ProviderUnavailable,
    rough_token_count,
)

LISTING_TTL_SECONDS = 5.0


class OpenAICompatibleProvider:
    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = 120.0,
        context_window: int = 4096,
    ) -> None:
        import openai

        self._url, self._model, self._context_window = base_url, model, context_window
        self._client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key or "none", timeout=timeout, max_retries=0)
        self._listing: tuple[float, list[ModelInfo]] = (0.0, [])

    def default_model(self) -> str:
        if self._model:
            return self._model
        fetched = self._listing[1]
        if not fetched:
            raise ProviderUnavailable(f"no model is set for {self._url}: set OPENAI_MODEL")
        return fetched[0].id

    async def models(self) -> list[ModelInfo]:
        fetched_at, listing = self._listing
        if time.monotonic() - fetched_at < LISTING_TTL_SECONDS:
            return listing
        with self._errors(self._model or ""):
            page = await self._client.models.list()
        listing = [ModelInfo(m.id, self.name, None, m.created or 0) for m in page.data]
        self._listing = (time.monotonic(), listing)
        return listing

    async def has_model(self, model: str) -> bool:
        return model == self._model or model in {m.id for m in await self.models()}

    async def context_window(self, model: str) -> int:
        return self._context_window

    async def count_tokens(self, text: str, model: str) -> int:
        return rough_token_count(text)

    async def stream(
        self, messages: Sequence[Message], model: str, options: GenerationOptions
    ) -> AsyncIterator[ChatChunk]:
        with self._errors(model):
            chunks = await self._client.chat.completions.create(
                model=model,
                messages=[{"role": m.role, "content": m.content} for m in messages],
                stream=True,
                stream_options={"include_usage": True},
                **_options(options),
            )
            finish: Any = None
            async for chunk in chunks:
                for choice in chunk.choices:
                    finish = choice.finish_reason or finish
                    if choice.delta.content:
                        yield ChatChunk(choice.delta.content, model)
                if chunk.usage is not None:
                    usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    yield ChatChunk("", model, finish_reason=_finish(finish), usage=usage)
                    return
            yield ChatChunk("", model, finish_reason=_finish(finish), usage=Usage())

    async def complete(self, messages: Sequence[Message], model: str, options: GenerationOptions) -> ChatResult:
        """A non-streamed reply: every compatible server counts tokens here, even those that
        send no usage in streams (llama.cpp's server)."""
        with self._errors(model):
            reply = await self._client.chat.completions.create(
                model=model, messages=[{"role": m.role, "content": m.content} for m in messages], **_options(options)
            )
        usage = Usage(reply.usage.prompt_tokens, reply.usage.completion_tokens) if reply.usage else Usage()
        choice = reply.choices[0]
        return ChatResult(choice.message.content or "", reply.model or model, usage, _finish(choice.finish_reason))

    @contextmanager
    def _errors(self, model: str) -> Iterator[None]:
        import openai

        try:
            yield
        except openai.NotFoundError:
            raise ModelNotFound(f"model '{model}' is not served by {self._url}", field="model") from None
        except openai.BadRequestError as exc:
            if "context" in str(exc).lower():
                raise ContextTooLong(f"{self._url} refused the prompt as too long: {exc.message}") from None
            raise ProviderUnavailable(f"{self._url} refused the request: {exc.message}") from None
        except openai.APIConnectionError as exc:
            raise ProviderUnavailable(
                f"the OpenAI-compatible server at {self._url} is not reachable ({exc.__cause__ or exc}): "
                f"start it or correct OPENAI_BASE_URL"
            ) from None
        except openai.APIError as exc:
            raise ProviderUnavailable(f"{self._url} failed: {exc.message}") from None

    async def aclose(self) -> None:
        await self._client.close()


def _options(options: GenerationOptions) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    if options.max_tokens is not None:
        chosen["max_tokens"] = options.max_tokens
    if options.temperature is not None:
        chosen["temperature"] = options.temperature
    if options.stop:
        chosen["stop"] = list(options.stop)
    return chosen


def _finish(reason: Any) -> Any:
    return "length" if reason == "length" else "stop"
