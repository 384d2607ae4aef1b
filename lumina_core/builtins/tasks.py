"""The ``tasks`` service and ``/tasks``: submit background work (202 + Location), follow it.

Binds ``register_task_handlers`` and ``register_periodic_jobs``: each plugin's handlers and jobs
are its own and go when it stops. This process runs ``LUMINA_TASK_WORKERS`` workers; with Redis,
``lumina worker`` processes on any machine share the same queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import APIRouter, Body, Depends, Query
from starlette.responses import JSONResponse

from lumina_core.api.lists import Page
from lumina_core.auth import User, current_user
from lumina_core.context import PluginContext
from lumina_core.contract import HealthCheck, PeriodicJob, TaskHandler
from lumina_core.errors import NotFound
from lumina_core.hookspecs import hookimpl
from lumina_core.services.tasks import STATES, TaskQueue, build_queue

SOURCE = "core"


@hookimpl
def register_services(ctx: PluginContext) -> Mapping[str, Any]:
    kernel = ctx.kernel

    async def announce(event_type: str, payload: Mapping[str, Any]) -> None:
        await kernel.services.get("events").publish(event_type, payload, source=SOURCE)

    return {"tasks": build_queue(kernel.settings, announce)}


@hookimpl
async def startup(ctx: PluginContext) -> None:
    kernel = ctx.kernel
    queue: TaskQueue = kernel.services.get("tasks")
    ctx.on_stop(queue.close)
    kernel.add_binder("register_task_handlers", lambda plugin, handlers: _bind_handlers(queue, plugin, handlers))
    kernel.add_binder("register_periodic_jobs", lambda plugin, jobs: _bind_jobs(queue, plugin, jobs))
    queue.start_workers(kernel.settings.task_workers)


@hookimpl
async def health_check(ctx: PluginContext) -> HealthCheck:
    queue = _queue(ctx)
    try:
        depth = await asyncio.wait_for(queue.depth(), 2.0)
    except Exception as exc:  # noqa: BLE001 - the report is the failure
        return HealthCheck("scheduler", "degraded", detail=f"task queue on {queue.backend.name} unreachable: {exc or type(exc).__name__}")
    workers = ctx.kernel.settings.task_workers
    detail = f"{depth} queued on {queue.backend.name}, {workers} workers here"
    return HealthCheck("scheduler", "ok", detail=detail)


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    router = APIRouter(prefix="/tasks", tags=["tasks"])

    @router.post("", status_code=202, summary="Queue a task; its first key names its kind")
    async def submit_task(
        task: dict[str, Any] = Body(..., examples=[{"crawl": ["Mandelbrot set"], "hops": 1, "max_nodes": 30}]),
        user: User = Depends(current_user),
    ) -> JSONResponse:
        queue = _queue(ctx)
        task_id = await queue.submit(task, owner=f"user:{user.id}", user_id=user.id)
        record = await queue.get(task_id)
        return JSONResponse(record, status_code=202, headers={"Location": f"/tasks/{task_id}"})

    @router.get("/{task_id}", summary="A task's state, progress, result and error")
    async def show_task(task_id: str, user: User = Depends(current_user)) -> dict[str, Any]:
        record = await _queue(ctx).get(task_id)
        if record is None or not _visible(record, user):
            raise NotFound(f"no task '{task_id}' (finished tasks are kept for 7 days)")
        return record

    @router.get("", summary="Recent tasks, newest first")
    async def list_tasks(
        page: Page = Depends(),
        state: str | None = Query(None, description=f"Only tasks in this state: {', '.join(STATES)}."),
        user: User = Depends(current_user),
    ) -> dict[str, Any]:
        records = await _queue(ctx).recent(page.offset, page.limit + 1)
        more = len(records) > page.limit
        items = [r for r in records[: page.limit] if _visible(r, user) and (state is None or r["state"] == state)]
        return {"items": items, "next_cursor": str(page.offset + page.limit) if more else None}

    return router


def _queue(ctx: PluginContext) -> TaskQueue:
    return ctx.kernel.services.get("tasks")


def _visible(record: Mapping[str, Any], user: User) -> bool:
    return user.is_admin or record.get("user_id") in (None, user.id)


def _bind_handlers(queue: TaskQueue, plugin: PluginContext, handlers: Mapping[str, TaskHandler]) -> None:
    for kind, handler in handlers.items():
        plugin.on_stop(queue.handle(kind, handler, owner=plugin.name))


def _bind_jobs(queue: TaskQueue, plugin: PluginContext, jobs: Iterable[PeriodicJob]) -> None:
    for job in jobs:
        plugin.on_stop(queue.schedule(job, owner=plugin.name))
