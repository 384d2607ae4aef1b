"""The ``events`` service: publish, durable subscriptions, and live listening, on either backend."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol

from prometheus_client import Counter, Gauge

from lumina_core.services.bus.events import Event, check_pattern, encode, make_event, matches
from lumina_core.services.bus.store import EventStore

log = logging.getLogger("lumina.events")

PUBLISHED = Counter("lumina_events_published_total", "Events published, by type.", ["type"])
CONSUMED = Counter("lumina_events_consumed_total", "Events handled by subscribers, by owner.", ["owner"])
HANDLER_ERRORS = Counter(
    "lumina_event_handler_errors_total", "Event handlers that raised or timed out, by owner.", ["owner"]
)
DROPPED = Counter("lumina_events_dropped_total", "Live events dropped for a listener too slow to keep up.")
LISTENERS = Gauge("lumina_event_listeners", "Live listeners (SSE and WebSocket clients) in this process.")

EventHandler = Callable[[Mapping[str, Any]], Awaitable[None]]
LIVE_QUEUE_SIZE = 1000


class Backend(Protocol):
    name: str

    async def start(self, live: Callable[[Event], None]) -> None: ...
    async def append(self, event: Event, body: str) -> None: ...
    def consume(self, pattern: str, group: str, handle: Callable[[Event], Awaitable[None]]) -> asyncio.Task[None]: ...
    async def ping(self) -> None: ...
    async def close(self) -> None: ...


class EventBus:
    """What plugins see as ``ctx.events``; the backend (memory or Redis) is chosen by settings."""

    def __init__(self, backend: Backend, store: EventStore | None = None, *, handler_timeout: float = 5.0) -> None:
        self.backend = backend
        self.store = store
        self._handler_timeout = handler_timeout
        self._listeners: list[tuple[tuple[str, ...], asyncio.Queue[Event]]] = []
        self._subscriptions: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.backend.start(self._deliver_live)

    async def close(self) -> None:
        for task in list(self._subscriptions):
            task.cancel()
        await asyncio.gather(*self._subscriptions, return_exceptions=True)
        await self.backend.close()
        if self.store is not None:
            await self.store.close()

    async def publish(self, type: str, payload: Mapping[str, Any], *, source: str, v: int = 1) -> str:  # noqa: A002
        """Publish an event; return its id. Subscribers and live clients get it asynchronously."""
        event = make_event(type, payload, source=source, v=v)
        body, payload_json = encode(event)
        await self.backend.append(event, body)
        if self.store is not None:
            self.store.record(event, payload_json)
        PUBLISHED.labels(type).inc()
        return event["id"]

    def subscribe(self, pattern: str, handler: EventHandler, *, owner: str) -> Callable[[], None]:
        """Run ``handler`` for each event matching ``pattern``; return the function that stops it.

        The subscription is durable per owner and pattern: with Redis, one process of many runs
        the handler for each event, and events published while none was running wait for one.
        """
        check_pattern(pattern)
        group = f"{owner}:{pattern}"

        async def handle(event: Event) -> None:
            try:
                await asyncio.wait_for(handler(event), self._handler_timeout)
            except Exception as exc:  # noqa: BLE001 - a handler's failure is its owner's
                HANDLER_ERRORS.labels(owner).inc()
                logging.getLogger(f"lumina.plugin.{owner}").warning(
                    "event handler for %s failed on %s %s: %s", pattern, event["type"], event["id"], exc or type(exc).__name__
                )
            else:
                CONSUMED.labels(owner).inc()

        task = self.backend.consume(pattern, group, handle)
        self._subscriptions.add(task)
        task.add_done_callback(self._subscriptions.discard)
        return task.cancel  # type: ignore[return-value]

    @asynccontextmanager
    async def listen(self, patterns: tuple[str, ...] = ("*",)) -> AsyncIterator[asyncio.Queue[Event]]:
        """A queue of live events matching any of ``patterns``, for as long as the block runs."""
        for pattern in patterns:
            check_pattern(pattern)
        entry: tuple[tuple[str, ...], asyncio.Queue[Event]] = (patterns, asyncio.Queue(LIVE_QUEUE_SIZE))
        self._listeners.append(entry)
        LISTENERS.inc()
        try:
            yield entry[1]
        finally:
            self._listeners.remove(entry)
            LISTENERS.dec()

    def _deliver_live(self, event: Event) -> None:
        for patterns, queue in self._listeners:
            if matches(event["type"], patterns):
                if queue.full():
                    queue.get_nowait()
                    DROPPED.inc()
                queue.put_nowait(event)

    async def ping(self) -> float:
        """Milliseconds for a round trip to the backend; raises when it cannot be reached."""
        started = time.perf_counter()
        await self.backend.ping()
        return (time.perf_counter() - started) * 1000
