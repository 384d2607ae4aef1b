"""Lumina's Ollama provider against Lumina's own Ollama-compatible endpoints, over a real socket."""

from __future__ import annotations

import httpx
import pytest

from lumina_core.services.embeddings.ollama import OllamaEmbedder
from lumina_core.services.llm import LLMService, ModelNotFound, ProviderUnavailable
from lumina_core.services.llm.ollama import OllamaProvider

QUESTION = [{"role": "user", "content": "Name the capital of France."}]


@pytest.fixture(scope="module")
def model(lumina_server: str) -> str:
    return httpx.get(f"{lumina_server}/api/tags").json()["models"][0]["name"]


@pytest.fixture
async def llm(lumina_server: str, model: str):
    service = LLMService([OllamaProvider(lumina_server, model)])
    yield service
    await service.aclose()


async def test_streams_with_ollamas_own_token_counts(llm: LLMService) -> None:
    chunks = [c async for c in llm.stream(QUESTION, temperature=0, max_tokens=20)]
    assert "Paris" in "".join(c.text for c in chunks)
    assert [c.finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage.prompt_tokens > 10 and chunks[-1].usage.completion_tokens > 0


async def test_lists_the_servers_models_with_their_size_and_details(llm: LLMService, model: str) -> None:
    [listed] = await llm.models()
    assert listed.id == model and listed.provider == "ollama" and listed.size > 50_000_000
    assert (listed.details.family, listed.details.quantization_level) == ("llama", "Q4_1")


async def test_max_tokens_ends_with_length(llm: LLMService) -> None:
    result = await llm.chat(QUESTION, max_tokens=2)
    assert result.finish_reason == "length" and result.usage.completion_tokens == 2


async def test_a_model_that_is_not_pulled_says_how_to_pull_it(lumina_server: str) -> None:
    provider = OllamaProvider(lumina_server, "phi2")
    with pytest.raises(ModelNotFound) as caught:
        [c async for c in provider.stream((), "phi2", _options())]
    await provider.aclose()
    assert caught.value.message == f"model 'phi2' is not pulled on {lumina_server}: run `ollama pull phi2`"


async def test_a_server_that_is_down_says_so(pick_free_port) -> None:
    url = f"http://127.0.0.1:{pick_free_port()}"
    llm = LLMService([OllamaProvider(url, "llama3.2", timeout=2)])
    with pytest.raises(ProviderUnavailable) as caught:
        await llm.chat(QUESTION)
    await llm.aclose()
    assert url in caught.value.message and "ollama serve" in caught.value.message


async def test_the_ollama_embedder_gets_normalised_vectors(lumina_server: str) -> None:
    embedder = OllamaEmbedder(lumina_server, "all-minilm-l6-v2")
    vectors = await embedder.embed(["one sentence", "another one"])
    await embedder.aclose()
    assert embedder.dimensions == 384 and len(vectors) == 2


def _options():
    from lumina_core.services.llm.base import GenerationOptions

    return GenerationOptions()


async def test_configuration_alone_points_lumina_at_an_ollama_server(lumina_server: str, model: str, tmp_path) -> None:
    from lumina_core.services.llm import build_llm
    from lumina_core.settings import load_settings

    llm = build_llm(load_settings(data_dir=tmp_path, ollama_url=lumina_server, ollama_model=model))
    result = await llm.chat(QUESTION, max_tokens=2)
    await llm.aclose()
    assert [p.name for p in llm.providers] == ["ollama", "embedded"]
    assert result.usage.completion_tokens == 2
