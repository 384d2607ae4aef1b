"""Tasks on Redis Streams: any number of ``lumina worker`` processes share one consumer group.

* Each task is one stream entry (``tasks/v1``) and one JSON record (``task:<id>``).
* A worker reads with ``XREADGROUP``; the entry stays pending until it acknowledges it, and it
  refreshes its claim (``XCLAIM ... JUSTID``) while the task runs. If the worker dies (even by
  SIGKILL) the claim goes stale and another worker takes the entry over with ``XAUTOCLAIM``.
* Retries wait in a sorted set by due time; a Lua script moves due ones back onto the stream
  atomically, so no retry is lost or doubled between the two.
* Periodic job slots are claimed with ``SET NX``: one run per schedule across all workers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from lumina_core.services.tasks.records import TaskRecord

STREAM = "tasks/v1"
GROUP = "workers"
KEEP_FINISHED_S = 7 * 24 * 3600
INDEX_SIZE = 10_000

_PROMOTE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'id', id)
end
return #due
"""


@dataclass(frozen=True)
class Delivery:
    task_id: str
    message_id: Any


class RedisTaskBackend:
    name = "redis"

    def __init__(self, client: aioredis.Redis, *, prefix: str, claim_idle: float) -> None:
        self.client = client
        self._p = prefix
        self._stream = f"{prefix}:stream:{STREAM}"
        self._claim_idle_ms = int(claim_idle * 1000)
        self._promote = client.register_script(_PROMOTE_DUE)
        self._group_ready = False
        self._last_reclaim = 0.0

    def _record_key(self, task_id: str) -> str:
        return f"{self._p}:task:{task_id}"

    # --- records -----------------------------------------------------------------------------

    async def save(self, record: TaskRecord) -> None:
        pipe = self.client.pipeline(transaction=False)
        finished = record.state in ("succeeded", "failed")
        pipe.set(self._record_key(record.id), record.dumps(), ex=KEEP_FINISHED_S if finished else None)
        pipe.zadd(f"{self._p}:tasks", {record.id: time.time()}, nx=True)
        pipe.zremrangebyrank(f"{self._p}:tasks", 0, -INDEX_SIZE - 1)
        await pipe.execute()

    async def load(self, task_id: str) -> TaskRecord | None:
        text = await self.client.get(self._record_key(task_id))
        return TaskRecord.loads(text) if text else None

    async def recent(self, offset: int, limit: int) -> list[TaskRecord]:
        ids = await self.client.zrevrange(f"{self._p}:tasks", offset, offset + limit - 1)
        if not ids:
            return []
        texts = await self.client.mget([self._record_key(i.decode()) for i in ids])
        return [TaskRecord.loads(t) for t in texts if t]

    # --- delivery ----------------------------------------------------------------------------

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self.client.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def enqueue(self, task_id: str) -> None:
        await self.client.xadd(self._stream, {"id": task_id})

    async def next(self, consumer: str, wait_s: float) -> Delivery | None:
        await self._ensure_group()
        await self._promote(keys=[f"{self._p}:tasks:delayed", self._stream], args=[time.time()])
        reclaimed = await self._reclaim(consumer)
        if reclaimed is not None:
            return reclaimed
        try:
            reply = await self.client.xreadgroup(GROUP, consumer, {self._stream: ">"}, count=1, block=int(wait_s * 1000))
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._group_ready = False  # Redis lost its data (restarted without persistence)
            return None
        for _stream, messages in reply or []:
            for message_id, fields in messages:
                return Delivery(fields[b"id"].decode(), message_id)
        return None

    async def _reclaim(self, consumer: str) -> Delivery | None:
        """One entry whose worker went silent (died) for longer than the claim idle time."""
        if time.monotonic() - self._last_reclaim < 0.5:
            return None
        self._last_reclaim = time.monotonic()
        if not self._group_ready:
            return None
        _cursor, messages, *_ = await self.client.xautoclaim(
            self._stream, GROUP, consumer, self._claim_idle_ms, "0-0", count=1
        )
        for message_id, fields in messages:
            if fields:
                return Delivery(fields[b"id"].decode(), message_id)
            await self.client.xack(self._stream, GROUP, message_id)
        return None

    async def ack(self, delivery: Delivery) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.xack(self._stream, GROUP, delivery.message_id)
        pipe.xdel(self._stream, delivery.message_id)
        await pipe.execute()

    async def requeue(self, delivery: Delivery) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(self._stream, {"id": delivery.task_id})
        pipe.xack(self._stream, GROUP, delivery.message_id)
        pipe.xdel(self._stream, delivery.message_id)
        await pipe.execute()

    async def retry_later(self, delivery: Delivery, delay_s: float) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.zadd(f"{self._p}:tasks:delayed", {delivery.task_id: time.time() + delay_s})
        pipe.xack(self._stream, GROUP, delivery.message_id)
        pipe.xdel(self._stream, delivery.message_id)
        await pipe.execute()

    async def heartbeat(self, delivery: Delivery, consumer: str) -> None:
        await self.client.xclaim(self._stream, GROUP, consumer, 0, [delivery.message_id], justid=True)

    async def bury(self, delivery: Delivery) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.lpush(f"{self._p}:tasks:dead", delivery.task_id)
        pipe.xack(self._stream, GROUP, delivery.message_id)
        pipe.xdel(self._stream, delivery.message_id)
        await pipe.execute()

    async def dead_letters(self) -> list[str]:
        return [i.decode() for i in await self.client.lrange(f"{self._p}:tasks:dead", 0, -1)]

    async def depth(self) -> int:
        pipe = self.client.pipeline(transaction=False)
        pipe.xlen(self._stream)
        pipe.zcard(f"{self._p}:tasks:delayed")
        waiting, delayed = await pipe.execute()
        return int(waiting) + int(delayed)

    async def claim_slot(self, job: str, slot: float) -> bool:
        return bool(await self.client.set(f"{self._p}:cron:{job}:{int(slot)}", "1", nx=True, ex=3600))

    async def ping(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()

