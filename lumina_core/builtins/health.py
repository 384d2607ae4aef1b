"""Health (``/health``): every plugin's state and every ``health_check`` hook, in one answer."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from starlette.responses import JSONResponse

from lumina_core.context import PluginContext
from lumina_core.contract import HealthCheck
from lumina_core.hookspecs import hookimpl
from lumina_core.plugins.records import PluginState
from lumina_core.version import __version__

_RANK = {"ok": 0, "degraded": 1, "down": 2}
_STARTED_AT = time.time()


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    kernel = ctx.kernel
    router = APIRouter(tags=["health"])

    @router.get("/health", summary="Overall status with each part's status and latency")
    async def health() -> JSONResponse:
        checks = [_plugin_check(r) for r in kernel.public_records()]
        for outcome in await kernel.call_each("health_check"):
            value = outcome.value
            checks.extend([value] if isinstance(value, HealthCheck) else list(value or []))
        status = max((c.status for c in checks), key=_RANK.__getitem__, default="ok")
        body: dict[str, Any] = {
            "status": status,
            "version": __version__,
            "uptime_s": round(time.time() - _STARTED_AT, 1),
            "checks": [c.__dict__ for c in checks],
        }
        return JSONResponse(body, status_code=503 if status == "down" else 200)

    return router


def _plugin_check(record: Any) -> HealthCheck:
    if record.state is PluginState.STARTED:
        return HealthCheck(f"plugin:{record.name}", "ok")
    if record.state is PluginState.DISABLED:
        return HealthCheck(f"plugin:{record.name}", "ok", detail="disabled")
    return HealthCheck(f"plugin:{record.name}", "degraded", detail=f"{record.state}: {record.error}")
