"""Health (``/health``): every dependency and plugin with status and latency, in one answer.

``/health`` is the whole picture (``ok``, ``degraded`` or ``down``); ``/health/live`` only says
the process answers (for restarts); ``/health/ready`` says it can take traffic (for load
balancers). A dependency that is away (Redis, say) makes the host ``degraded``, not down: it
keeps serving what it can and recovers by itself when the dependency returns.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from starlette.responses import JSONResponse

from lumina_core.context import PluginContext
from lumina_core.contract import HealthCheck
from lumina_core.hookspecs import hookimpl
from lumina_core.kernel import Kernel
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
        checks = await _checks(kernel)
        status = _overall(checks)
        body: dict[str, Any] = {
            "status": status,
            "version": __version__,
            "uptime_s": round(time.time() - _STARTED_AT, 1),
            "checks": [c.__dict__ for c in checks],
        }
        return JSONResponse(body, status_code=503 if status == "down" else 200)

    @router.get("/health/live", summary="The process answers (restart it when this fails)")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready", summary="The host can take traffic: started and not down")
    async def ready() -> JSONResponse:
        status = _overall(await _checks(kernel)) if kernel.started else "down"
        return JSONResponse({"status": status, "started": kernel.started}, status_code=503 if status == "down" else 200)

    return router


async def _checks(kernel: Kernel) -> list[HealthCheck]:
    """Each plugin's state, then what every ``health_check`` hook reports (with its latency)."""
    checks = [_plugin_check(r) for r in kernel.public_records()]
    for outcome in await kernel.call_each("health_check"):
        value = outcome.value
        checks.extend([value] if isinstance(value, HealthCheck) else list(value or []))
    return checks


def _overall(checks: list[HealthCheck]) -> str:
    return max((c.status for c in checks), key=_RANK.__getitem__, default="ok")


def _plugin_check(record: Any) -> HealthCheck:
    if record.state is PluginState.STARTED:
        return HealthCheck(f"plugin:{record.name}", "ok")
    if record.state is PluginState.DISABLED:
        return HealthCheck(f"plugin:{record.name}", "ok", detail="disabled")
    return HealthCheck(f"plugin:{record.name}", "degraded", detail=f"{record.state}: {record.error}")


