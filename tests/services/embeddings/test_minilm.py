"""The embedded embedder: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime (issue 3), or another
BERT-style model from a folder (issue 16: a fine-tuned one)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from lumina_core.services.embeddings import build_inner
from lumina_core.services.embeddings.minilm import MiniLMEmbedder
from lumina_core.services.model_files import MINILM_ONNX, MINILM_TOKENIZER
from lumina_core.settings import Settings


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


async def test_a_model_folder_is_served_under_its_own_name(tmp_path: Path) -> None:
    folder = tmp_path / "minilm-tuned"
    folder.mkdir()
    (folder / "model.onnx").symlink_to(MINILM_ONNX.locate())
    (folder / "tokenizer.json").symlink_to(MINILM_TOKENIZER.locate())
    (folder / "config.json").write_text(json.dumps({"hidden_size": 384}))
    embedder = build_inner(Settings(data_dir=tmp_path, embedder_model=folder))
    assert (embedder.model, embedder.dimensions) == ("minilm-tuned", 384)
    text = ["Aristotle was a Greek philosopher."]
    assert np.allclose(await embedder.embed(text), await MiniLMEmbedder().embed(text), atol=1e-6)


def test_a_model_folder_without_its_files_is_refused_with_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ValidationError, match=r"model\.onnx missing in .*: the folder needs model\.onnx and tokenizer\.json"):
        Settings(data_dir=tmp_path, embedder_model=tmp_path)
