"""Paced turns (``rate_limits.wait_turn``): never two within an interval, through Redis across processes."""

from __future__ import annotations

import asyncio
import time

import pytest

from lumina_core.errors import ValidationFailed
from lumina_core.services.limits import build_limiter

INTERVAL = 10.0  # seconds between turns where delays are read, never slept, so it can be long


async def granted_at(limiters, key: str, per_second: float, turns: int) -> list[float]:
    """When each of ``turns`` callers, spread over ``limiters`` and all asking at once, got its turn."""
    async def take(limiter) -> float:
        await limiter.wait_turn(key, per_second)
        return time.monotonic()

    return sorted(await asyncio.gather(*(take(limiters[n % len(limiters)]) for n in range(turns))))


async def test_turns_of_limiters_on_one_redis_are_one_schedule(redis_backend):
    url, prefix = redis_backend["redis_url"], redis_backend["redis_prefix"]
    first, second = build_limiter(url, prefix), build_limiter(url, prefix)  # as two processes would
    try:
        assert await first.pacer.delay("crawler", INTERVAL) == 0.0
        assert await second.pacer.delay("crawler", INTERVAL) == pytest.approx(INTERVAL, abs=1.0)
        assert await first.pacer.delay("crawler", INTERVAL) == pytest.approx(INTERVAL, abs=1.0)
        assert await second.pacer.delay("another-budget", INTERVAL) == 0.0
    finally:
        await first.aclose()
        await second.aclose()


async def test_without_redis_turns_are_spaced_within_this_process_only():
    first, second = build_limiter(None, "lumina"), build_limiter(None, "lumina")
    assert await first.pacer.delay("crawler", INTERVAL) == 0.0
    assert await first.pacer.delay("crawler", INTERVAL) == pytest.approx(INTERVAL, abs=1.0)
    assert await second.pacer.delay("crawler", INTERVAL) == 0.0


async def test_callers_at_once_get_turns_an_interval_apart_however_late_they_wake(backend):
    """Granted at the moment of asking, never ahead: a caller that wakes late cannot end up
    sending right before the next one, so no second ever holds more than the rate."""
    processes = 2 if backend["redis_url"] else 1  # in memory, only one process's callers share turns
    limiters = [build_limiter(backend["redis_url"], backend.get("redis_prefix", "lumina")) for _ in range(processes)]
    try:
        times = await granted_at(limiters, "wiki", 20.0, 8)
    finally:
        for limiter in limiters:
            await limiter.aclose()
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.05 - 0.002, gaps  # Redis's clock and ours may differ by a millisecond
    assert times[-1] - times[0] < 7 * 0.05 + 1.0  # and nobody is left waiting much longer


async def test_a_pace_must_be_positive(backend):
    limiter = build_limiter(backend["redis_url"], backend.get("redis_prefix", "lumina"))
    try:
        with pytest.raises(ValidationFailed, match="positive"):
            await limiter.wait_turn("quick", 0)
    finally:
        await limiter.aclose()
