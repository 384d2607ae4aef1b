"""A plugin's visible state: what it is, where it came from, and what last went wrong."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from lumina_core.plugins.discovery import PluginSource
from lumina_core.plugins.manifest import Manifest

if TYPE_CHECKING:
    from lumina_core.context import PluginContext


class PluginState(StrEnum):
    DISCOVERED = "discovered"  # found, manifest valid, not loaded yet
    INVALID = "invalid"  # manifest or code breaks the contract
    INCOMPATIBLE = "incompatible"  # a dependency or the host API version does not fit
    DISABLED = "disabled"  # switched off by the operator or LUMINA_LOAD_PLUGINS
    STARTED = "started"  # serving
    FAILED = "failed"  # raised or hung while importing or starting


#: States in which a plugin will not be tried again until something changes.
RESTING = frozenset({PluginState.INVALID, PluginState.DISABLED, PluginState.FAILED})


@dataclass
class PluginRecord:
    """Everything the host knows about one plugin; ``to_dict`` is what ``GET /plugins`` shows."""

    name: str
    source: PluginSource | None
    manifest: Manifest | None = None
    state: PluginState = PluginState.DISCOVERED
    error: str | None = None
    problems: list[str] = field(default_factory=list)
    plugin: Any = None
    context: PluginContext | None = None
    builtin: bool = False
    hook_errors: int = 0
    since: float = field(default_factory=time.time)

    def set_state(self, state: PluginState, error: str | None = None) -> None:
        self.state, self.error, self.since = state, error, time.time()

    def to_dict(self, *, detail: bool = False) -> dict[str, Any]:
        manifest = self.manifest
        data: dict[str, Any] = {
            "name": self.name,
            "version": str(manifest.version) if manifest else None,
            "description": manifest.description if manifest else "",
            "state": str(self.state),
            "error": self.error,
            "builtin": self.builtin,
            "permissions": sorted(manifest.permissions) if manifest else [],
            "endpoints": [f"{e.method} {e.path}" for e in manifest.endpoints] if manifest else [],
            "hook_errors": self.hook_errors,
            "origin": self.source.describe() if self.source else "lumina-core",
        }
        if detail:
            data["problems"] = list(self.problems)
            data["manifest"] = manifest.to_dict() if manifest else None
        return data
