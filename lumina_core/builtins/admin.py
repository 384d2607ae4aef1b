"""Plugin administration (``/plugins``): list, inspect, enable, disable and reload plugins.

The host's own feature, built on the same ``register_routes`` hook every plugin uses.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from lumina_core.api.lists import Page
from lumina_core.auth import current_user, require_admin
from lumina_core.context import PluginContext
from lumina_core.hookspecs import hookimpl


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    kernel = ctx.kernel
    router = APIRouter(prefix="/plugins", tags=["plugins"], dependencies=[Depends(current_user)])
    admin_only = [Depends(require_admin)]

    @router.get("", summary="List plugins with their state, permissions and endpoints")
    async def list_plugins(
        page: Page = Depends(), builtins: bool = Query(False, description="Include lumina-core's own modules.")
    ) -> dict[str, Any]:
        return page.of([r.to_dict() for r in kernel.public_records(include_builtins=builtins)])

    @router.get("/{name}", summary="One plugin, with its manifest and problems")
    async def show_plugin(name: str) -> dict[str, Any]:
        return kernel.get(name).to_dict(detail=True)

    @router.post("/{name}/enable", dependencies=admin_only, summary="Switch a plugin on (kept across restarts)")
    async def enable_plugin(name: str) -> dict[str, Any]:
        return (await kernel.enable(name)).to_dict(detail=True)

    @router.post("/{name}/disable", dependencies=admin_only, summary="Switch a plugin off (kept across restarts)")
    async def disable_plugin(name: str) -> dict[str, Any]:
        return (await kernel.disable(name)).to_dict(detail=True)

    @router.post("/{name}/reload", dependencies=admin_only, summary="Re-import a plugin in place, keeping the old one on failure")
    async def reload_plugin(name: str) -> dict[str, Any]:
        return (await kernel.reload(name)).to_dict(detail=True)

    return router
