"""The ``events`` service and its live feeds: ``GET /events`` (SSE) and the ``/stream`` WebSocket.

Binds ``register_event_handlers`` (each plugin's handlers are its own and go when it stops),
publishes ``plugin.state_changed`` for every lifecycle change and ``chat.turn_completed`` after
every chat turn (counts and timings only, never the text).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import APIRouter, Depends, Query, WebSocket, WebSocketDisconnect, status
from sse_starlette import EventSourceResponse, ServerSentEvent

from lumina_core.auth import current_user, require_admin
from lumina_core.context import PluginContext
from lumina_core.contract import ChatTurn, EventHandler, HealthCheck
from lumina_core.errors import LuminaError
from lumina_core.hookspecs import hookimpl
from lumina_core.plugins.records import PluginRecord
from lumina_core.services.bus import EventBus, build_bus
from lumina_core.services.bus.events import check_pattern

log = logging.getLogger("lumina.events")

SOURCE = "core"
HEARTBEAT_S = 15
_TYPE_QUERY = Query(None, description="Event types to receive, with * wildcards; repeat or comma-separate.")


@hookimpl
def register_services(ctx: PluginContext) -> Mapping[str, Any]:
    return {"events": build_bus(ctx.kernel.settings)}


@hookimpl
async def startup(ctx: PluginContext) -> None:
    kernel = ctx.kernel
    bus: EventBus = kernel.services.get("events")
    await bus.start()
    ctx.on_stop(bus.close)
    kernel.add_binder("register_event_handlers", lambda plugin, handlers: _bind_handlers(bus, plugin, handlers))
    publisher = _StatePublisher(bus)
    kernel.state_listeners.append(publisher)
    ctx.on_stop(lambda: kernel.state_listeners.remove(publisher))
    ctx.on_stop(publisher.drain)


@hookimpl
async def after_chat_turn(ctx: PluginContext, turn: ChatTurn) -> None:
    await _bus(ctx).publish(
        "chat.turn_completed",
        {
            "turn_id": turn.turn_id,
            "user_id": turn.request.user_id,
            "brain_id": turn.request.brain_id,
            "model": turn.model,
            "prompt_tokens": turn.usage.prompt_tokens,
            "completion_tokens": turn.usage.completion_tokens,
            "total_tokens": turn.usage.total_tokens,
            "latency_ms": round(turn.latency_ms, 1),
        },
        source=SOURCE,
    )


@hookimpl
async def health_check(ctx: PluginContext) -> HealthCheck:
    bus = _bus(ctx)
    name = "redis" if bus.backend.name == "redis" else "events"
    try:
        latency = await asyncio.wait_for(bus.ping(), 2.0)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the backend is the report
        return HealthCheck(name, "degraded", detail=f"event bus cannot reach {name}: {exc or type(exc).__name__}")
    return HealthCheck(name, "ok", latency_ms=round(latency, 2), detail=f"event bus on {bus.backend.name}")


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    router = APIRouter(tags=["events"])

    # Events are host-wide (they name other users), so the live feed is an operator's view.
    @router.get("/events", summary="Live events as Server-Sent Events, filtered by type (admin)",
                dependencies=[Depends(require_admin)])
    async def events_feed(type: list[str] | None = _TYPE_QUERY) -> EventSourceResponse:  # noqa: A002
        patterns = _patterns(type)

        async def feed() -> AsyncIterator[ServerSentEvent]:
            async with _bus(ctx).listen(patterns) as queue:
                yield ServerSentEvent(comment="listening")
                while True:
                    event = await queue.get()
                    yield ServerSentEvent(json.dumps(event), event=event["type"], id=event["id"])

        return EventSourceResponse(feed(), ping=HEARTBEAT_S)

    @router.websocket("/stream")
    async def events_socket(websocket: WebSocket, type: list[str] | None = _TYPE_QUERY) -> None:  # noqa: A002
        patterns = _patterns(type)
        try:
            await require_admin(await current_user(websocket))
        except LuminaError as refused:  # accepted first, so the client reads the reason
            await websocket.accept()
            await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=refused.message[:120])
            return
        async with _bus(ctx).listen(patterns) as queue:
            await websocket.accept()
            closed = asyncio.ensure_future(_until_closed(websocket))
            try:
                while not closed.done():
                    getting = asyncio.ensure_future(queue.get())
                    await asyncio.wait({getting, closed}, return_when=asyncio.FIRST_COMPLETED)
                    if not getting.done():
                        getting.cancel()
                        break
                    await websocket.send_json(stream_message(getting.result()))
            finally:
                closed.cancel()

    return router


#: Names the seeds' browser clients know some events by, sent along as ``seed_type``.
SEED_TYPES = {"graph.node_added": "GRAPH_ADD"}


def stream_message(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event as sent on ``/stream``: unchanged, plus the seeds' name where it has one."""
    seed = SEED_TYPES.get(event["type"])
    return {**event, "seed_type": seed} if seed else dict(event)


def _bus(ctx: PluginContext) -> EventBus:
    return ctx.kernel.services.get("events")


def _patterns(given: list[str] | None) -> tuple[str, ...]:
    patterns = tuple(check_pattern(p.strip()) for item in given or [] for p in item.split(",") if p.strip())
    return patterns or ("*",)


async def _until_closed(websocket: WebSocket) -> None:
    try:
        while True:
            await websocket.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        return


def _bind_handlers(bus: EventBus, plugin: PluginContext, handlers: Mapping[str, EventHandler]) -> None:
    for pattern, handler in handlers.items():
        plugin.on_stop(bus.subscribe(pattern, handler, owner=plugin.name))


class _StatePublisher:
    """A kernel state listener: every lifecycle change becomes a ``plugin.state_changed`` event."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._sending: set[asyncio.Task[Any]] = set()

    def __call__(self, record: PluginRecord, action: str) -> None:
        payload = {
            "plugin": record.name,
            "action": action,
            "state": str(record.state),
            "error": record.error,
            "builtin": record.builtin,
            "at": round(time.time(), 3),
        }
        task = asyncio.get_running_loop().create_task(self._send(payload))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, payload: dict[str, Any]) -> None:
        try:
            await self._bus.publish("plugin.state_changed", payload, source=SOURCE)
        except Exception as exc:  # noqa: BLE001 - an outage must not break the lifecycle
            log.warning("could not publish plugin.state_changed: %s", exc)

    async def drain(self) -> None:
        if self._sending:
            await asyncio.wait(self._sending, timeout=2.0)
