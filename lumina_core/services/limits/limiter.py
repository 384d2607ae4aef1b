"""Rate-limit decisions with the ``limits`` library: in memory, or shared through Redis.

A fixed-window counter per (limit, key): one atomic increment decides, and the window's
remaining count and reset time feed the ``X-RateLimit-*`` headers. Plugins use the same
service for their own budgets, refused when spent or paced (waiting for an evenly spaced turn,
see :mod:`.pacing`)::

    await ctx.service("rate_limits").acquire("5/minute", "crawl")   # raises RateLimited (429)
    await ctx.service("rate_limits").wait_turn("crawler", 2.0)       # at most 2 per second
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string
from prometheus_client import Counter

from lumina_core.errors import LuminaError, ValidationFailed
from lumina_core.services.limits.memory import FixedWindowMemory
from lumina_core.services.limits.pacing import MemoryPacer, Pacer, RedisPacer

REJECTED = Counter("lumina_rate_limit_rejections_total", "Requests and actions refused by a rate limit.", ["scope"])


@lru_cache(maxsize=256)
def parse_limit(text: str) -> RateLimitItem:
    """``600/minute``, ``10 per second``, ``1000/hour``; a bad one names the expected form."""
    try:
        return parse(text)
    except ValueError:
        raise ValidationFailed(f"'{text}' is not a rate limit; write it like 600/minute or 10/second") from None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float

    @property
    def retry_after_s(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_s)
        return headers


class RateLimited(LuminaError):
    """429 with ``Retry-After`` and ``X-RateLimit-*``; the API's error handler sends the headers."""

    type = "rate_limited"
    status = 429

    def __init__(self, message: str, decision: Decision) -> None:
        super().__init__(f"{message}; try again in {decision.retry_after_s} s")
        self.headers = decision.headers()


class RateLimiter:
    """Fixed windows (``limits``' FixedWindowRateLimiter semantics) in one round trip per decision.

    The strategy's ``hit`` is an atomic increment; rather than two more round trips for the
    window's stats, the remaining count comes from the incremented value and the reset time is
    remembered per window (read once from the store when another process opened it).
    """

    def __init__(self, storage: Storage, pacer: Pacer | None = None) -> None:
        self.storage = storage
        self.pacer = pacer or MemoryPacer()
        self._strategy = FixedWindowRateLimiter(storage)
        self._resets: dict[str, float] = {}

    async def hit(self, limit: str, *keys: str, cost: int = 1) -> Decision:
        """Spend ``cost`` from the window of ``limit`` for ``keys``; say whether it fitted."""
        item = parse_limit(limit)
        key = item.key_for(*keys)
        count = await self.storage.incr(key, item.get_expiry(), amount=cost)
        return Decision(count <= item.amount, item.amount, max(0, item.amount - count), await self._reset_at(key, item, count == cost))

    async def _reset_at(self, key: str, item: RateLimitItem, opened: bool) -> float:
        now = time.time()
        reset_at = self._resets.get(key, 0.0)
        if opened or reset_at <= now:
            reset_at = now + item.get_expiry() if opened else await self.storage.get_expiry(key)
            if len(self._resets) > 10_000:
                self._resets.clear()
            self._resets[key] = reset_at
        return reset_at

    async def peek(self, limit: str, *keys: str) -> Decision:
        """The window as it stands, spending nothing (for budgets spent after the fact)."""
        item = parse_limit(limit)
        reset_at, remaining = await self._strategy.get_window_stats(item, *keys)
        return Decision(remaining > 0, item.amount, remaining, reset_at or time.time() + item.get_expiry())

    async def acquire(self, limit: str, *keys: str, cost: int = 1) -> Decision:
        """Like ``hit``, but raise :class:`RateLimited` when over the limit."""
        decision = await self.hit(limit, *keys, cost=cost)
        if not decision.allowed:
            REJECTED.labels(keys[0] if keys else "plugin").inc()
            raise RateLimited(f"rate limit {limit} reached for {'/'.join(keys) or 'this action'}", decision)
        return decision

    async def wait_turn(self, key: str, per_second: float) -> None:
        """Wait for a turn of ``key``: granted at least ``1 / per_second`` after its previous one,
        by whichever process asked."""
        if per_second <= 0:
            raise ValidationFailed(f"a pace must be a positive number of turns per second, got {per_second}")
        while (delay := await self.pacer.delay(key, 1.0 / per_second)) > 0:
            await asyncio.sleep(delay)

    async def ping(self) -> bool:
        return await self.storage.check()

    async def aclose(self) -> None:
        await self.pacer.aclose()


def build_limiter(redis_url: str | None, prefix: str) -> RateLimiter:
    """Redis when ``REDIS_URL`` is set (shared by every process), else this process's memory."""
    if redis_url:
        uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
        storage = storage_from_string(uri, implementation="redispy", key_prefix=f"{prefix}:limits")
        return RateLimiter(storage, RedisPacer(redis_url, f"{prefix}:limits"))
    return RateLimiter(FixedWindowMemory(), MemoryPacer())
