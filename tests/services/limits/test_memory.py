"""The in-process store of the rate limits: fixed windows that end on time, in bounded memory."""

import asyncio

from lumina_core.services.limits.memory import FixedWindowMemory


async def test_a_window_counts_until_it_expires_then_starts_again():
    store = FixedWindowMemory()
    assert [await store.incr("k", expiry=0.2) for _ in range(3)] == [1, 2, 3]
    assert await store.get("k") == 3
    await asyncio.sleep(0.25)
    assert await store.get("k") == 0
    assert await store.incr("k", expiry=0.2) == 1


async def test_the_expiry_is_when_the_window_opened_plus_its_length():
    store = FixedWindowMemory()
    await store.incr("k", expiry=60)
    first_expiry = await store.get_expiry("k")
    await store.incr("k", expiry=60)
    assert await store.get_expiry("k") == first_expiry


async def test_expired_windows_are_swept_when_the_table_is_full():
    store = FixedWindowMemory(max_keys=3)
    for key in ("a", "b", "c"):
        await store.incr(key, expiry=0.05)
    await asyncio.sleep(0.1)
    await store.incr("d", expiry=60)
    assert len(store) == 1


async def test_clear_and_reset_forget_windows():
    store = FixedWindowMemory()
    await store.incr("a", expiry=60)
    await store.incr("b", expiry=60)
    await store.clear("a")
    assert await store.get("a") == 0
    assert await store.reset() == 1
    assert await store.get("b") == 0
