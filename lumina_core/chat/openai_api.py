"""OpenAI's wire format for ``/v1``: requests, responses, stream chunks and the error envelope.

The traps compatible servers fall into are handled here on purpose: ``role`` only in the first
delta; ``finish_reason`` null on every chunk but the finish chunk; with
``stream_options.include_usage`` every chunk carries ``"usage": null`` and one extra chunk with
``choices: []`` and the usage follows the finish chunk; the stream ends with ``data: [DONE]``;
an error after the headers went out is sent as a ``data:`` event.
"""

from __future__ import annotations

import base64
import struct
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from lumina_core.chat.pipeline import ChatReply, PreparedChat
from lumina_core.chat.sse import DONE_FRAME, data_frame, mid_stream_error
from lumina_core.chat.tools import quoted_tool_result
from lumina_core.contract import Message, ToolCall, Usage
from lumina_core.errors import LuminaError, ValidationFailed
from lumina_core.services.llm.base import ChatChunk, ModelInfo

_ERROR_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    429: "rate_limit_error",
}


# --- errors -------------------------------------------------------------------------------


def error_body(status: int, message: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def openai_envelope(
    status: int, kind: str, message: str, field: str | None, headers: dict[str, str] | None
) -> Response:
    """The ``/v1`` envelope for errors raised anywhere (validation errors answer 400, as OpenAI's)."""
    status = 400 if status == 422 else status
    code = {"rate_limited": "rate_limit_exceeded", "not_found": None}.get(kind, kind if status >= 500 else None)
    return JSONResponse(error_body(status, message, field, code), status_code=status, headers=headers)


def error_response(exc: LuminaError) -> Response:
    status = 400 if exc.status == 422 else exc.status
    body = error_body(status, exc.message, exc.field, getattr(exc, "code", None))
    return JSONResponse(body, status_code=status, headers=getattr(exc, "headers", None))


# --- requests -----------------------------------------------------------------------------


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["text"]
    text: str


class FunctionCallIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    arguments: str = "{}"


class ToolCallIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    type: Literal["function"] = "function"
    function: FunctionCallIn


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None

    @property
    def text(self) -> str:
        return self.content if isinstance(self.content, str) else "".join(p.text for p in self.content or [])

    def as_message(self) -> Message:
        return Message("system" if self.role == "developer" else self.role, self.text)


def conversation(messages: list[ChatMessageIn]) -> tuple[Message, ...]:
    """The messages as the model reads them: a tool result quoted as data under its tool's name,
    an assistant turn that only called tools left out (its calls are answered by the results)."""
    names = {call.id: call.function.name for m in messages for call in m.tool_calls or ()}
    read: list[Message] = []
    for message in messages:
        if message.role == "tool":
            read.append(quoted_tool_result(names.get(message.tool_call_id or "", ""), message.text))
        elif not (message.role == "assistant" and message.tool_calls and not message.text):
            read.append(message.as_message())
    return tuple(read)


class FunctionIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ToolIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["function"]
    function: FunctionIn


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    messages: list[ChatMessageIn] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    stop: str | list[str] | None = None
    n: int = Field(1, ge=1, le=1, description="Only one choice is generated.")
    tools: list[ToolIn] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool = True

    @property
    def functions(self) -> list[dict[str, Any]]:
        return [t.function.model_dump() for t in self.tools or ()]

    @property
    def reply_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def stops(self) -> list[str] | None:
        return [self.stop] if isinstance(self.stop, str) else self.stop

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None

    def texts(self) -> list[str]:
        values = [self.input] if isinstance(self.input, str) else list(self.input)
        if not values:
            raise ValidationFailed("input must not be empty", field="input")
        if not all(isinstance(v, str) for v in values):
            raise ValidationFailed("input as token ids is not supported here: send the text", field="input")
        return values


# --- responses ----------------------------------------------------------------------------


def usage_body(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def lumina_metadata(prepared: PreparedChat) -> dict[str, Any]:
    """What Lumina adds beside OpenAI's fields: the token budget and the context used."""
    return {
        "turn_id": prepared.turn_id,
        "budget": prepared.budget.to_dict(),
        "context": [{"source": b.source, "cite_id": b.cite_id, "priority": b.priority} for b in prepared.context],
    }


def completion_body(prepared: PreparedChat, reply: ChatReply) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{prepared.turn_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text, "refusal": None},
                "logprobs": None,
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": usage_body(reply.usage),
        "system_fingerprint": None,
        "lumina": lumina_metadata(prepared),
    }


def tool_calls_body(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": orjson.dumps(dict(c.arguments)).decode()}}
        for c in calls
    ]


def tool_calls_completion(model: str, calls: Sequence[ToolCall], decision: Mapping[str, Any]) -> dict[str, Any]:
    """The reply that asks the client to run tools (``finish_reason: tool_calls``)."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": None, "refusal": None, "tool_calls": tool_calls_body(calls)},
            "logprobs": None,
            "finish_reason": "tool_calls",
        }],
        "usage": usage_body(Usage()),
        "system_fingerprint": None,
        "lumina": {"router_decision": dict(decision)},
    }


def tool_calls_frames(model: str, calls: Sequence[ToolCall], decision: Mapping[str, Any], include_usage: bool) -> bytes:
    """The same reply as a stream: the role, one delta per call (whole arguments), the finish."""
    base: dict[str, Any] = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk",
                            "created": int(time.time()), "model": model, "system_fingerprint": None}
    if include_usage:
        base["usage"] = None

    def frame(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        return data_frame({**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                           **extra})

    frames = [frame({"role": "assistant", "content": None}, lumina={"router_decision": dict(decision)})]
    for index, call in enumerate(tool_calls_body(calls)):
        frames.append(frame({"tool_calls": [{"index": index, **call}]}))
    frames.append(frame({}, "tool_calls"))
    if include_usage:
        frames.append(data_frame({**base, "choices": [], "usage": usage_body(Usage())}))
    frames.append(DONE_FRAME)
    return b"".join(frames)


class ChunkWriter:
    """Turns model chunks into OpenAI ``chat.completion.chunk`` frames."""

    def __init__(self, prepared: PreparedChat, include_usage: bool) -> None:
        self._base = {
            "id": f"chatcmpl-{prepared.turn_id}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": prepared.model,
            "system_fingerprint": None,
        }
        if include_usage:
            self._base["usage"] = None
        self._include_usage = include_usage
        self._prepared = prepared

    def _frame(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return data_frame({**self._base, "choices": [choice], **extra})

    async def frames(self, first: ChatChunk, rest: AsyncIterator[ChatChunk]) -> AsyncIterator[bytes]:
        """One write per model chunk: the role frame leaves with the first text, and the finish,
        usage and ``[DONE]`` frames together, so the client is woken once for each."""
        frames = self._frame({"role": "assistant", "content": ""}, lumina=lumina_metadata(self._prepared))
        chunk = first
        try:
            while True:
                frames += self._frames_of(chunk)
                if frames:
                    yield frames
                if chunk.finish_reason is not None:
                    return
                frames, chunk = b"", await anext(rest)
        except StopAsyncIteration:
            yield data_frame(error_body(502, "the model's stream ended before it finished", code="stream_ended"))
        except Exception as exc:  # noqa: BLE001 - headers are out: the client gets an error event
            error = mid_stream_error(exc)
            yield data_frame(error_body(error.status, error.message, error.field, getattr(error, "code", None)))

    def _frames_of(self, chunk: ChatChunk) -> bytes:
        frames = [self._frame({"content": chunk.text})] if chunk.text else []
        if chunk.finish_reason is not None:
            frames.append(self._frame({}, chunk.finish_reason))
            if self._include_usage:
                frames.append(data_frame({**self._base, "choices": [], "usage": usage_body(chunk.usage or Usage())}))
            frames.append(DONE_FRAME)
        return b"".join(frames)


def models_body(models: list[ModelInfo]) -> dict[str, Any]:
    return {"object": "list", "data": [model_body(m) for m in models]}


def model_body(model: ModelInfo) -> dict[str, Any]:
    """OpenAI's model object; ``adapter`` names the LoRA adapter the model answers with, if any."""
    body = {"id": model.id, "object": "model", "created": model.created, "owned_by": f"lumina-{model.provider}"}
    return body | {"adapter": model.adapter} if model.adapter else body


def embeddings_body(model: str, vectors: list[list[float]], encoding: str, tokens: int) -> dict[str, Any]:
    def encoded(vector: list[float]) -> Any:
        if encoding == "base64":
            return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        return vector

    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": encoded(v)} for i, v in enumerate(vectors)],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
