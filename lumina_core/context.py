"""PluginContext: what one plugin may reach, and nothing more.

Every hook receives the plugin's own context. A capability is handed out only when the manifest
lists its permission; otherwise :class:`~lumina_core.errors.PermissionDenied` names the plugin
and the missing permission. Everything a plugin registers through its context is undone when
the plugin stops, so a reload leaves nothing behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lumina_core.errors import LuminaError, PermissionDenied
from lumina_core.plugins.manifest import Manifest

if TYPE_CHECKING:
    from fastapi import APIRouter

    from lumina_core.kernel import Kernel


@dataclass(frozen=True)
class Grant:
    """Which permission each attribute of a core service needs (``default`` for the rest)."""

    default: str | None
    methods: Mapping[str, str] = field(default_factory=dict)

    def permission_for(self, attribute: str) -> str | None:
        return self.methods.get(attribute, self.default)

    def all_permissions(self) -> set[str]:
        return {p for p in (self.default, *self.methods.values()) if p}


_READ_VECTORS, _WRITE_VECTORS = "read:vector_store", "write:vector_store"

#: How the core services map onto permissions.
CORE_GRANTS: Mapping[str, Grant] = {
    "llm": Grant("llm:generate"),
    "chat": Grant("llm:generate"),
    "embedder": Grant("embed:text"),
    "vectors": Grant(
        _READ_VECTORS,
        {m: _WRITE_VECTORS for m in ("upsert", "delete", "delete_where", "create_collection", "drop_collection", "optimize")},
    ),
    "events": Grant("events:publish", {"subscribe": "events:subscribe"}),
    "tasks": Grant("tasks:submit"),
    "http": Grant("net:http"),
    "kv": Grant("kv:cache"),
    "users": Grant("auth:users"),
}


class _Guarded:
    """A core service seen through a plugin's permissions."""

    __slots__ = ("_target", "_plugin", "_grant", "_granted", "_service")

    def __init__(self, target: Any, plugin: str, service: str, grant: Grant, granted: frozenset[str]):
        self._target, self._plugin, self._service = target, plugin, service
        self._grant, self._granted = grant, granted

    def __getattr__(self, attribute: str) -> Any:
        permission = self._grant.permission_for(attribute)
        if permission and permission not in self._granted:
            raise PermissionDenied(self._plugin, permission, purpose=f"use {self._service}.{attribute}")
        return getattr(self._target, attribute)

    def __repr__(self) -> str:
        return f"<{self._service} for plugin {self._plugin!r}>"


class PluginContext:
    """The capabilities one plugin's manifest grants, plus its config, logger and data folder."""

    def __init__(
        self,
        kernel: Kernel,
        manifest: Manifest,
        config: Mapping[str, Any],
        *,
        trusted: bool = False,
    ) -> None:
        self.name = manifest.name
        self.manifest = manifest
        self.config = config
        self.logger = logging.getLogger(f"lumina.plugin.{self.name}")
        self._kernel = kernel
        self._trusted = trusted
        self._teardowns: list[Callable[[], Any]] = []

    # --- permissions -----------------------------------------------------------------------

    def has(self, permission: str) -> bool:
        return self._trusted or permission in self.manifest.permissions

    def require(self, permission: str, *, purpose: str = "") -> None:
        """Raise :class:`PermissionDenied` unless the manifest grants ``permission``."""
        if not self.has(permission):
            raise PermissionDenied(self.name, permission, purpose=purpose)

    # --- capabilities ----------------------------------------------------------------------

    @property
    def llm(self) -> Any:
        return self._core_service("llm")

    @property
    def embedder(self) -> Any:
        return self._core_service("embedder")

    @property
    def vectors(self) -> Any:
        return self._core_service("vectors")

    @property
    def events(self) -> Any:
        return self._core_service("events")

    @property
    def tasks(self) -> Any:
        return self._core_service("tasks")

    @property
    def http(self) -> Any:
        return self._core_service("http")

    @property
    def kv(self) -> Any:
        return self._core_service("kv")

    async def publish(self, event_type: str, payload: Mapping[str, Any]) -> None:
        """Publish an event as this plugin (``events:publish``). Events inform, so a bus that is
        away is logged here rather than failing the work that caused the event."""
        self.require("events:publish", purpose=f"publish {event_type}")
        try:
            await self.events.publish(event_type, payload, source=self.name)
        except LuminaError as exc:
            self.logger.warning("could not publish %s: %s", event_type, exc.message)

    def service(self, name: str) -> Any:
        """A service by name: a core one by its own permission, another plugin's by ``service:<name>``."""
        if name in CORE_GRANTS:
            return self._core_service(name)
        self.require(f"service:{name}", purpose=f"use the '{name}' service")
        return self._kernel.services.get(name)

    def _core_service(self, name: str) -> Any:
        grant = CORE_GRANTS[name]
        if not self._trusted and not grant.all_permissions() & self.manifest.permissions:
            raise PermissionDenied(self.name, grant.default or min(grant.all_permissions()), purpose=f"use {name}")
        service = self._kernel.services.get(name)
        if self._trusted:
            return service
        return _Guarded(service, self.name, name, grant, self.manifest.permissions)

    def plugin_manifests(self) -> list[Manifest]:
        """The manifests of the plugins serving now. What a manifest declares is public (``GET
        /plugins`` shows it to every user), so any plugin may read them: router-tools offers the
        endpoints they mark as tools (``tool:``)."""
        from lumina_core.plugins.records import PluginState

        return [r.manifest for r in self._kernel.public_records() if r.state == PluginState.STARTED and r.manifest]

    @property
    def kernel(self) -> Kernel:
        """The kernel itself: only for the host's own built-in plugins."""
        if not self._trusted:
            raise PermissionDenied(self.name, "core", purpose="reach the kernel directly")
        return self._kernel

    # --- routes, storage, lifecycle --------------------------------------------------------

    def router(self, **options: Any) -> APIRouter:
        """An APIRouter under the plugin's prefix: every route authenticates its caller (see
        :mod:`lumina_core.auth`) and its unexpected errors are attributed to this plugin."""
        from fastapi import APIRouter

        from lumina_core.api.routes import plugin_route_class
        from lumina_core.auth import authenticate_once

        authenticate = partial(authenticate_once, services=self._kernel.services)
        route_class = plugin_route_class(self.name, self._kernel.record_route_error, authenticate)
        return APIRouter(prefix=self.manifest.prefix, route_class=route_class, **options)

    @cached_property
    def data_dir(self) -> Path:
        """The plugin's own folder inside the data folder, created on first use."""
        folder = self._kernel.settings.data_dir / "plugins" / self.name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def on_stop(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` when the plugin stops (last registered, first run)."""
        self._teardowns.append(callback)

    def take_teardowns(self) -> list[Callable[[], Any]]:
        teardowns, self._teardowns = self._teardowns[::-1], []
        return teardowns
