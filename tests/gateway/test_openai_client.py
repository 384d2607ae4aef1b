"""The official ``openai`` client against a running Lumina on the embedded model (issue 3)."""

from __future__ import annotations

import base64
import json

import httpx
import numpy as np
import openai
import pytest

QUESTION = [{"role": "user", "content": "Name the capital of France."}]


@pytest.fixture(scope="module")
def client(lumina_server: str, lumina_api_key: str) -> openai.OpenAI:
    with openai.OpenAI(base_url=f"{lumina_server}/v1", api_key=lumina_api_key, max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def model(client: openai.OpenAI) -> str:
    return client.models.list().data[0].id


def test_lists_the_embedded_model(client: openai.OpenAI, model: str) -> None:
    listed = client.models.list()
    assert [m.id for m in listed.data] == [model]
    assert listed.data[0].object == "model"
    assert client.models.retrieve(model).id == model


def test_answers_with_real_token_counts(client: openai.OpenAI, model: str) -> None:
    reply = client.chat.completions.create(model=model, messages=QUESTION, temperature=0, max_tokens=20)
    assert "Paris" in reply.choices[0].message.content
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens > 10
    assert 0 < reply.usage.completion_tokens <= 20
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_streams_the_same_answer_with_usage_once_at_the_end(client: openai.OpenAI, model: str) -> None:
    chunks = list(client.chat.completions.create(
        model=model, messages=QUESTION, temperature=0, max_tokens=20, stream=True,
        stream_options={"include_usage": True},
    ))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Paris" in text
    assert [c for c in chunks if c.usage is not None] == [chunks[-1]]
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens > 0


def test_stops_at_max_tokens_with_finish_reason_length(client: openai.OpenAI, model: str) -> None:
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Write a long poem about the sea."}], max_tokens=3
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 3


async def test_async_client_streams_and_answers(lumina_server: str, lumina_api_key: str, model: str) -> None:
    async with openai.AsyncOpenAI(base_url=f"{lumina_server}/v1", api_key=lumina_api_key, max_retries=0) as client:
        reply = await client.chat.completions.create(model=model, messages=QUESTION, temperature=0, max_tokens=20)
        stream = await client.chat.completions.create(
            model=model, messages=QUESTION, temperature=0, max_tokens=20, stream=True
        )
        streamed = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert streamed == reply.choices[0].message.content


def test_stream_follows_openai_chunk_rules(lumina_server: str, model: str) -> None:
    """role only in the first delta; finish_reason only on the finish chunk; usage chunk last; [DONE]."""
    body = {"model": model, "messages": QUESTION, "max_tokens": 8, "stream": True,
            "stream_options": {"include_usage": True}}
    with httpx.stream("POST", f"{lumina_server}/v1/chat/completions", json=body, timeout=60) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        frames = [line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data: ")]
    assert frames[-1] == "[DONE]"
    events = [json.loads(f) for f in frames[:-1]]
    with_choices = [e for e in events if e["choices"]]
    assert ["role" in e["choices"][0]["delta"] for e in with_choices] == [True] + [False] * (len(with_choices) - 1)
    finishes = [e["choices"][0]["finish_reason"] for e in with_choices]
    assert finishes[:-1] == [None] * (len(finishes) - 1) and finishes[-1] in ("stop", "length")
    assert all(e["usage"] is None for e in events[:-1])
    assert events[-1]["choices"] == [] and events[-1]["usage"]["total_tokens"] > 0


def test_stream_without_include_usage_sends_no_usage(lumina_server: str, model: str) -> None:
    body = {"model": model, "messages": QUESTION, "max_tokens": 4, "stream": True}
    with httpx.stream("POST", f"{lumina_server}/v1/chat/completions", json=body, timeout=60) as response:
        events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: {")]
    assert events and all("usage" not in e and e["choices"] for e in events)


@pytest.mark.parametrize("stream", [False, True])
def test_unknown_model_is_404_in_openai_envelope(client: openai.OpenAI, stream: bool) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-nothing", messages=QUESTION, stream=stream)
    error = caught.value.body
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "gpt-nothing" in error["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "user", "content": 42}]}, "messages[0].content"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
        ({"messages": QUESTION, "temperature": "hot"}, "temperature"),
    ],
)
def test_bad_requests_are_400_before_any_stream(lumina_server: str, model: str, body: dict, param: str) -> None:
    response = httpx.post(f"{lumina_server}/v1/chat/completions", json={"model": model, "stream": True, **body})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and error["param"].startswith(param)


def test_too_long_for_the_context_is_400_context_length_exceeded(client: openai.OpenAI, model: str) -> None:
    huge = [{"role": "user", "content": "word " * 3000}]
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=model, messages=huge, stream=True)
    assert caught.value.body["code"] == "context_length_exceeded"


def test_embeddings_in_base64_and_float(client: openai.OpenAI, lumina_server: str) -> None:
    texts = ["Aristotle was a Greek philosopher.", "Who was Aristotle?", "Aardvarks eat termites."]
    result = client.embeddings.create(model="all-minilm-l6-v2", input=texts)  # the client asks for base64
    vectors = np.array([d.embedding for d in result.data])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert vectors[1] @ vectors[0] > vectors[1] @ vectors[2] + 0.3
    assert result.usage.prompt_tokens > len(texts)
    as_float = httpx.post(f"{lumina_server}/v1/embeddings", json={"model": "all-minilm-l6-v2", "input": texts[0]})
    assert np.allclose(as_float.json()["data"][0]["embedding"], vectors[0], atol=1e-6)
    raw = httpx.post(f"{lumina_server}/v1/embeddings",
                     json={"model": "all-minilm-l6-v2", "input": texts[0], "encoding_format": "base64"})
    decoded = np.frombuffer(base64.b64decode(raw.json()["data"][0]["embedding"]), dtype="<f4")
    assert np.allclose(decoded, vectors[0])


def test_embeddings_refuse_unknown_models_and_token_ids(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="text-embedding-3-small", input="hi")
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="all-minilm-l6-v2", input=[[1, 2, 3]])
    assert caught.value.body["param"] == "input"


def test_a_wrong_api_key_is_401_in_openai_envelope(lumina_server: str, model: str) -> None:
    stranger = openai.OpenAI(base_url=f"{lumina_server}/v1", api_key="not-a-key", max_retries=0)
    with stranger, pytest.raises(openai.AuthenticationError) as caught:
        stranger.chat.completions.create(model=model, messages=QUESTION)
    assert caught.value.body["type"] == "authentication_error"
