"""The service registry: named capabilities (``llm``, ``vectors``, ``events`` ...) and their owners.

Each service lives in its own sub-package with an interface, an embedded backend and a server
backend; the host's built-in plugins offer them through the ``register_services`` hook, exactly
as a third-party plugin would. Plugins reach them only through their context, which checks the
manifest's permissions first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lumina_core.errors import Conflict, ServiceUnavailable


@dataclass(frozen=True)
class _Entry:
    service: Any
    owner: str


class ServiceRegistry:
    """Named services with the plugin that owns each; an owner's services go when it stops."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def provide(self, name: str, service: Any, *, owner: str) -> Callable[[], None]:
        """Offer ``service`` as ``name``; return the function that withdraws it."""
        current = self._entries.get(name)
        if current is not None and current.owner != owner:
            raise Conflict(f"service '{name}' is already provided by '{current.owner}'")
        self._entries[name] = _Entry(service, owner)
        return lambda: self.withdraw(name, owner=owner)

    def withdraw(self, name: str, *, owner: str) -> None:
        entry = self._entries.get(name)
        if entry is not None and entry.owner == owner:
            del self._entries[name]

    def get(self, name: str) -> Any:
        entry = self._entries.get(name)
        if entry is None:
            raise ServiceUnavailable(
                f"service '{name}' is not available: the plugin that provides it is not running "
                f"(see GET /plugins)"
            )
        return entry.service

    def owner(self, name: str) -> str | None:
        entry = self._entries.get(name)
        return entry.owner if entry else None

    def names(self) -> list[str]:
        return sorted(self._entries)
