"""The bus on Redis Streams: many processes, many machines, nothing lost when one dies.

* ``append`` batches concurrent publishes: one Lua call per stream runs ``XADD ... MAXLEN ~ n``
  for each event of the batch, in order.
* Each subscription is a consumer group (``<owner>:<pattern>``): the plugin's handler runs once
  per event across all processes, and the message is acknowledged (``XACK``) after it ran.
* Messages left pending by a consumer that died are reclaimed with ``XAUTOCLAIM`` once idle
  longer than ``LUMINA_EVENTS_CLAIM_IDLE``.
* Live delivery (SSE, WebSocket) tails the streams with plain ``XREAD`` in every process.

When Redis goes away every loop waits and retries; nothing here lets the outage kill the host.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from lumina_core.services.bus.events import Event, matches, stream_of, streams_for

log = logging.getLogger("lumina.events.redis")

Handle = Callable[[Event], Awaitable[None]]
LiveSink = Callable[[Event], None]
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
BLOCK_MS = 1000
BATCH = 500
_APPEND_ALL = """
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', ARGV[i])
end
return #ARGV - 1
"""


def consumer_name() -> str:
    """Unique per process: host, pid and a nonce (a restarted pid is a new consumer)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Outage:
    """Retry pacing while Redis is unreachable, with one log line per outage, not per retry."""

    def __init__(self, what: str) -> None:
        self.what, self.delay = what, 0.0

    async def wait(self, error: BaseException) -> None:
        if self.delay == 0.0:
            log.warning("%s: Redis is unreachable (%s); retrying until it returns", self.what, error)
        self.delay = min(max(self.delay * 2, 0.2), 3.0)
        await asyncio.sleep(self.delay)

    def over(self) -> None:
        if self.delay:
            log.info("%s: Redis is back", self.what)
        self.delay = 0.0


