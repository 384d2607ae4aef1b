"""Ollama's wire format for ``/api``: chat, generate, tags, show, ps and embed; streams are NDJSON.

Durations are nanoseconds and counts are the model's own, as Ollama reports them, so Ollama
clients (the ``ollama`` library, Open WebUI) can use Lumina as if it were an Ollama server.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from lumina_core.chat.openai_api import ToolIn
from lumina_core.chat.sse import mid_stream_error, ndjson_line
from lumina_core.chat.tools import quoted_tool_result
from lumina_core.contract import Message, ToolCall, Usage
from lumina_core.errors import LuminaError
from lumina_core.services.llm.base import ChatChunk, ModelInfo


def ollama_envelope(
    status: int, kind: str, message: str, field: str | None, headers: dict[str, str] | None
) -> Response:
    """Ollama answers every error as ``{"error": "message"}``; validation errors are 400."""
    return JSONResponse({"error": message}, status_code=400 if status == 422 else status, headers=headers)


def error_response(exc: LuminaError) -> Response:
    return ollama_envelope(exc.status, exc.type, exc.message, exc.field, None)


class Options(BaseModel):
    model_config = ConfigDict(extra="allow")
    temperature: float | None = Field(None, ge=0)
    num_predict: int | None = None
    stop: list[str] | None = None

    @property
    def max_tokens(self) -> int | None:
        return self.num_predict if self.num_predict and self.num_predict > 0 else None


class OllamaFunctionCall(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class OllamaToolCall(BaseModel):
    model_config = ConfigDict(extra="allow")
    function: OllamaFunctionCall


class OllamaMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[OllamaToolCall] | None = None
    tool_name: str | None = None


#: Ollama's ``format``: "json" (any JSON object) or a JSON Schema the reply must fit.
ANY_JSON_OBJECT = {"type": "object"}


class ChatRequestIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    messages: list[OllamaMessage] = Field(default_factory=list)
    stream: bool = True
    options: Options = Field(default_factory=Options)
    tools: list[ToolIn] | None = None
    format: Literal["json"] | dict[str, Any] | None = None

    @property
    def json_schema(self) -> dict[str, Any] | None:
        return ANY_JSON_OBJECT if self.format == "json" else self.format

    @property
    def functions(self) -> list[dict[str, Any]]:
        return [t.function.model_dump() for t in self.tools or ()]

    def conversation(self) -> tuple[Message, ...]:
        """The messages as the model reads them: a tool result quoted as data under its tool's
        name (given, or that of the call it answers, in order), a turn that only called tools left out."""
        called = [call.function.name for m in self.messages for call in m.tool_calls or ()]
        read: list[Message] = []
        for message in self.messages:
            if message.role == "tool":
                name = message.tool_name or (called.pop(0) if called else "")
                read.append(quoted_tool_result(name, message.content))
            elif not (message.role == "assistant" and message.tool_calls and not message.content):
                read.append(Message(message.role, message.content))
        return tuple(read)


def tool_calls_reply(model: str, calls: Sequence[ToolCall], decision: Mapping[str, Any], timings: Timings) -> dict[str, Any]:
    """Ollama's answer that asks the client to run tools: the calls in the message, done."""
    message = {"role": "assistant", "content": "",
               "tool_calls": [{"function": {"name": c.name, "arguments": dict(c.arguments)}} for c in calls]}
    return {"model": model, "created_at": now(), "message": message, **timings.final(Usage(), "stop"),
            "lumina": {"router_decision": dict(decision)}}


class GenerateRequestIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    prompt: str = ""
    system: str | None = None
    stream: bool = True
    options: Options = Field(default_factory=Options)

    def messages(self) -> list[Message]:
        head = [Message("system", self.system)] if self.system else []
        return [*head, Message("user", self.prompt)]


class EmbedRequestIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    input: str | list[str]

    def texts(self) -> list[str]:
        return [self.input] if isinstance(self.input, str) else self.input


