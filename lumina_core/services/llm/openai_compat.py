"""Any OpenAI-compatible server (vLLM, llama.cpp's server, OpenAI itself), spoken to over aiohttp.

The protocol is small (``/models``, ``/chat/completions`` with SSE), so it is spoken directly,
the events split from raw bytes: the ``openai`` client builds a pydantic object per chunk, and
``httpx-sse`` decodes text line by line. The transport is aiohttp rather than httpx because a
stream costs one socket read per generated token: aiohttp parses HTTP in C and times reads out
with one timer per response, where httpx's pure-Python parser and a cancel scope around every
read took twice the CPU (measured in ``docs/models.md``; LiteLLM made aiohttp its default
transport for the same reason, BerriAI/litellm#11097). On a machine whose cores the model itself
keeps busy, that CPU comes out of generation. Each stream is read to its end, so its connection
goes back to the pool.

A JSON Schema for the reply goes in OpenAI's form (``response_format: {"type": "json_schema"}``);
a server that refuses it (llama-cpp-python's, which takes JSON mode with a ``schema``) is asked
again in that form, which is then kept for it.

Usage comes from the server (``include_usage`` in streams); a server that sends none in streams
(llama.cpp's) gives zero counts there rather than guesses, and real counts in non-streamed
replies.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import aiohttp
import orjson

from lumina_core.contract import Message, Usage
from lumina_core.errors import LuminaError
from lumina_core.services.llm.base import (
    ChatChunk,
    ChatResult,
    ContextTooLong,
    FinishReason,
    GenerationOptions,
    ModelInfo,
    ModelNotFound,
    ProviderUnavailable,
    ServerBudget,
)

LISTING_TTL_SECONDS = 5.0
#: How a JSON Schema for the reply is given: OpenAI's form, then JSON mode with a ``schema``.
SCHEMA_FORMS = ("json_schema", "json_object")


class OpenAICompatibleProvider(ServerBudget):
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
        self._url, self._model, self._context_window = base_url.rstrip("/"), model, context_window
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # a read may wait as long as the model thinks; the whole reply has no limit of its own
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._listing: tuple[float, list[ModelInfo]] = (0.0, [])
        self._schema_form = SCHEMA_FORMS[0]

    @property
    def session(self) -> aiohttp.ClientSession:
        """Opened on first use: an aiohttp session belongs to the event loop it was made in."""
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self._session

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
            async with self.session.get(f"{self._url}/models") as response:
                reply = await _json_reply(response, self._url, self._model or "")
        listing = [ModelInfo(m["id"], self.name, None, m.get("created") or 0) for m in reply["data"]]
        self._listing = (time.monotonic(), listing)
        return listing

    async def has_model(self, model: str) -> bool:
        return model == self._model or model in {m.id for m in await self.models()}

    async def stream(
        self, messages: Sequence[Message], model: str, options: GenerationOptions
    ) -> AsyncIterator[ChatChunk]:
        finish: Any = None
        usage = Usage()
        with self._errors(model):
            extra = {"stream": True, "stream_options": {"include_usage": True}}
            async with self._posted(messages, model, options, extra) as response:
                if response.status >= 400:
                    await _json_reply(response, self._url, model)
                # read to the end of the body, past [DONE]: a response left unread closes its
                # connection, and the next request would pay for a new one
                async for data in _sse_data(response.content.iter_any()):
                    if data == b"[DONE]":
                        continue
                    chunk = orjson.loads(data)
                    if "error" in chunk:
                        raise ProviderUnavailable(f"{self._url} failed mid-stream: {_message(chunk)}")
                    for choice in chunk.get("choices") or ():
                        finish = choice.get("finish_reason") or finish
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            yield ChatChunk(text, model)
                    if chunk.get("usage"):
                        usage = _usage(chunk["usage"])
        yield ChatChunk("", model, finish_reason=_finish(finish), usage=usage)

    async def complete(self, messages: Sequence[Message], model: str, options: GenerationOptions) -> ChatResult:
        """A non-streamed reply: every compatible server counts tokens here."""
        with self._errors(model):
            async with self._posted(messages, model, options) as response:
                reply = await _json_reply(response, self._url, model)
        choice = reply["choices"][0]
        usage = _usage(reply["usage"]) if reply.get("usage") else Usage()
        return ChatResult(choice["message"].get("content") or "", reply.get("model") or model, usage,
                          _finish(choice.get("finish_reason")))

    @asynccontextmanager
    async def _posted(self, messages: Sequence[Message], model: str, options: GenerationOptions,
                      extra: dict[str, Any] | None = None) -> AsyncIterator[aiohttp.ClientResponse]:
        """The server's response to a chat request, its JSON Schema (if any) in the form the
        server takes: asked again in the other form once, when it refuses this one."""
        form = self._schema_form
        body = {**_body(messages, model, options, form), **(extra or {})}
        async with self.session.post(f"{self._url}/chat/completions", json=body) as response:
            if not (options.json_schema is not None and await _refuses(response)):
                yield response
                return
        self._schema_form = next(other for other in SCHEMA_FORMS if other != form)
        body = {**_body(messages, model, options, self._schema_form), **(extra or {})}
        async with self.session.post(f"{self._url}/chat/completions", json=body) as response:
            yield response

    @contextmanager
    def _errors(self, model: str) -> Iterator[None]:
        try:
            yield
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise ProviderUnavailable(
                f"the OpenAI-compatible server at {self._url} is not reachable ({type(exc).__name__}): "
                f"start it or correct OPENAI_BASE_URL"
            ) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _sse_data(reads: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """The ``data`` of each server-sent event, split from the raw bytes as they arrive: this runs
    once per generated token, and decoding text line by line was a measurable part of the
    gateway's work on each one."""
    pending, data = b"", []
    async for received in reads:
        *lines, pending = (pending + received).split(b"\n")
        for line in lines:
            line = line.rstrip(b"\r")
            if line.startswith(b"data:"):
                data.append(line[5:].removeprefix(b" "))
            elif not line and data:
                yield b"\n".join(data)
                data = []
    if data:
        yield b"\n".join(data)


