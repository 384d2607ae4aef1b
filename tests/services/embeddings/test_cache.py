"""The embedding cache: in-process LRU, then Redis for 24 h; Redis down only costs speed (issue 3)."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
import redis.asyncio as redis

from lumina_core.services.embeddings.cache import CACHE_LOOKUPS, LRU, CachedEmbedder, RedisLayer
from lumina_core.services.embeddings.minilm import MiniLMEmbedder

REDIS_URL = "redis://127.0.0.1:6379/0"


class CountingEmbedder(MiniLMEmbedder):
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    async def embed(self, texts):
        self.embedded.extend(texts)
        return await super().embed(texts)


@pytest.fixture
async def redis_prefix():
    prefix = f"lumina-test-{uuid.uuid4().hex}"
    yield prefix
    client = redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def _hits(layer: str) -> float:
    return CACHE_LOOKUPS.labels(layer, "hit")._value.get()


async def test_repeated_texts_come_from_memory() -> None:
    inner = CountingEmbedder()
    cache = CachedEmbedder(inner, size=10)
    first = await cache.embed(["alpha", "beta", "alpha"])
    hits = _hits("memory")
    again = await cache.embed(["beta", "alpha"])
    assert inner.embedded == ["alpha", "beta"]
    assert again == [first[1], first[0]] and _hits("memory") == hits + 2


async def test_a_memory_hit_takes_under_50_microseconds() -> None:
    cache = CachedEmbedder(MiniLMEmbedder(), size=10)
    await cache.embed(["warm"])
    rounds = 2000
    started = time.perf_counter()
    for _ in range(rounds):
        await cache.embed(["warm"])
    assert (time.perf_counter() - started) / rounds < 50e-6


def test_the_lru_forgets_the_least_recently_used() -> None:
    lru = LRU(2)
    lru.put("a", [1.0])
    lru.put("b", [2.0])
    lru.get("a")
    lru.put("c", [3.0])
    assert lru.get("b") is None and lru.get("a") == [1.0] and len(lru) == 2


async def test_redis_shares_vectors_between_processes_for_a_day(redis_prefix: str) -> None:
    writer = CachedEmbedder(MiniLMEmbedder(), size=10, redis=RedisLayer(REDIS_URL, redis_prefix))
    [vector] = await writer.embed(["shared sentence"])
    reader_inner = CountingEmbedder()
    reader = CachedEmbedder(reader_inner, size=10, redis=RedisLayer(REDIS_URL, redis_prefix))
    [again] = await reader.embed(["shared sentence"])
    client = redis.from_url(REDIS_URL)
    [key] = [k async for k in client.scan_iter(f"{redis_prefix}:*")]
    ttl = await client.ttl(key)
    await client.aclose()
    await writer.aclose()
    await reader.aclose()
    assert reader_inner.embedded == [] and again == pytest.approx(vector, abs=1e-6)
    assert b"all-minilm-l6-v2" in key and 24 * 3600 - 60 < ttl <= 24 * 3600


async def test_redis_down_degrades_to_memory_with_one_warning(pick_free_port, caplog) -> None:
    cache = CachedEmbedder(MiniLMEmbedder(), size=10, redis=RedisLayer(f"redis://127.0.0.1:{pick_free_port()}/0"))
    with caplog.at_level(logging.WARNING, logger="lumina.embeddings"):
        first = await cache.embed(["still works"])
        second = await cache.embed(["still works", "and this"])
    await cache.aclose()
    assert second[0] == first[0] and len(second[1]) == 384
    assert len([r for r in caplog.records if "not answering" in r.message]) == 1