def model_name(name: str) -> str:
    """Ollama clients may add the default tag; Lumina's model names have none."""
    return name.removesuffix(":latest")


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Timings:
    """Ollama's counters: durations in nanoseconds, from the request's start."""

    def __init__(self) -> None:
        self.started = time.perf_counter_ns()
        self.first_token: int | None = None

    def mark_token(self) -> None:
        if self.first_token is None:
            self.first_token = time.perf_counter_ns()

    def final(self, usage: Usage, finish: str) -> dict[str, Any]:
        end = time.perf_counter_ns()
        first = self.first_token or end
        return {
            "done": True,
            "done_reason": finish,
            "total_duration": end - self.started,
            "load_duration": 0,
            "prompt_eval_count": usage.prompt_tokens,
            "prompt_eval_duration": first - self.started,
            "eval_count": usage.completion_tokens,
            "eval_duration": end - first,
        }


def chat_part(model: str, text: str) -> dict[str, Any]:
    return {"model": model, "created_at": now(), "message": {"role": "assistant", "content": text}, "done": False}


def generate_part(model: str, text: str) -> dict[str, Any]:
    return {"model": model, "created_at": now(), "response": text, "done": False}


async def ndjson_stream(
    part: Any, model: str, chunks: AsyncIterator[ChatChunk], timings: Timings
) -> AsyncIterator[bytes]:
    """One NDJSON line per chunk; the last line carries Ollama's counters (or the error)."""
    try:
        async for chunk in chunks:
            timings.mark_token()
            body = part(model, chunk.text)
            if chunk.finish_reason is None:
                yield ndjson_line(body)
                continue
            yield ndjson_line({**body, **timings.final(chunk.usage or Usage(), chunk.finish_reason)})
            return
    except Exception as exc:  # noqa: BLE001 - headers are out: the client gets an error line
        yield ndjson_line({"error": mid_stream_error(exc).message})


async def whole_reply(part: Any, model: str, chunks: AsyncIterator[ChatChunk], timings: Timings) -> dict[str, Any]:
    """The non-streamed answer: every chunk's text in one object with the final counters."""
    texts: list[str] = []
    async for chunk in chunks:
        timings.mark_token()
        texts.append(chunk.text)
        if chunk.finish_reason is not None:
            return {**part(model, "".join(texts)), **timings.final(chunk.usage or Usage(), chunk.finish_reason)}
    raise RuntimeError("the model's stream ended without a final chunk")


class ShowRequestIn(BaseModel):
    """``/api/show`` names the model as ``model`` (older clients: ``name``)."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None
    name: str | None = None

    @property
    def wanted(self) -> str:
        return model_name(self.model or self.name or "")


#: Go's zero time, which Ollama sends for "never": Lumina keeps a loaded model until it stops.
NEVER = "0001-01-01T00:00:00Z"


def _modified(model: ModelInfo) -> str:
    return datetime.fromtimestamp(model.created, UTC).isoformat().replace("+00:00", "Z")


def _details(model: ModelInfo) -> dict[str, Any]:
    details = model.details
    return {"parent_model": "", "format": details.format, "family": details.family,
            "families": [details.family] if details.family else None, "parameter_size": details.parameter_size,
            "quantization_level": details.quantization_level}


def tags_body(models: list[ModelInfo]) -> dict[str, Any]:
    return {"models": [
        {"name": m.id, "model": m.id, "modified_at": _modified(m), "size": m.size, "digest": "",
         "details": _details(m)}
        for m in models
    ]}


def show_body(model: ModelInfo) -> dict[str, Any]:
    """What Ollama's ``/api/show`` says of a model; Lumina knows its context window, not its
    Modelfile or template."""
    info = {"general.architecture": model.details.family, "lumina.provider": model.provider}
    if model.context_window:
        info["context_length"] = model.context_window
    return {
        "modelfile": "", "parameters": "", "template": "", "details": _details(model), "model_info": info,
        "capabilities": ["completion"], "modified_at": _modified(model),
    }


def ps_body(models: list[ModelInfo]) -> dict[str, Any]:
    """Ollama's ``/api/ps``: the models loaded in memory."""
    return {"models": [
        {"name": m.id, "model": m.id, "size": m.size, "digest": "", "details": _details(m), "expires_at": NEVER,
         "size_vram": 0, "context_length": m.context_window or 0}
        for m in models
    ]}
