"""Embedders behind one interface (the ``embedder`` service), with a cache, chosen by configuration."""

from __future__ import annotations

from lumina_core.services.embeddings.base import Embedder
from lumina_core.services.embeddings.cache import CachedEmbedder, RedisLayer
from lumina_core.settings import Settings

__all__ = ["CachedEmbedder", "Embedder", "build_embedder"]


def build_inner(settings: Settings) -> Embedder:
    if settings.embedder == "ollama":
        if not settings.ollama_url:
            raise ValueError("LUMINA_EMBEDDER=ollama needs OLLAMA_URL")
        from lumina_core.services.embeddings.ollama import OllamaEmbedder

        return OllamaEmbedder(settings.ollama_url, settings.ollama_embed_model, timeout=settings.llm_timeout)
    from lumina_core.services.embeddings.minilm import MiniLMEmbedder

    return MiniLMEmbedder(folder=settings.embedder_model)


def build_embedder(settings: Settings) -> CachedEmbedder:
    redis_url = getattr(settings, "redis_url", None)
    prefix = f"{getattr(settings, 'redis_prefix', 'lumina')}:emb"
    redis = RedisLayer(redis_url, prefix) if redis_url else None
    return CachedEmbedder(build_inner(settings), size=settings.embedding_cache_size, redis=redis)
