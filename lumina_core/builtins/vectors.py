"""The ``vectors`` service: Qdrant Edge under the data folder, or a Qdrant server (``QDRANT_URL``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from lumina_core.context import PluginContext
from lumina_core.contract import HealthCheck
from lumina_core.hookspecs import hookimpl
from lumina_core.services.vectors import open_vector_store

log = logging.getLogger("lumina.vectors")


@hookimpl
def register_services(ctx: PluginContext) -> Mapping[str, Any]:
    store = open_vector_store(ctx.kernel.settings)
    ctx.on_stop(store.close)
    log.info("vector store: %s", store.describe())
    return {"vectors": store}


@hookimpl
async def health_check(ctx: PluginContext) -> HealthCheck:
    store = ctx.kernel.services.get("vectors")
    started = time.perf_counter()
    await store.collections()
    elapsed = (time.perf_counter() - started) * 1000
    return HealthCheck("vectors", "ok", latency_ms=round(elapsed, 2), detail=store.backend)