class RedisBackend:
    name = "redis"

    def __init__(self, client: aioredis.Redis, *, prefix: str, maxlen: int, claim_idle: float) -> None:
        self.client = client
        self._prefix = prefix
        self._maxlen = maxlen
        self._claim_idle_ms = int(claim_idle * 1000)
        self.consumer = consumer_name()
        self._pending: list[tuple[str, str, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._append_all = client.register_script(_APPEND_ALL)

    # --- keys --------------------------------------------------------------------------------

    def key(self, stream: str) -> str:
        return f"{self._prefix}:stream:{stream}"

    @property
    def _streams_key(self) -> str:
        return f"{self._prefix}:streams"

    async def _all_streams(self) -> list[str]:
        return sorted(m.decode() if isinstance(m, bytes) else m for m in await self.client.smembers(self._streams_key))

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, live: LiveSink) -> None:
        self._spawn(self._write_batches(), "events:writer")
        self._spawn(self._tail(live), "events:tail")

    def _spawn(self, coroutine: Awaitable[None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.aclose()

    async def ping(self) -> None:
        await self.client.ping()

    # --- publishing --------------------------------------------------------------------------

    async def append(self, event: Event, body: str) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((stream_of(event["type"]), body, future))
        self._wake.set()
        await future

    async def _write_batches(self) -> None:
        """One pipeline per burst of publishes: a round trip is shared by every waiting caller."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
                try:
                    await self._write(batch)
                except Exception as exc:  # noqa: BLE001 - handed to each publisher
                    for *_rest, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for *_rest, future in batch:
                    if not future.done():
                        future.set_result(None)

    async def _write(self, batch: list[tuple[str, str, asyncio.Future[None]]]) -> None:
        """One script call per stream appends the whole batch in order (few bytes to pack, one reply)."""
        bodies: dict[str, list[str]] = {}
        for stream, body, _future in batch:
            bodies.setdefault(stream, []).append(body)
        pipe = self.client.pipeline(transaction=False)
        pipe.sadd(self._streams_key, *bodies)  # again after a Redis restart that lost the set
        for stream, events in bodies.items():
            await self._append_all(keys=[self.key(stream)], args=[self._maxlen, *events], client=pipe)
        await pipe.execute()

    # --- consumer groups ---------------------------------------------------------------------

    def consume(self, pattern: str, group: str, handle: Handle) -> asyncio.Task[None]:
        return self._spawn(self._consume(pattern, group, handle), f"events:{group}")

    async def _consume(self, pattern: str, group: str, handle: Handle) -> None:
        outage = Outage(f"event subscription {group}")
        joined: set[str] = set()
        first = True
        last_reclaim = 0.0
        while True:
            try:
                streams = await self._streams_matching(pattern)
                for stream in streams - joined:
                    await self._join(stream, group, start="$" if first else "0")
                    joined.add(stream)
                first = False
                if time.monotonic() - last_reclaim > self._claim_idle_ms / 2000:
                    last_reclaim = time.monotonic()
                    for stream in joined:
                        await self._reclaim(stream, group, pattern, handle)
                if not joined:
                    await asyncio.sleep(BLOCK_MS / 1000)
                    continue
                reply = await self.client.xreadgroup(
                    group, self.consumer, {self.key(s): ">" for s in joined}, count=100, block=BLOCK_MS
                )
                outage.over()
                for key, messages in reply or []:
                    await self._handle_all(key, group, pattern, messages, handle)
            except REDIS_DOWN as exc:
                joined.clear()
                await outage.wait(exc)
            except ResponseError as exc:  # NOGROUP: Redis restarted empty; join again
                log.warning("event subscription %s: %s; joining again", group, exc)
                joined.clear()
                await outage.wait(exc)

    async def _streams_matching(self, pattern: str) -> set[str]:
        single = streams_for(pattern)
        return {single} if single else set(await self._all_streams())

    async def _join(self, stream: str, group: str, *, start: str) -> None:
        try:
            await self.client.xgroup_create(self.key(stream), group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _reclaim(self, stream: str, group: str, pattern: str, handle: Handle) -> None:
        """Take over messages another consumer received but never acknowledged (it died)."""
        key, cursor = self.key(stream), "0-0"
        while True:
            reply = await self.client.xautoclaim(key, group, self.consumer, self._claim_idle_ms, cursor, count=100)
            cursor, messages = reply[0], reply[1]
            if messages:
                log.info("reclaimed %d events of %s left by a silent consumer", len(messages), group)
                await self._handle_all(key, group, pattern, messages, handle)
            if cursor in (b"0-0", "0-0") or not messages:
                return

    async def _handle_all(self, key: Any, group: str, pattern: str, messages: Iterable[Any], handle: Handle) -> None:
        for message_id, fields in messages:
            if fields:
                event = json.loads(fields[b"event"])
                if matches(event["type"], pattern):
                    await handle(event)
            await self.client.xack(key, group, message_id)

    # --- live tail ---------------------------------------------------------------------------

    async def _tail(self, live: LiveSink) -> None:
        """Hand every new event on every stream to this process's live listeners."""
        outage = Outage("live events")
        positions: dict[str, Any] = {}
        starting = True
        while True:
            try:
                for stream in await self._all_streams():
                    key = self.key(stream)
                    if key not in positions:
                        positions[key] = await self._last_id(key) if starting else "0-0"
                starting = False
                if not positions:
                    await asyncio.sleep(BLOCK_MS / 1000)
                    continue
                reply = await self.client.xread(positions, count=BATCH, block=BLOCK_MS)
                outage.over()
                for key, messages in reply or []:
                    name = key.decode() if isinstance(key, bytes) else key
                    for message_id, fields in messages:
                        positions[name] = message_id
                        live(json.loads(fields[b"event"]))
            except REDIS_DOWN as exc:
                await outage.wait(exc)

    async def _last_id(self, key: str) -> Any:
        newest = await self.client.xrevrange(key, count=1)
        return newest[0][0] if newest else "0-0"


def connect(url: str) -> aioredis.Redis:
    """A client that fails fast while Redis is down (so health says so) and reconnects by itself:
    a pooled connection that died with a restarted Redis is replaced and the command retried."""
    return aioredis.Redis.from_url(
        url,
        socket_connect_timeout=1.0,
        socket_timeout=None,
        health_check_interval=10,
        retry=Retry(ExponentialBackoff(cap=0.25, base=0.01), retries=3),
    )
