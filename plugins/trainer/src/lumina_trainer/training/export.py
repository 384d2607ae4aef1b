"""A PEFT LoRA adapter as a GGUF LoRA file that llama.cpp loads beside the base model.

The layout is the one of llama.cpp's ``convert_lora_to_gguf.py``: ``general.type = adapter``,
``adapter.type = lora``, ``adapter.lora.alpha``, and for every adapted weight two tensors named
after the base model's GGUF tensor with ``.lora_a`` (rank × in) and ``.lora_b`` (out × rank).
llama.cpp stores Llama's q and k projections with their rows permuted for its rotary embedding
(transformers undoes this when it reads a GGUF), so the ``lora_b`` of those is permuted the same way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import gguf
import numpy as np
from peft import get_peft_model_state_dict

_LORA = re.compile(r"^(?:base_model\.model\.)?(?P<base>.+)\.lora_(?P<part>[AB])\.weight$")


def write_gguf_lora(model: Any, path: Path) -> int:
    """Write ``model``'s LoRA adapter (a PEFT model) to ``path``; the number of adapted weights."""
    config = model.base_model.model.config
    lora = model.peft_config["default"]
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for name, tensor in get_peft_model_state_dict(model).items():
        match = _LORA.match(name)
        if match is None:
            raise ValueError(f"unexpected tensor '{name}' in the adapter: only lora_A and lora_B weights are exported")
        pairs.setdefault(match["base"], {})[match["part"]] = tensor.detach().float().numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    writer = gguf.GGUFWriter(str(temporary), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(lora.lora_alpha))
    for base, parts in sorted(pairs.items()):
        target = names.get_name(base + ".weight", try_suffixes=(".weight",))
        if target is None:
            raise ValueError(f"the adapted weight '{base}' has no GGUF name in llama.cpp's Llama layout")
        writer.add_tensor(target + ".lora_a", np.ascontiguousarray(parts["A"]))
        writer.add_tensor(target + ".lora_b", np.ascontiguousarray(_as_llama_rows(base, parts["B"], config)))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    temporary.replace(path)
    return len(pairs)


def _as_llama_rows(base: str, lora_b: np.ndarray, config: Any) -> np.ndarray:
    """llama.cpp's row order for the q and k projections (convert_hf_to_gguf's ``permute``)."""
    if base.endswith("q_proj"):
        heads = config.num_attention_heads
    elif base.endswith("k_proj"):
        heads = config.num_key_value_heads
    else:
        return lora_b
    rows = lora_b.shape[0]
    return lora_b.reshape(heads, 2, rows // heads // 2, *lora_b.shape[1:]).swapaxes(1, 2).reshape(lora_b.shape)
