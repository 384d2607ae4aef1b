"""The embedded embedder: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime (issue 3)."""

from __future__ import annotations

import numpy as np

from lumina_core.services.embeddings.minilm import MiniLMEmbedder


async def test_vectors_are_384_wide_normalised_and_meaningful() -> None:
    embedder = MiniLMEmbedder()
    question, about, other = np.array(await embedder.embed([
        "Who was Aristotle?",
        "Aristotle was a Greek philosopher and polymath of the classical period.",
        "The aardvark is a nocturnal burrowing mammal native to Africa.",
    ]))
    assert question.shape == (384,) and embedder.dimensions == 384
    assert np.isclose(np.linalg.norm(question), 1, atol=1e-5)
    assert question @ about > 0.7 and question @ other < 0.3


async def test_batches_give_the_same_vectors_as_single_texts() -> None:
    embedder = MiniLMEmbedder(batch_size=2)
    texts = ["short", "a somewhat longer sentence that needs padding in its batch", "third one"]
    together = np.array(await embedder.embed(texts))
    alone = np.array([(await embedder.embed([t]))[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-4)
    assert await embedder.embed([]) == []


async def test_counts_the_tokens_it_reads() -> None:
    assert await MiniLMEmbedder().count_tokens(["hello world"]) == 4  # [CLS] hello world [SEP]
