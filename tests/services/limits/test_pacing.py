"""Paced turns (``rate_limits.wait_turn``): evenly spaced, and shared through Redis by every process."""

from __future__ import annotations

import pytest

from lumina_core.errors import ValidationFailed
from lumina_core.services.limits import build_limiter

INTERVAL = 10.0  # seconds between turns: delays are read, never slept, so it can be long


async def test_turns_of_limiters_on_one_redis_are_one_evenly_spaced_schedule(redis_backend):
    url, prefix = redis_backend["redis_url"], redis_backend["redis_prefix"]
    first, second = build_limiter(url, prefix), build_limiter(url, prefix)  # as two processes would
    try:
        delays = [await limiter.pacer.delay("crawler", INTERVAL) for limiter in (first, second, first, second)]
        other_key = await second.pacer.delay("another-budget", INTERVAL)
    finally:
        await first.aclose()
        await second.aclose()

    assert delays == pytest.approx([0.0, INTERVAL, 2 * INTERVAL, 3 * INTERVAL], abs=1.0)
    assert other_key == pytest.approx(0.0, abs=1.0)


async def test_without_redis_turns_are_spaced_within_this_process_only():
    first, second = build_limiter(None, "lumina"), build_limiter(None, "lumina")
    assert [await first.pacer.delay("crawler", INTERVAL) for _ in range(3)] == pytest.approx(
        [0.0, INTERVAL, 2 * INTERVAL], abs=1.0)
    assert await second.pacer.delay("crawler", INTERVAL) == pytest.approx(0.0, abs=1.0)


async def test_a_turn_waits_for_its_slot_and_a_pace_must_be_positive(backend):
    limiter = build_limiter(backend["redis_url"], backend.get("redis_prefix", "lumina"))
    try:
        await limiter.wait_turn("quick", 1000.0)
        await limiter.wait_turn("quick", 1000.0)
        with pytest.raises(ValidationFailed, match="positive"):
            await limiter.wait_turn("quick", 0)
    finally:
        await limiter.aclose()
