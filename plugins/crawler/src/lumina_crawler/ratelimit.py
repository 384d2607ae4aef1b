"""``CRAWL_RATE_LIMIT`` across every worker: request turns at least ``1 / rate`` seconds apart.

The turns are the core's ``rate_limits`` service (:meth:`wait_turn`), so the crawler paces
itself as any plugin would: with Redis configured (``REDIS_URL``) every worker on every machine
using that Redis shares one rate; without it, crawl tasks run inside the one server process, whose
workers share its turns in memory.
"""

from __future__ import annotations

from typing import Any, Protocol

#: The schedule's name in the ``rate_limits`` service: one budget for the crawler, whatever the worker.
TURNS_KEY = "crawler"
#: Turns are spaced a tenth wider than ``1 / rate``: the wiki counts requests by its own clock, and
#: a few milliseconds of network and scheduling jitter on turns exactly ``1 / rate`` apart put
#: ``rate + 1`` requests inside one of its seconds (measured: gaps of 0.190-0.205 s at 5/s).
PACE_MARGIN = 0.9


class Limiter(Protocol):
    """What the MediaWiki client waits on before each request."""

    async def acquire(self) -> None: ...


class CrawlPace:
    """At most ``rate`` acquisitions per second across every process sharing ``rate_limits``
    (the settings already hold ``rate`` positive, and ``wait_turn`` checks it again)."""

    def __init__(self, rate_limits: Any, rate: float, *, key: str = TURNS_KEY) -> None:
        self._rate_limits, self._rate, self._key = rate_limits, rate, key

    async def acquire(self) -> None:
        await self._rate_limits.wait_turn(self._key, self._rate * PACE_MARGIN)
