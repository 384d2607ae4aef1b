"""Embeddings from an Ollama server (``nomic-embed-text`` by default) through the official client."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lumina_core.services.embeddings.base import normalised
from lumina_core.services.llm.ollama import ollama_errors


class OllamaEmbedder:
    def __init__(self, url: str, model: str = "nomic-embed-text", *, timeout: float = 60.0) -> None:
        import ollama

        self.model = model
        self.dimensions = 0
        self._url = url
        self._client = ollama.AsyncClient(host=url, timeout=timeout)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        with ollama_errors(self._url, self.model):
            response = await self._client.embed(model=self.model, input=list(texts))
        vectors = normalised(np.asarray(response.embeddings, dtype=np.float32))
        self.dimensions = vectors.shape[1]
        return vectors.tolist()

    async def probe(self) -> None:
        """Learn ``dimensions`` (and check the model is pulled) with one tiny request."""
        await self.embed(["dimensions probe"])

    async def aclose(self) -> None:
        await self._client._client.aclose()
