"""Serving an adapter: the embedded llama.cpp model loads it at run time, no restart.

Providers that can (the embedded one: ``set_adapter``) take the GGUF LoRA file; servers such as
Ollama cannot be changed from here, and serve an adapter through the ``Modelfile`` written
beside each version (``ollama create NAME -f Modelfile``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


async def serve(llm: Any, path: Path | None, name: str | None) -> int:
    """Give every provider that can load one the adapter at ``path`` (``None``: none); how many did."""
    served = 0
    for provider in llm.providers:
        set_adapter = getattr(provider, "set_adapter", None)
        if set_adapter is not None:
            await set_adapter(path, name=name)
            served += 1
    return served
