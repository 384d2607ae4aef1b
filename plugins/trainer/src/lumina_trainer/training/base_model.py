"""The embedded SmolLM2, loaded by transformers straight from the GGUF file llama.cpp serves.

transformers dequantizes the GGUF weights into an ordinary PyTorch model and builds the
tokenizer (with its chat template) from the same file, so training and serving read one model.
Reading the GGUF's metadata that way takes tens of seconds on two cores, so the converted model
is kept in the user's cache folder (``$XDG_CACHE_HOME/lumina/trainer``, one folder per GGUF file,
size and time), written whole or not at all; later loads read it in a second. Nothing is fetched
from a model hub: the hub is switched off before transformers is imported, and every load asks
for local files only.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"
# OpenMP threads that wait by spinning make a step several times slower on cores others share
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch
from safetensors.torch import save_model
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.utils import logging as transformers_logging

transformers_logging.disable_progress_bar()

_cache: dict[Path, tuple[Any, Any]] = {}
_loading = threading.Lock()


@dataclass
class BaseModel:
    """A fresh copy of the base model (training changes it) and the shared tokenizer."""

    model: Any
    tokenizer: Any


def load_base(path: Path) -> BaseModel:
    """The model in ``path`` (a GGUF file), converted once per machine, read once per process,
    copied per run."""
    with _loading:
        if path not in _cache:
            _cache[path] = _read(converted(path))
        model, tokenizer = _cache[path]
    return BaseModel(copy.deepcopy(model), tokenizer)


def converted(path: Path) -> Path:
    """The folder of ``path`` converted to transformers' own format, made on first use."""
    stat = path.stat()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "lumina" / "trainer" / f"{path.stem}-{stat.st_size}-{stat.st_mtime_ns}"
    if not (folder / "config.json").exists():
        _convert(path, folder)
    return folder


def _convert(path: Path, folder: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, local_files_only=True,
                                                 dtype=torch.float32)
    partial = folder.with_name(f".{folder.name}.{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    # the weights are plain float32 now: kept without the note that they came from a GGUF quantisation
    config = model.config.to_dict()
    config.pop("quantization_config", None)
    (partial / "config.json").write_text(json.dumps(config, indent=2))
    save_model(model, str(partial / "model.safetensors"))
    tokenizer.save_pretrained(partial)
    try:
        partial.rename(folder)
    except OSError:  # another process converted it first
        shutil.rmtree(partial, ignore_errors=True)


def _read(folder: Path) -> tuple[Any, Any]:
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.float32)
    model.eval()
    return model, tokenizer
