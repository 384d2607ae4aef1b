"""Model selection by name and the fallback order (issue 3)."""

from __future__ import annotations

import pytest

from lumina_core.services.llm import LLMService, ModelNotFound, build_llm, provider_order
from lumina_core.services.llm.embedded import EmbeddedProvider
from lumina_core.services.llm.ollama import OllamaProvider
from lumina_core.settings import load_settings


def test_configured_servers_come_before_the_embedded_model(tmp_path) -> None:
    assert provider_order(load_settings(data_dir=tmp_path)) == ["embedded"]
    both = load_settings(data_dir=tmp_path, ollama_url="http://o:11434", openai_base_url="http://v/v1")
    assert provider_order(both) == ["ollama", "openai", "embedded"]
    chosen = load_settings(data_dir=tmp_path, ollama_url="http://o:11434", llm_providers="embedded, ollama")
    assert [p.name for p in build_llm(chosen).providers] == ["embedded", "ollama"]


def test_naming_an_unconfigured_provider_says_what_to_set(tmp_path) -> None:
    with pytest.raises(ValueError, match="OLLAMA_URL"):
        build_llm(load_settings(data_dir=tmp_path, llm_providers="ollama"))


async def test_falls_back_to_the_embedded_model_when_ollama_is_down(pick_free_port) -> None:
    down = OllamaProvider(f"http://127.0.0.1:{pick_free_port()}", "llama3.2", timeout=2)
    llm = LLMService([down, EmbeddedProvider()])
    result = await llm.chat([{"role": "user", "content": "Hi"}], max_tokens=2)
    await llm.aclose()
    assert result.model == "smollm2-135m-instruct.q4_1" and result.usage.completion_tokens == 2


async def test_an_unknown_model_lists_the_available_ones() -> None:
    llm = LLMService([EmbeddedProvider()])
    with pytest.raises(ModelNotFound) as caught:
        await llm.chat([{"role": "user", "content": "Hi"}], model="phi2")
    assert "smollm2-135m-instruct.q4_1" in caught.value.message and caught.value.status == 404
