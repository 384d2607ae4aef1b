"""The task queue: in-process workers by default, ``lumina worker`` processes on Redis Streams.

Why a thin layer over Redis Streams rather than arq, taskiq or saq: the bus already speaks
Redis Streams (consumer groups, acknowledgements, reclaiming a dead consumer's messages), and
the queue needs exactly those plus a sorted set for retries; plugin handlers come and go at run
time (reload), which the decorator-at-import registries of those libraries do not model; and the
in-process default must behave the same without any server. See docs/platform.md.
"""

from __future__ import annotations

from lumina_core.services.tasks.memory import MemoryTaskBackend
from lumina_core.services.tasks.queue import Announce, TaskJob, TaskQueue
from lumina_core.services.tasks.records import STATES, TaskRecord
from lumina_core.settings import Settings


def build_queue(settings: Settings, announce: Announce | None = None) -> TaskQueue:
    """The queue these settings ask for: Redis Streams when ``REDIS_URL`` is set, else in-process."""
    if settings.redis_url:
        from lumina_core.services.bus.redis import connect
        from lumina_core.services.tasks.redis import RedisTaskBackend

        backend = RedisTaskBackend(connect(settings.redis_url), prefix=settings.redis_prefix, claim_idle=settings.events_claim_idle)
    else:
        backend = MemoryTaskBackend()
    return TaskQueue(
        backend,
        max_attempts=settings.task_max_attempts,
        backoff_s=settings.task_backoff,
        timeout_s=settings.task_timeout,
        claim_idle_s=settings.events_claim_idle,
        announce=announce,
    )


__all__ = ["STATES", "TaskJob", "TaskQueue", "TaskRecord", "build_queue"]
