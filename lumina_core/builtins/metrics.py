"""Metrics: ``GET /metrics`` (Prometheus text) and ``GET /metrics/summary`` (the same, as JSON).

Every area defines its own ``lumina_*`` metrics in its own module; this serves the default
registry. Per-plugin state, hook errors and hook latency come from the kernel's listeners.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import defaultdict
from typing import Any

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from starlette.responses import Response

from lumina_core.context import PluginContext
from lumina_core.errors import LuminaError
from lumina_core.hookspecs import hookimpl
from lumina_core.kernel import Kernel
from lumina_core.plugins.records import PluginRecord, PluginState
from lumina_core.services.bus.store import query as query_events

PLUGIN_STATE = Gauge("lumina_plugin_state", "1 for each plugin's current state, 0 for the others.", ["plugin", "state"])
HOOK_ERRORS = Counter("lumina_plugin_hook_errors_total", "Hook calls that raised or timed out.", ["plugin", "hook"])
HOOK_SECONDS = Histogram(
    "lumina_plugin_hook_duration_seconds",
    "Time of each hook call, by plugin and hook.",
    ["plugin", "hook"],
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10),
)
NODE_GROWTH_SQL = (
    "SELECT strftime('%Y-%m-%dT%H:00Z', ts) AS hour, count(*) AS nodes FROM events "
    "WHERE type = 'graph.node_added' AND ts >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-24 hours') "
    "GROUP BY hour ORDER BY hour"
)


@hookimpl
async def startup(ctx: PluginContext) -> None:
    kernel = ctx.kernel
    for record in kernel.records.values():
        _note_state(record, "start")
    kernel.state_listeners.append(_note_state)
    kernel.call_listeners.append(_note_call)
    ctx.on_stop(lambda: kernel.state_listeners.remove(_note_state))
    ctx.on_stop(lambda: kernel.call_listeners.remove(_note_call))


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    kernel = ctx.kernel
    router = APIRouter(prefix="/metrics", tags=["metrics"])

    @router.get("", summary="Every metric in Prometheus text format", response_class=Response)
    async def metrics() -> Response:
        await _refresh(kernel)
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @router.get("/summary", summary="The same metrics as JSON, with totals and node growth")
    async def summary() -> dict[str, Any]:
        await _refresh(kernel)
        return {
            "totals": _totals(),
            "plugins": {
                r.name: {"state": str(r.state), "hook_errors": r.hook_errors} for r in kernel.public_records()
            },
            "node_growth": await asyncio.to_thread(_node_growth, kernel),
            "metrics": _families(),
        }

    return router


def _note_state(record: PluginRecord, _action: str) -> None:
    for state in PluginState:
        PLUGIN_STATE.labels(record.name, str(state)).set(1 if record.state is state else 0)


def _note_call(plugin: str, hook: str, seconds: float, error: BaseException | None) -> None:
    HOOK_SECONDS.labels(plugin, hook).observe(seconds)
    if error is not None:
        HOOK_ERRORS.labels(plugin, hook).inc()


async def _refresh(kernel: Kernel) -> None:
    """Gauges that are read from elsewhere (the queue depth lives in Redis when it is shared)."""
    with contextlib.suppress(LuminaError, OSError, asyncio.TimeoutError, ConnectionError):
        await asyncio.wait_for(kernel.services.get("tasks").depth(), 1.0)


def _families() -> dict[str, Any]:
    families: dict[str, Any] = {}
    for family in REGISTRY.collect():
        if family.name.startswith("lumina_"):
            families[family.name] = {
                "type": family.type,
                "help": family.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples],
            }
    return families


def _totals() -> dict[str, float]:
    """One number per metric: counters and gauges summed over labels, histograms as counts."""
    totals: dict[str, float] = defaultdict(float)
    for family in REGISTRY.collect():
        if not family.name.startswith("lumina_"):
            continue
        for sample in family.samples:
            if sample.name.endswith(("_total", "_count")) or (family.type == "gauge" and sample.name == family.name):
                totals[sample.name] += sample.value
    return dict(totals)


def _node_growth(kernel: Kernel) -> list[dict[str, Any]]:
    try:
        _columns, rows = query_events(kernel.settings.data_dir, NODE_GROWTH_SQL)
    except (LuminaError, sqlite3.Error):
        return []
    return [{"hour": hour, "nodes": nodes} for hour, nodes in rows]
