"""Which plugins the operator switched off, kept across restarts in ``<data>/plugins.json``."""

from __future__ import annotations

import json
from pathlib import Path

from lumina_core.storage import write_atomically

STATE_FILE = "plugins.json"


class EnabledStore:
    """The persisted set of disabled plugins; every change is written atomically."""

    def __init__(self, data_dir: Path) -> None:
        self._path = data_dir / STATE_FILE

    def disabled(self) -> frozenset[str]:
        try:
            document = json.loads(self._path.read_text("utf-8"))
        except FileNotFoundError:
            return frozenset()
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"{self._path}: cannot be read ({exc}); fix or delete it") from None
        return frozenset(document.get("disabled", []))

    def set_enabled(self, name: str, enabled: bool) -> None:
        disabled = set(self.disabled())
        (disabled.discard if enabled else disabled.add)(name)
        write_atomically(self._path, json.dumps({"disabled": sorted(disabled)}, indent=2) + "\n")
