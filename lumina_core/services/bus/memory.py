"""The in-process bus: one laptop, one process, no server to run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from lumina_core.services.bus.events import Event, matches

Handle = Callable[[Event], Awaitable[None]]
LiveSink = Callable[[Event], None]


class MemoryBackend:
    """Events go straight to this process's subscribers, each in order through its own queue."""

    name = "memory"

    def __init__(self) -> None:
        self._consumers: list[tuple[str, asyncio.Queue[Event]]] = []
        self._live: LiveSink = lambda _event: None

    async def start(self, live: LiveSink) -> None:
        self._live = live

    async def append(self, event: Event, body: str) -> None:
        self._live(event)
        for pattern, queue in self._consumers:
            if matches(event["type"], pattern):
                queue.put_nowait(event)

    def consume(self, pattern: str, group: str, handle: Handle) -> asyncio.Task[None]:
        entry: tuple[str, asyncio.Queue[Event]] = (pattern, asyncio.Queue())
        self._consumers.append(entry)
        task = asyncio.get_running_loop().create_task(_drain(entry[1], handle), name=f"events:{group}")
        task.add_done_callback(lambda _t: self._consumers.remove(entry))
        return task

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._consumers.clear()


async def _drain(queue: asyncio.Queue[Event], handle: Handle) -> None:
    while True:
        await handle(await queue.get())