async def _json_reply(response: aiohttp.ClientResponse, url: str, model: str) -> Any:
    """The reply's JSON body, or the error it stands for when the status is 4xx or 5xx."""
    body = await response.read()
    try:
        reply = orjson.loads(body)
    except ValueError:
        reply = body.decode(errors="replace")
        if response.status < 400:
            raise ProviderUnavailable(f"{url} answered with something that is not JSON: {reply[:200]}") from None
    if response.status < 400:
        return reply
    message = _message(reply)
    error: LuminaError
    if response.status == 404:
        error = ModelNotFound(f"model '{model}' is not served by {url}: {message}", field="model")
    elif response.status == 400 and "context" in message.lower():
        error = ContextTooLong(f"{url} refused the prompt as too long: {message}", field="messages")
    else:
        error = ProviderUnavailable(f"{url} answered {response.status}: {message}")
    raise error


def _message(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error", body)
        return str(error.get("message", error) if isinstance(error, dict) else error)
    return str(body)[:500]


async def _refuses(response: aiohttp.ClientResponse) -> bool:
    """The server refused the request for the form of its ``response_format``."""
    return response.status >= 400 and "response_format" in (await response.read()).decode(errors="replace")


def _body(messages: Sequence[Message], model: str, options: GenerationOptions, schema_form: str) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": m.role, "content": m.content} for m in messages]}
    if options.max_tokens is not None:
        body["max_tokens"] = options.max_tokens
    if options.temperature is not None:
        body["temperature"] = options.temperature
    if options.stop:
        body["stop"] = list(options.stop)
    if options.json_schema is not None and schema_form == "json_schema":
        schema = {"name": "reply", "schema": dict(options.json_schema), "strict": True}
        body["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif options.json_schema is not None:
        body["response_format"] = {"type": "json_object", "schema": dict(options.json_schema)}
    return body


def _usage(usage: dict[str, Any]) -> Usage:
    return Usage(usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0)


def _finish(reason: Any) -> FinishReason:
    return "length" if reason == "length" else "stop"
