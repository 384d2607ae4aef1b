"""The chat gateway: OpenAI's ``/v1``, Ollama's ``/api`` and Lumina's own ``/chat``.

Every route goes through the ``chat`` service, so plugins' context reaches OpenAI and Ollama
clients too. Requests are checked, context gathered and the first model chunk awaited before
any header is sent, so a bad request is a clean 4xx in the protocol's own error envelope.

Tools a client offers (OpenAI's and Ollama's ``tools``) go to the ``tool_router`` service, and
the tools plugins register (``register_tools``) are kept on the ``plugin_tools`` shelf offered
here: see :mod:`lumina_core.chat.tools`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from lumina_core.api.errors import register_envelope
from lumina_core.auth import User, current_user
from lumina_core.chat import ChatService, PreparedChat
from lumina_core.chat import ollama_api as ollama
from lumina_core.chat import openai_api as openai
from lumina_core.chat import tools as tools_api
from lumina_core.chat.sse import event_frame, mid_stream_error, ndjson_line, ndjson_response, sse_response
from lumina_core.chat.tools import PluginTools
from lumina_core.context import PluginContext
from lumina_core.contract import ChatRequest, Message, ToolCall, Usage
from lumina_core.errors import LuminaError
from lumina_core.hookspecs import hookimpl
from lumina_core.services.llm import LLMService, ModelNotFound
from lumina_core.services import ServiceRegistry
from lumina_core.services.llm.base import ChatChunk

register_envelope("/v1", openai.openai_envelope)
register_envelope("/api", ollama.ollama_envelope)


class SimpleChatIn(BaseModel):
    """``POST /chat``: one message (plus optional earlier turns) in a thread."""

    message: str = Field(min_length=1)
    history: list[openai.ChatMessageIn] = Field(default_factory=list)
    thread_id: str | None = None
    model: str | None = None
    brain_id: str = "default"
    max_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    stream: bool = True


@hookimpl
def register_services(ctx: PluginContext) -> dict[str, Any]:
    shelf = PluginTools()
    ctx.kernel.add_binder("register_tools", shelf.bind)
    return {"plugin_tools": shelf}


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    services = ctx.kernel.services
    router = APIRouter()
    chat, llm, embedder = (lambda: services.get("chat")), (lambda: services.get("llm")), (lambda: services.get("embedder"))
    _add_openai_routes(router, chat, llm, embedder, services)
    _add_ollama_routes(router, chat, llm, embedder, services)
    _add_lumina_routes(router, chat)
    return router


async def _started(prepared: PreparedChat, chat: ChatService) -> tuple[ChatChunk, AsyncIterator[ChatChunk]]:
    """Start the model and wait for its first chunk, so errors come before any header."""
    chunks = chat.run(prepared)
    return await anext(chunks), chunks


async def _replay(first: ChatChunk, rest: AsyncIterator[ChatChunk]) -> AsyncIterator[ChatChunk]:
    yield first
    async for chunk in rest:
        yield chunk


async def _client_tool_calls(
    services: ServiceRegistry, llm: LLMService, request: ChatRequest, tools: list[dict[str, Any]], tool_choice: Any
) -> tuple[str, Sequence[ToolCall], Mapping[str, Any]]:
    """The model's name and the calls chosen for the client's tools (none when no call is due)."""
    choice = tools_api.choice_of(tool_choice)
    if not tools or not tools_api.needs_decision(request.messages, choice):
        return "", (), {}
    _, model = await llm.resolve(request.model)
    calls, decision = await tools_api.decide(
        services, request.messages, tools, user_id=request.user_id, choice=choice
    )
    return model, calls, decision


# --- OpenAI ---------------------------------------------------------------------------------


def _add_openai_routes(
    router: APIRouter, chat_service: Any, llm_service: Any, embedder_service: Any, services: ServiceRegistry
) -> None:

    @router.post("/v1/chat/completions", tags=["openai"], summary="OpenAI chat completions (stream and non-stream, tools)")
    async def chat_completions(body: openai.ChatCompletionRequest, user: User = Depends(current_user)) -> Response:
        chat: ChatService = chat_service()
        request = ChatRequest(
            messages=openai.conversation(body.messages), user_id=user.id, model=body.model, metadata={"api": "openai"},
        )
        try:
            model, calls, decision = await _client_tool_calls(
                services, llm_service(), request, body.functions, body.tool_choice
            )
            if calls:
                if body.stream:
                    frames = openai.tool_calls_frames(model, calls, decision, body.include_usage)
                    return sse_response(_once(frames))
                return JSONResponse(openai.tool_calls_completion(model, calls, decision))
            prepared = await chat.prepare(
                request, max_tokens=body.reply_limit, temperature=body.temperature, stop=body.stops
            )
            if not body.stream:
                return JSONResponse(openai.completion_body(prepared, await chat.reply_of(prepared)))
            first, rest = await _started(prepared, chat)
        except LuminaError as exc:
            return openai.error_response(exc)
        return sse_response(openai.ChunkWriter(prepared, body.include_usage).frames(first, rest))

    @router.get("/v1/models", tags=["openai"], summary="OpenAI model list")
    async def list_models() -> dict[str, Any]:
        return openai.models_body(await llm_service().models())

    @router.get("/v1/models/{model:path}", tags=["openai"], summary="One model")
    async def get_model(model: str) -> Response:
        found = [m for m in await llm_service().models() if m.id == model]
        if not found:
            return openai.error_response(ModelNotFound(f"the model '{model}' does not exist here", field="model"))
        return JSONResponse(openai.model_body(found[0]))

    @router.post("/v1/embeddings", tags=["openai"], summary="OpenAI embeddings (float or base64)")
    async def embeddings(body: openai.EmbeddingRequest) -> Response:
        embedder = embedder_service()
        try:
            _check_embedding_model(embedder, body.model)
            texts = body.texts()
            vectors = await embedder.embed(texts)
            tokens = await _embedding_tokens(embedder, texts)
        except LuminaError as exc:
            return openai.error_response(exc)
        return JSONResponse(openai.embeddings_body(embedder.model, vectors, body.encoding_format, tokens))


def _check_embedding_model(embedder: Any, model: str) -> None:
    if ollama.model_name(model) != embedder.model:
        raise ModelNotFound(
            f"the embedding model '{model}' does not exist here (available: {embedder.model})", field="model"
        )


async def _embedding_tokens(embedder: Any, texts: list[str]) -> int:
    count = getattr(embedder.inner, "count_tokens", None)
    return await count(texts) if count else sum(len(t) // 4 + 1 for t in texts)


# --- Ollama ---------------------------------------------------------------------------------


def _add_ollama_routes(
    router: APIRouter, chat_service: Any, llm_service: Any, embedder_service: Any, services: ServiceRegistry
) -> None:

    async def answer(
        part: Any, request: ChatRequest, options: ollama.Options, stream: bool, json_schema: dict[str, Any] | None = None
    ) -> Response:
        chat: ChatService = chat_service()
        timings = ollama.Timings()
        try:
            prepared = await chat.prepare(
                request, max_tokens=options.max_tokens, temperature=options.temperature, stop=options.stop,
                json_schema=json_schema,
            )
            first, rest = await _started(prepared, chat)
            chunks = _replay(first, rest)
            if not stream:
                return JSONResponse(await ollama.whole_reply(part, prepared.model, chunks, timings))
        except LuminaError as exc:
            return ollama.error_response(exc)
        return ndjson_response(ollama.ndjson_stream(part, prepared.model, chunks, timings))

    @router.post("/api/chat", tags=["ollama"], summary="Ollama chat (NDJSON stream by default, tools, format)")
    async def chat(body: ollama.ChatRequestIn, user: User = Depends(current_user)) -> Response:
        if not body.messages:
            return await _loaded(llm_service(), body.model, {"message": {"role": "assistant", "content": ""}})
        request = ChatRequest(body.conversation(), user.id, ollama.model_name(body.model), metadata={"api": "ollama"})
        timings = ollama.Timings()
        try:
            model, calls, decision = await _client_tool_calls(services, llm_service(), request, body.functions, None)
        except LuminaError as exc:
            return ollama.error_response(exc)
        if calls:
            reply = ollama.tool_calls_reply(model, calls, decision, timings)
            return ndjson_response(_once(ndjson_line(reply))) if body.stream else JSONResponse(reply)
        return await answer(ollama.chat_part, request, body.options, body.stream, body.json_schema)

    @router.post("/api/generate", tags=["ollama"], summary="Ollama generate (NDJSON stream by default)")
    async def generate(body: ollama.GenerateRequestIn, user: User = Depends(current_user)) -> Response:
        if not body.prompt:
            return await _loaded(llm_service(), body.model, {"response": ""})
        request = ChatRequest(tuple(body.messages()), user.id, ollama.model_name(body.model), metadata={"api": "ollama"})
        return await answer(ollama.generate_part, request, body.options, body.stream)

    @router.get("/api/tags", tags=["ollama"], summary="Ollama model list")
    async def tags() -> dict[str, Any]:
        return ollama.tags_body(await llm_service().models())

    @router.post("/api/show", tags=["ollama"], summary="Ollama model details")
    async def show(body: ollama.ShowRequestIn) -> Response:
        found = [m for m in await llm_service().models() if m.id == body.wanted]
        if not found:
            return ollama.error_response(ModelNotFound(f"model '{body.wanted}' not found", field="model"))
        return JSONResponse(ollama.show_body(found[0]))

    @router.get("/api/ps", tags=["ollama"], summary="Ollama's list of the models loaded in memory")
    async def ps() -> dict[str, Any]:
        return ollama.ps_body(await llm_service().loaded_models())

    @router.get("/api/version", tags=["ollama"], summary="The Ollama API version this endpoint family follows")
    async def version() -> dict[str, str]:
        return {"version": "0.5.0"}

    @router.post("/api/embed", tags=["ollama"], summary="Ollama embeddings")
    async def embed(body: ollama.EmbedRequestIn) -> Response:
        embedder = embedder_service()
        timings = ollama.Timings()
        try:
            _check_embedding_model(embedder, body.model)
            vectors = await embedder.embed(body.texts())
            tokens = await _embedding_tokens(embedder, body.texts())
        except LuminaError as exc:
            return ollama.error_response(exc)
        counters = timings.final(Usage(tokens, 0), "stop")
        return JSONResponse({
            "model": embedder.model, "embeddings": vectors, "total_duration": counters["total_duration"],
            "load_duration": 0, "prompt_eval_count": tokens,
        })


async def _once(frames: bytes) -> AsyncIterator[bytes]:
    yield frames


async def _loaded(llm: LLMService, model: str, body: dict[str, Any]) -> Response:
    """An empty prompt asks Ollama to load the model: answer that it is ready (or missing)."""
    try:
        _, name = await llm.resolve(ollama.model_name(model))
    except LuminaError as exc:
        return ollama.error_response(exc)
    return JSONResponse({"model": name, "created_at": ollama.now(), **body, "done": True, "done_reason": "load"})


# --- Lumina's own ---------------------------------------------------------------------------


def _add_lumina_routes(router: APIRouter, chat_service: Any) -> None:

    @router.post("/chat", tags=["chat"], summary="Chat with plugins' context: SSE events context, token, done (or error)")
    async def simple_chat(body: SimpleChatIn, user: User = Depends(current_user)) -> Response:
        chat: ChatService = chat_service()
        messages = (*(m.as_message() for m in body.history), Message("user", body.message))
        request = ChatRequest(messages, user.id, body.model, body.brain_id, body.thread_id, {"api": "lumina"})
        prepared = await chat.prepare(request, max_tokens=body.max_tokens, temperature=body.temperature)
        if not body.stream:
            reply = await chat.reply_of(prepared)
            return JSONResponse({"reply": reply.text, **_done_body(prepared, reply.model, reply.usage, reply.finish_reason)})
        first, rest = await _started(prepared, chat)
        return sse_response(_lumina_events(prepared, first, rest))


def _done_body(prepared: PreparedChat, model: str, usage: Usage, finish: str) -> dict[str, Any]:
    return {"model": model, "finish_reason": finish, "usage": openai.usage_body(usage), **openai.lumina_metadata(prepared)}


async def _lumina_events(prepared: PreparedChat, first: ChatChunk, rest: AsyncIterator[ChatChunk]) -> AsyncIterator[bytes]:
    yield event_frame("context", openai.lumina_metadata(prepared))
    try:
        async for chunk in _replay(first, rest):
            if chunk.text:
                yield event_frame("token", {"text": chunk.text})
            if chunk.finish_reason is not None:
                yield event_frame("done", _done_body(prepared, chunk.model, chunk.usage or Usage(), chunk.finish_reason))
    except Exception as exc:  # noqa: BLE001 - headers are out: the client gets an error event
        yield event_frame("error", mid_stream_error(exc).to_dict())
