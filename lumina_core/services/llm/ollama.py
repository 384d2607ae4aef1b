"""The Ollama provider, through the official ``ollama`` client (async, streaming, with timeouts).

Token counts are Ollama's own (``prompt_eval_count``, ``eval_count``). A missing server or model
becomes an error that says what to run.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx

from lumina_core.contract import Message, Usage
from lumina_core.services.llm.base import (
    ChatChunk,
    GenerationOptions,
    ModelDetails,
    ModelInfo,
    ModelNotFound,
    ProviderUnavailable,
    ServerBudget,
)

LISTING_TTL_SECONDS = 5.0


@contextmanager
def ollama_errors(url: str, model: str) -> Iterator[None]:
    """Turn the client's errors into ones that say what to do."""
    import ollama

    try:
        yield
    except ollama.ResponseError as exc:
        if exc.status_code == 404:
            raise ModelNotFound(
                f"model '{model}' is not pulled on {url}: run `ollama pull {model}`", field="model"
            ) from None
        raise ProviderUnavailable(f"Ollama at {url} failed: {exc.error}") from None
    except (ConnectionError, httpx.TransportError) as exc:
        raise ProviderUnavailable(
            f"Ollama is not reachable at {url} ({type(exc).__name__}): start it with `ollama serve` "
            f"or correct OLLAMA_URL"
        ) from None


class OllamaProvider(ServerBudget):
    name = "ollama"

    def __init__(
        self, url: str, model: str, *, timeout: float = 120.0, context_window: int = 4096
    ) -> None:
        import ollama

        self._url, self._model, self._context_window = url, model, context_window
        self._client = ollama.AsyncClient(host=url, timeout=timeout)
        self._listing: tuple[float, list[ModelInfo]] = (0.0, [])

    def default_model(self) -> str:
        return self._model

    async def models(self) -> list[ModelInfo]:
        fetched_at, listing = self._listing
        if time.monotonic() - fetched_at < LISTING_TTL_SECONDS:
            return listing
        with ollama_errors(self._url, self._model):
            response = await self._client.list()
        listing = [
            ModelInfo(m.model or "", self.name, None, int(m.modified_at.timestamp()) if m.modified_at else 0,
                      m.size or 0, _details(m.details))
            for m in response.models
        ]
        self._listing = (time.monotonic(), listing)
        return listing

    async def has_model(self, model: str) -> bool:
        names = {m.id for m in await self.models()}
        return model in names or f"{model}:latest" in names

    async def stream(
        self, messages: Sequence[Message], model: str, options: GenerationOptions
    ) -> AsyncIterator[ChatChunk]:
        last: ChatChunk | None = None
        with ollama_errors(self._url, model):
            parts = await self._client.chat(
                model=model,
                messages=[{"role": m.role, "content": m.content} for m in messages],
                stream=True,
                options=_options(options),
                format=dict(options.json_schema) if options.json_schema is not None else None,
            )
            # the last part is held until the body has been read to its end, so the
            # connection goes back to the client's pool instead of being closed
            async for part in parts:
                if not part.done:
                    yield ChatChunk(part.message.content or "", model)
                    continue
                usage = Usage(part.prompt_eval_count or 0, part.eval_count or 0)
                finish = "length" if part.done_reason == "length" else "stop"
                last = ChatChunk(part.message.content or "", model, finish_reason=finish, usage=usage)
        if last is not None:
            yield last

    async def aclose(self) -> None:
        await self._client._client.aclose()


def _options(options: GenerationOptions) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    if options.max_tokens is not None:
        chosen["num_predict"] = options.max_tokens
    if options.temperature is not None:
        chosen["temperature"] = options.temperature
    if options.stop:
        chosen["stop"] = list(options.stop)
    return chosen


def _details(details: Any) -> ModelDetails:
    """The server's own description of a model (absent for some)."""
    if details is None:
        return ModelDetails()
    return ModelDetails(details.format or "", details.family or "", details.parameter_size or "",
                        details.quantization_level or "")
