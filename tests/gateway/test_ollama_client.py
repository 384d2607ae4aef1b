"""The official ``ollama`` client against Lumina's Ollama-compatible endpoints (issue 3)."""

from __future__ import annotations

import httpx
import numpy as np
import ollama
import pytest

QUESTION = [{"role": "user", "content": "Name the capital of France."}]


@pytest.fixture(scope="module")
def client(lumina_server: str) -> ollama.Client:
    return ollama.Client(host=lumina_server)


@pytest.fixture(scope="module")
def model(client: ollama.Client) -> str:
    return client.list().models[0].model


def test_lists_models_as_tags_with_their_file_size_and_details(client: ollama.Client, model: str) -> None:
    [listed] = client.list().models
    assert listed.model == model and listed.size > 50_000_000  # the 135M model's GGUF file
    details = listed.details
    assert (details.format, details.family, details.parameter_size, details.quantization_level) == (
        "gguf", "llama", "135M", "Q4_1")


def test_chat_answers_with_ollama_counters(client: ollama.Client, model: str) -> None:
    reply = client.chat(model=model, messages=QUESTION, options={"temperature": 0, "num_predict": 20})
    assert "Paris" in reply.message.content
    assert reply.done and reply.done_reason == "stop"
    assert reply.prompt_eval_count > 10 and 0 < reply.eval_count <= 20
    assert reply.total_duration >= reply.eval_duration > 0


def test_chat_streams_and_accepts_the_latest_tag(client: ollama.Client, model: str) -> None:
    parts = list(client.chat(model=f"{model}:latest", messages=QUESTION, stream=True,
                             options={"temperature": 0, "num_predict": 20}))
    assert "Paris" in "".join(p.message.content for p in parts)
    assert [p.done for p in parts] == [False] * (len(parts) - 1) + [True]
    assert parts[-1].eval_count > 0


def test_generate_streams_a_completion(client: ollama.Client, model: str) -> None:
    parts = list(client.generate(model=model, prompt="Say hello.", stream=True, options={"num_predict": 4}))
    assert parts[-1].done and parts[-1].done_reason == "length" and parts[-1].eval_count == 4
    assert "".join(p.response for p in parts).strip()


def test_empty_generate_just_loads_the_model(client: ollama.Client, model: str) -> None:
    assert client.generate(model=model, prompt="").done_reason == "load"


async def test_async_client_chats(lumina_server: str, model: str) -> None:
    reply = await ollama.AsyncClient(host=lumina_server).chat(
        model=model, messages=QUESTION, options={"temperature": 0, "num_predict": 20}
    )
    assert "Paris" in reply.message.content


def test_embed_returns_normalised_vectors(client: ollama.Client) -> None:
    result = client.embed(model="all-minilm-l6-v2", input=["Who was Aristotle?", "Aristotle was a philosopher."])
    vectors = np.array(result.embeddings)
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert result.prompt_eval_count > 2


def test_unknown_model_is_a_404_response_error(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as caught:
        client.chat(model="phi2", messages=QUESTION)
    assert caught.value.status_code == 404 and "phi2" in caught.value.error


def test_bad_request_is_400_with_ollama_error_shape(lumina_server: str) -> None:
    response = httpx.post(f"{lumina_server}/api/chat", json={"model": "x", "messages": "not a list"})
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)


def test_show_describes_a_model_and_refuses_an_unknown_one(client: ollama.Client, model: str) -> None:
    shown = client.show(f"{model}:latest")
    assert shown.details.format == "gguf" and shown.modelinfo["context_length"] == 2048
    assert shown.modelinfo["general.architecture"] == "llama"
    assert shown.capabilities == ["completion"]
    with pytest.raises(ollama.ResponseError) as caught:
        client.show("no-such-model")
    assert caught.value.status_code == 404 and "no-such-model" in caught.value.error


def test_ps_lists_the_loaded_model_and_version_answers(client: ollama.Client, model: str, lumina_server: str) -> None:
    client.generate(model=model, prompt="")  # what Ollama clients send to load a model
    client.generate(model=model, prompt="Hi", options={"num_predict": 1})
    [running] = client.ps().models
    assert running.model == model and running.context_length == 2048
    assert running.size > 50_000_000 and running.details.quantization_level == "Q4_1"
    assert httpx.get(f"{lumina_server}/api/version").json()["version"]
