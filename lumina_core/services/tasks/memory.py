"""Tasks inside one process: an asyncio queue, records in memory (gone when the process ends)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from lumina_core.services.tasks.records import TaskRecord


@dataclass(frozen=True)
class Delivery:
    task_id: str


class MemoryTaskBackend:
    name = "memory"

    def __init__(self) -> None:
        self._records: dict[str, TaskRecord] = {}
        self._ready: asyncio.Queue[str] = asyncio.Queue()
        self._delayed: set[asyncio.TimerHandle] = set()
        self._dead: list[str] = []

    async def save(self, record: TaskRecord) -> None:
        self._records[record.id] = TaskRecord.loads(record.dumps())

    async def load(self, task_id: str) -> TaskRecord | None:
        record = self._records.get(task_id)
        return TaskRecord.loads(record.dumps()) if record else None

    async def recent(self, offset: int, limit: int) -> list[TaskRecord]:
        ordered = list(reversed(self._records.values()))
        return ordered[offset : offset + limit]

    async def enqueue(self, task_id: str) -> None:
        self._ready.put_nowait(task_id)

    async def next(self, consumer: str, wait_s: float) -> Delivery | None:
        try:
            return Delivery(await asyncio.wait_for(self._ready.get(), wait_s))
        except TimeoutError:
            return None

    async def ack(self, delivery: Delivery) -> None:
        return None

    async def requeue(self, delivery: Delivery) -> None:
        self._ready.put_nowait(delivery.task_id)

    async def retry_later(self, delivery: Delivery, delay_s: float) -> None:
        def due() -> None:
            self._delayed.discard(handle)
            self._ready.put_nowait(delivery.task_id)

        handle = asyncio.get_running_loop().call_later(delay_s, due)
        self._delayed.add(handle)

    async def heartbeat(self, delivery: Delivery, consumer: str) -> None:
        return None

    async def bury(self, delivery: Delivery) -> None:
        self._dead.append(delivery.task_id)

    async def dead_letters(self) -> list[str]:
        return list(self._dead)

    async def depth(self) -> int:
        return self._ready.qsize() + len(self._delayed)

    async def claim_slot(self, job: str, slot: float) -> bool:
        return True

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        for handle in self._delayed:
            handle.cancel()
