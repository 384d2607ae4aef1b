"""LoRA training on the CPU: the optional extra ``lumina-trainer[train]`` (torch, transformers,
peft, gguf).

Nothing here imports those libraries at import time: the plugin starts, and reports itself
``degraded`` with the install command, on a host that never installed the extra. The modules of
this package import them when a run starts.
"""

from __future__ import annotations

import importlib.util

#: What the extra brings, by import name.
TRAIN_MODULES = ("torch", "transformers", "peft", "gguf")
INSTALL_COMMAND = 'pip install "lumina-trainer[train]"'


def missing_modules() -> list[str]:
    """The extra's modules this interpreter cannot import (found without importing them)."""
    return [name for name in TRAIN_MODULES if importlib.util.find_spec(name) is None]


def unavailable_reason() -> str | None:
    """Why training cannot run here, with the command that fixes it; None when it can."""
    missing = missing_modules()
    if not missing:
        return None
    return (f"training needs the optional extra ({', '.join(missing)} missing): run `{INSTALL_COMMAND}` "
            '(in a checkout: `pip install -e "plugins/trainer[train]"`), then restart Lumina')
