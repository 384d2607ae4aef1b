"""OpenAI's stream format, frame by frame, including an error after the headers went out."""

from __future__ import annotations

import json

from lumina_core.chat.budget import Budget
from lumina_core.chat.openai_api import ChunkWriter
from lumina_core.chat.pipeline import PreparedChat
from lumina_core.contract import ChatRequest, Message, Usage
from lumina_core.services.llm import ProviderUnavailable
from lumina_core.services.llm.base import ChatChunk

PREPARED = PreparedChat(
    request=ChatRequest(messages=(Message("user", "hi"),), user_id="tester"),
    model="m", messages=(Message("user", "hi"),), context=(), budget=Budget(2048, 16, 5, 0),
    turn_id="t1", options={},
)


async def _frames(first: ChatChunk, rest, include_usage: bool = False) -> list[str]:
    """The SSE events as the client reads them (one write may carry several)."""
    written = b"".join([w async for w in ChunkWriter(PREPARED, include_usage).frames(first, rest)]).decode()
    return [event + "\n\n" for event in written.split("\n\n") if event]


def _data(frame: str):
    assert frame.startswith("data: ") and frame.endswith("\n\n")
    body = frame[6:-2]
    return body if body == "[DONE]" else json.loads(body)


async def test_an_error_mid_stream_is_a_data_event_and_ends_the_stream() -> None:
    async def failing():
        yield ChatChunk(" world", "m")
        raise ProviderUnavailable("Ollama at http://o:11434 failed: out of memory")

    frames = [_data(f) for f in await _frames(ChatChunk("Hello", "m"), failing())]
    assert [f["choices"][0]["delta"] for f in frames[:3]] == [
        {"role": "assistant", "content": ""}, {"content": "Hello"}, {"content": " world"},
    ]
    assert frames[-1] == {"error": {"message": "Ollama at http://o:11434 failed: out of memory",
                                    "type": "server_error", "param": None, "code": "provider_unavailable"}}
    assert "[DONE]" not in frames


async def test_a_one_chunk_reply_still_has_role_text_finish_usage_and_done() -> None:
    async def nothing_more():
        return
        yield

    final = ChatChunk("Hi", "m", finish_reason="stop", usage=Usage(5, 1))
    frames = [_data(f) for f in await _frames(final, nothing_more(), include_usage=True)]
    assert [f["choices"][0]["delta"] if f != "[DONE]" and f["choices"] else f for f in frames][:3] == [
        {"role": "assistant", "content": ""}, {"content": "Hi"}, {},
    ]
    assert frames[2]["choices"][0]["finish_reason"] == "stop"
    assert frames[3]["choices"] == [] and frames[3]["usage"] == {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
    assert frames[4] == "[DONE]" and len(frames) == 5
