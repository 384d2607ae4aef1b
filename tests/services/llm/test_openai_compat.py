"""The OpenAI-compatible provider against a real third-party peer, ``llama_cpp.server`` (issue 3)."""

from __future__ import annotations

import pytest

from lumina_core.contract import Message
from lumina_core.services.llm import LLMService, ModelNotFound, ProviderUnavailable
from lumina_core.services.llm.base import ContextTooLong, GenerationOptions
from lumina_core.services.llm.openai_compat import OpenAICompatibleProvider, _sse_data

# With a system message of its own, so the peer's template does not add SmolLM's (after which
# greedy decoding on some CPU builds drifts away from the answer).
QUESTION = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Name the capital of France."},
]


async def test_streams_an_answer_and_counts_tokens_when_not_streaming(llama_cpp_server: str) -> None:
    provider = OpenAICompatibleProvider(llama_cpp_server, "smollm2-peer")
    llm = LLMService([provider])
    try:
        chunks = [c async for c in llm.stream(QUESTION, temperature=0, max_tokens=20)]
        whole = await llm.chat(QUESTION, temperature=0, max_tokens=20)
    finally:
        await llm.aclose()
    streamed = "".join(c.text for c in chunks)
    assert "Paris" in streamed and streamed == whole.text
    assert chunks[-1].finish_reason == whole.finish_reason == "stop"
    # llama.cpp's server sends no usage in streams, so only the non-streamed reply has counts
    assert whole.usage.prompt_tokens > 10 and whole.usage.completion_tokens > 0


async def test_lists_the_peers_models_and_answers_by_name(llama_cpp_server: str) -> None:
    llm = LLMService([OpenAICompatibleProvider(llama_cpp_server)])
    try:
        assert [m.id for m in await llm.models()] == ["smollm2-peer"]
        result = await llm.chat(QUESTION, model="smollm2-peer", max_tokens=3)
        with pytest.raises(ModelNotFound):
            await llm.chat(QUESTION, model="gpt-nothing")
    finally:
        await llm.aclose()
    assert result.finish_reason == "length" and result.usage.completion_tokens == 3


async def test_a_server_that_is_down_is_a_clear_unavailable_error(pick_free_port) -> None:
    url = f"http://127.0.0.1:{pick_free_port()}/v1"
    provider = OpenAICompatibleProvider(url, "any", timeout=2)
    with pytest.raises(ProviderUnavailable) as caught:
        [c async for c in provider.stream((), "any", GenerationOptions())]
    await provider.aclose()
    assert url in caught.value.message and "OPENAI_BASE_URL" in caught.value.message


async def test_configuration_alone_points_lumina_at_the_server(llama_cpp_server: str, tmp_path) -> None:
    from lumina_core.services.llm import build_llm
    from lumina_core.settings import load_settings

    settings = load_settings(
        data_dir=tmp_path, openai_base_url=llama_cpp_server, openai_model="smollm2-peer", llm_providers="openai"
    )
    llm = build_llm(settings)
    result = await llm.chat(QUESTION, max_tokens=2)
    await llm.aclose()
    assert result.model == "smollm2-peer" and result.usage.completion_tokens == 2


async def test_streams_reuse_one_kept_alive_connection(llama_cpp_server: str) -> None:
    provider = OpenAICompatibleProvider(llama_cpp_server, "smollm2-peer")
    try:
        for _ in range(3):
            [c async for c in provider.stream((Message("user", "Hi"),), "smollm2-peer", GenerationOptions(max_tokens=2))]
        idle = provider.session.connector._conns  # aiohttp keeps no public view of its pool
        assert [len(connections) for connections in idle.values()] == [1]
    finally:
        await provider.aclose()


async def test_a_stream_abandoned_midway_drops_its_connection_and_the_next_one_answers(llama_cpp_server: str) -> None:
    provider = OpenAICompatibleProvider(llama_cpp_server, "smollm2-peer")
    try:
        abandoned = provider.stream((Message("user", "Count to fifty."),), "smollm2-peer", GenerationOptions(max_tokens=200))
        first = await anext(abandoned)
        await abandoned.aclose()  # what a client going away does to the gateway's stream
        idle = provider.session.connector._conns  # aiohttp keeps no public view of its pool
        assert first.text and not any(idle.values())  # not returned half-read to the pool
        question = tuple(Message(**m) for m in QUESTION)
        answer = [c async for c in provider.stream(question, "smollm2-peer", GenerationOptions(max_tokens=20, temperature=0))]
    finally:
        await provider.aclose()
    assert "Paris" in "".join(c.text for c in answer)


async def test_a_prompt_longer_than_the_peers_context_is_a_clear_400(llama_cpp_server: str) -> None:
    provider = OpenAICompatibleProvider(llama_cpp_server, "smollm2-peer")
    too_long = (Message("user", "word " * 3000),)
    try:
        with pytest.raises(ContextTooLong) as caught:
            await provider.complete(too_long, "smollm2-peer", GenerationOptions(max_tokens=4))
    finally:
        await provider.aclose()
    assert caught.value.status == 400 and llama_cpp_server in caught.value.message


async def test_server_sent_events_are_split_across_reads_and_line_endings() -> None:
    async def reads():
        for piece in (b'data: {"a":', b' 1}\r\n\r\n: a comment\n\nda', b"ta: [DONE]\n\ndata: x\ndata: y\n\n"):
            yield piece

    events = [data async for data in _sse_data(reads())]
    assert events == [b'{"a": 1}', b"[DONE]", b"x\ny"]


async def test_a_server_cannot_score_or_weigh_given_text(llama_cpp_server: str) -> None:
    """Servers give the log-probabilities of what they generate only, so callers keep their own
    order, and constrain a server's generation with a JSON Schema where they would select."""
    llm = LLMService([OpenAICompatibleProvider(llama_cpp_server, "smollm2-peer")])
    try:
        assert await llm.loglikelihood("The capital of France is", " Paris.") is None
        assert await llm.select([{"role": "user", "content": "Capital of France?"}], [[" Paris", " Rome"]]) is None
    finally:
        await llm.aclose()


async def test_a_json_schema_reaches_a_server_that_takes_json_mode_with_a_schema(llama_cpp_server: str) -> None:
    """llama-cpp-python's server refuses OpenAI's ``json_schema`` form; it is asked again with
    ``{"type": "json_object", "schema": ...}``, which is then kept for it."""
    llm = LLMService([OpenAICompatibleProvider(llama_cpp_server, "smollm2-peer")])
    schema = {"enum": ["red", "green", "blue"]}
    try:
        for _ in range(2):
            result = await llm.chat([{"role": "user", "content": "Name a colour."}], json_schema=schema, max_tokens=8)
            assert result.text.strip() in ('"red"', '"green"', '"blue"')
        streamed = [c.text async for c in llm.stream([{"role": "user", "content": "A colour?"}], json_schema=schema,
                                                     max_tokens=8)]
        assert "".join(streamed).strip() in ('"red"', '"green"', '"blue"')
    finally:
        await llm.aclose()
