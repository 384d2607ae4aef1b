"""Evenly spaced turns: at most ``rate`` per second for a key, for every process sharing the store.

Where a fixed window admits or refuses (the HTTP limits), a pacer makes the caller wait for its
turn, so requests never come in bursts at window edges. A turn is granted *now*, and only when
the key's previous turn was granted at least one interval ago; otherwise the caller learns how
long to wait and asks again. Handing out future slots instead was not enough: a caller that
woke late (an event loop busy on two shared cores) sent its request close to the next slot's,
and a wiki's log then saw six requests within one second at a pace of five. Two stores: this
process's memory, or Redis, where one Lua script reads Redis's own clock, so workers on
different machines agree on "now" whatever their clocks say.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

#: Grant KEYS[1]'s turn now (0) when its last grant is an interval (ARGV[1] s) old, else return
#: the seconds left. The key expires a second after it could next be granted, so idle keys go.
_TAKE_TURN = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local interval = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[1]) or '-1e18')
if now < last + interval then
  return string.format('%.6f', last + interval - now)
end
redis.call('SET', KEYS[1], string.format('%.6f', now), 'PX', math.ceil(interval * 1000) + 1000)
return '0'
"""


class Pacer(Protocol):
    async def delay(self, key: str, interval: float) -> float:
        """0 when the key's turn is granted now; else the seconds to wait before asking again."""
        ...

    async def aclose(self) -> None: ...


class MemoryPacer:
    """Turns kept in this process: its tasks and threads share them, other processes do not."""

    def __init__(self) -> None:
        self._granted: dict[str, float] = {}
        self._lock = threading.Lock()

    async def delay(self, key: str, interval: float) -> float:
        with self._lock:
            now = time.monotonic()
            due = self._granted.get(key, -interval) + interval
            if now < due:
                return due - now
            self._granted[key] = now
            return 0.0

    async def aclose(self) -> None:
        """Nothing to release."""


class RedisPacer:
    """Turns in Redis under ``<prefix>:pace:<key>``, shared by every process using the same Redis."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as redis

        self._client = redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=5.0)
        self._take_turn = self._client.register_script(_TAKE_TURN)
        self._prefix = prefix

    async def delay(self, key: str, interval: float) -> float:
        return float(await self._take_turn(keys=[f"{self._prefix}:pace:{key}"], args=[repr(interval)]))

    async def aclose(self) -> None:
        await self._client.aclose()
