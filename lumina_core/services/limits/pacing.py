"""Evenly spaced turns: at most ``rate`` per second for a key, for every process sharing the store.

Where a fixed window admits or refuses (the HTTP limits), a pacer makes the caller wait for its
turn: each call takes the next free slot of the key's schedule (one interval after the previous
slot, or now when the schedule is idle) and sleeps until it, so requests never come in bursts
at window edges. Two stores: this process's memory, or Redis, where one Lua script reads Redis's
own clock, so workers on different machines agree on "now" whatever their clocks say.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

#: Take the next slot of KEYS[1] (interval ARGV[1] seconds) and return how long to wait for it.
#: The schedule expires a second after its last slot, so idle keys do not linger.
_TAKE_SLOT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local interval = tonumber(ARGV[1])
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], string.format('%.6f', slot + interval),
           'PX', math.ceil((slot + interval - now) * 1000) + 1000)
return string.format('%.6f', slot - now)
"""


class Pacer(Protocol):
    async def delay(self, key: str, interval: float) -> float:
        """Take the key's next slot; return the seconds to wait for it."""
        ...

    async def aclose(self) -> None: ...


class MemoryPacer:
    """Slots kept in this process: its tasks and threads share them, other processes do not."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    async def delay(self, key: str, interval: float) -> float:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(key, 0.0))
            self._next[key] = slot + interval
        return slot - now

    async def aclose(self) -> None:
        """Nothing to release."""


class RedisPacer:
    """Slots in Redis under ``<prefix>:pace:<key>``, shared by every process using the same Redis."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as redis

        self._client = redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=5.0)
        self._take_slot = self._client.register_script(_TAKE_SLOT)
        self._prefix = prefix

    async def delay(self, key: str, interval: float) -> float:
        return float(await self._take_slot(keys=[f"{self._prefix}:pace:{key}"], args=[repr(interval)]))

    async def aclose(self) -> None:
        await self._client.aclose()
