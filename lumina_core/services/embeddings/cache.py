"""An embedding cache in front of any embedder: in-process LRU, then optional Redis (24 h).

Keys are the model name and the text, so two models never share vectors. Redis being down
only costs speed: the cache logs one warning, keeps serving from the LRU and the embedder, and
tries Redis again after a pause.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
from prometheus_client import Counter, Histogram

from lumina_core.services.embeddings.base import Embedder

log = logging.getLogger("lumina.embeddings")

CACHE_LOOKUPS = Counter(
    "lumina_embedding_cache_lookups_total", "Embedding cache lookups by layer and result.",
    ["layer", "result"],
)
EMBED_SECONDS = Histogram(
    "lumina_embedding_seconds", "Time to embed one batch of texts that missed the cache.", ["model"]
)
REDIS_RETRY_SECONDS = 30.0
DAY_SECONDS = 24 * 3600


class LRU:
    """A bounded mapping that forgets the least recently used entry first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, list[float]] = OrderedDict()

    def get(self, key: str) -> list[float] | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: list[float]) -> None:
        if self._size <= 0:
            return
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class RedisLayer:
    """Vectors as float32 bytes under ``<prefix>:<model>:<sha256(text)>``, expiring after a day."""

    def __init__(self, url: str, prefix: str = "lumina:emb", ttl: int = DAY_SECONDS) -> None:
        import redis.asyncio as redis

        self._client = redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._prefix, self._ttl, self._url = prefix, ttl, url
        self._down_until = 0.0

    def key(self, model: str, text: str) -> str:
        return f"{self._prefix}:{model}:{hashlib.sha256(text.encode()).hexdigest()}"

    async def get_many(self, keys: Sequence[str]) -> list[list[float] | None]:
        if not keys or self._is_resting():
            return [None] * len(keys)
        try:
            values = await self._client.mget(keys)
        except Exception as exc:  # noqa: BLE001 - any Redis failure degrades to the LRU
            self._rest(exc)
            return [None] * len(keys)
        return [np.frombuffer(v, dtype=np.float32).tolist() if v else None for v in values]

    async def put_many(self, items: Sequence[tuple[str, list[float]]]) -> None:
        if not items or self._is_resting():
            return
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for key, vector in items:
                    pipe.set(key, np.asarray(vector, dtype=np.float32).tobytes(), ex=self._ttl)
                await pipe.execute()
        except Exception as exc:  # noqa: BLE001
            self._rest(exc)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _is_resting(self) -> bool:
        return time.monotonic() < self._down_until

    def _rest(self, error: Exception) -> None:
        log.warning(
            "Redis at %s is not answering (%s); embeddings are cached in memory only for the next %.0f s",
            self._url, error, REDIS_RETRY_SECONDS,
        )
        self._down_until = time.monotonic() + REDIS_RETRY_SECONDS


class CachedEmbedder:
    """The ``embedder`` service: same interface as the wrapped embedder, with a cache."""

    def __init__(self, inner: Embedder, *, size: int = 1000, redis: RedisLayer | None = None) -> None:
        self.inner = inner
        self.model = inner.model
        self.lru = LRU(size)
        self._redis = redis

    @property
    def dimensions(self) -> int:
        return self.inner.dimensions

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        found: list[list[float] | None] = [self._from_memory(t) for t in texts]
        missing = [i for i, v in enumerate(found) if v is None]
        if missing and self._redis is not None:
            await self._fill_from_redis(texts, found, missing)
            missing = [i for i in missing if found[i] is None]
        if missing:
            await self._fill_from_model(texts, found, missing)
        return found  # type: ignore[return-value] - every slot is filled by now

    def _from_memory(self, text: str) -> list[float] | None:
        vector = self.lru.get(self._key(text))
        CACHE_LOOKUPS.labels("memory", "hit" if vector is not None else "miss").inc()
        return vector

    async def _fill_from_redis(self, texts: Sequence[str], found: list[Any], missing: list[int]) -> None:
        assert self._redis is not None
        values = await self._redis.get_many([self._redis.key(self.model, texts[i]) for i in missing])
        for index, vector in zip(missing, values, strict=True):
            CACHE_LOOKUPS.labels("redis", "hit" if vector is not None else "miss").inc()
            if vector is not None:
                found[index] = vector
                self.lru.put(self._key(texts[index]), vector)

    async def _fill_from_model(self, texts: Sequence[str], found: list[Any], missing: list[int]) -> None:
        unique = list(dict.fromkeys(texts[i] for i in missing))
        started = time.perf_counter()
        vectors = dict(zip(unique, await self.inner.embed(unique), strict=True))
        EMBED_SECONDS.labels(self.model).observe(time.perf_counter() - started)
        for text, vector in vectors.items():
            self.lru.put(self._key(text), vector)
        for index in missing:
            found[index] = vectors[texts[index]]
        if self._redis is not None:
            await self._redis.put_many([(self._redis.key(self.model, t), v) for t, v in vectors.items()])

    def _key(self, text: str) -> str:
        return f"{self.model}\x00{text}"

    async def aclose(self) -> None:
        await self.inner.aclose()
        if self._redis is not None:
            await self._redis.aclose()
