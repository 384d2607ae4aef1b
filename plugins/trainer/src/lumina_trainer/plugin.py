"""The trainer plugin's hooks: observe finished turns, run training tasks, serve the active adapter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter

from lumina_core.context import PluginContext
from lumina_core.contract import ChatTurn, EventHandler, HealthCheck
from lumina_core.hookspecs import hookimpl
from lumina_trainer.trainer import TASK_KIND, Trainer
from lumina_trainer.training import unavailable_reason

_running: dict[PluginContext, Trainer] = {}


@hookimpl
async def startup(ctx: PluginContext) -> None:
    trainer = Trainer.open(ctx)
    _running[ctx] = trainer
    ctx.on_stop(trainer.close)
    ctx.on_stop(lambda: _running.pop(ctx, None))
    await trainer.serve_active()


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    from lumina_trainer.routes import build_router

    return build_router(ctx, _running[ctx])


@hookimpl
async def after_chat_turn(ctx: PluginContext, turn: ChatTurn) -> None:
    await _running[ctx].observe(turn)


@hookimpl
def register_task_handlers(ctx: PluginContext) -> Mapping[str, Any]:
    async def train(task: Mapping[str, Any], job: Any) -> dict[str, Any]:
        """Train one run; a re-delivered task (its worker died) resumes from the run's checkpoint."""
        return await _running[ctx].execute(str(task[TASK_KIND]), job)

    return {TASK_KIND: train}


@hookimpl
def register_event_handlers(ctx: PluginContext) -> Mapping[str, EventHandler]:
    async def adapter_updated(event: Mapping[str, Any]) -> None:
        """Another process (a worker that finished a run, say) changed the active adapter."""
        await _running[ctx].serve_active()

    async def wiki_answered(event: Mapping[str, Any]) -> None:
        await _running[ctx].wiki_answered(event.get("payload", {}))

    return {"adapter.updated": adapter_updated, "knowledge.answered": wiki_answered}


@hookimpl
def health_check(ctx: PluginContext) -> HealthCheck:
    reason = unavailable_reason()
    if reason:
        return HealthCheck("trainer", "degraded", detail=reason)
    active = _running[ctx].adapters.active()
    return HealthCheck("trainer", "ok", detail=f"training available; active adapter: {active or 'none'}")
