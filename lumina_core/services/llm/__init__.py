"""Language-model providers behind one interface (the ``llm`` service), chosen by configuration."""

from __future__ import annotations

from lumina_core.services.llm.base import (
    ChatChunk,
    ChatResult,
    ContextTooLong,
    Likelihood,
    ModelInfo,
    ModelNotFound,
    Provider,
    ProviderUnavailable,
)
from lumina_core.services.llm.registry import LLMService
from lumina_core.services.llm.selection import Selection, Step
from lumina_core.services.llm.spend import Price, Spend, SpendLedger
from lumina_core.settings import Settings

__all__ = [
    "ChatChunk", "ChatResult", "ContextTooLong", "Likelihood", "LLMService", "ModelInfo", "ModelNotFound",
    "Price", "Provider", "ProviderUnavailable", "Selection", "Spend", "Step", "SpendLedger", "build_llm", "provider_order",
]


def provider_order(settings: Settings) -> list[str]:
    """``LUMINA_LLM_PROVIDERS`` when set; otherwise configured servers first, then embedded."""
    if settings.llm_providers:
        return [name.strip() for name in settings.llm_providers.split(",") if name.strip()]
    servers = [name for name, url in (("ollama", settings.ollama_url), ("openai", settings.openai_base_url)) if url]
    return [*servers, "embedded"]


def build_provider(name: str, settings: Settings) -> Provider:
    if name == "embedded":
        from lumina_core.services.llm.embedded import EmbeddedProvider, LlamaOptions

        threads = settings.llm_threads or LlamaOptions.threads
        options = LlamaOptions(settings.llm_context, threads, settings.llm_prompt_batch)
        return EmbeddedProvider(options=options)
    if name == "ollama" and settings.ollama_url:
        from lumina_core.services.llm.ollama import OllamaProvider

        return OllamaProvider(
            settings.ollama_url, settings.ollama_model,
            timeout=settings.llm_timeout, context_window=settings.llm_server_context,
        )
    if name == "openai" and settings.openai_base_url:
        from lumina_core.services.llm.openai_compat import OpenAICompatibleProvider

        return OpenAICompatibleProvider(
            settings.openai_base_url, settings.openai_model, api_key=settings.openai_api_key,
            timeout=settings.llm_timeout, context_window=settings.llm_server_context,
        )
    raise ValueError(
        f"LUMINA_LLM_PROVIDERS names '{name}', which is not configured: use embedded, "
        f"ollama (with OLLAMA_URL) or openai (with OPENAI_BASE_URL)"
    )


def build_llm(settings: Settings) -> LLMService:
    prices = {model: Price(*pair) for model, pair in settings.llm_prices.items()}
    return LLMService(
        [build_provider(name, settings) for name in provider_order(settings)], timeout=settings.llm_timeout,
        ledger=SpendLedger(settings.data_dir / "llm" / "spend.sqlite", prices) if prices else None,
    )
