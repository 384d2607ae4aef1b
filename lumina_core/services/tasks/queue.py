"""The ``tasks`` service: submit and look up tasks, run them on workers, retry, bury, schedule.

The same code runs the in-process workers of ``lumina serve`` and the ``lumina worker``
processes; only the backend (memory or Redis Streams) differs. Delivery is at least once: a task
whose worker died runs again elsewhere, so handlers must be idempotent. A record already final
when it is delivered again is skipped.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from prometheus_client import Counter, Gauge, Histogram

from lumina_core.contract import PeriodicJob, TaskHandler
from lumina_core.errors import Conflict, ValidationFailed
from lumina_core.services.bus.redis import REDIS_DOWN, Outage, consumer_name
from lumina_core.services.tasks.cron import CronSchedule
from lumina_core.services.tasks.records import (
    FAILED,
    FINAL,
    QUEUED,
    RETRYING,
    RUNNING,
    SUCCEEDED,
    TaskRecord,
    new_record,
)

log = logging.getLogger("lumina.tasks")

TASKS = Counter("lumina_tasks_total", "Task state changes, by kind and new state.", ["kind", "state"])
TASK_SECONDS = Histogram("lumina_task_duration_seconds", "Time one task attempt ran, by kind.", ["kind"])
QUEUE_DEPTH = Gauge("lumina_task_queue_depth", "Tasks waiting or running (as last seen by this process).")
IN_FLIGHT = Gauge("lumina_tasks_running", "Tasks running in this process.")

SHUTDOWN_GRACE_S = 10.0
PASS_ON_PAUSE_S = 0.2
WAIT_S = 1.0
#: Publishes a task event: (type, payload). The bus, in the host.
Announce = Callable[[str, Mapping[str, Any]], Awaitable[Any]]


class TaskBackend(Protocol):
    name: str

    async def save(self, record: TaskRecord) -> None: ...
    async def load(self, task_id: str) -> TaskRecord | None: ...
    async def recent(self, offset: int, limit: int) -> list[TaskRecord]: ...
    async def enqueue(self, task_id: str) -> None: ...
    async def next(self, consumer: str, wait_s: float) -> Any: ...
    async def ack(self, delivery: Any) -> None: ...
    async def requeue(self, delivery: Any) -> None: ...
    async def retry_later(self, delivery: Any, delay_s: float) -> None: ...
    async def heartbeat(self, delivery: Any, consumer: str) -> None: ...
    async def bury(self, delivery: Any) -> None: ...
    async def dead_letters(self) -> list[str]: ...
    async def depth(self) -> int: ...
    async def claim_slot(self, job: str, slot: float) -> bool: ...
    async def ping(self) -> None: ...
    async def close(self) -> None: ...


class TaskJob:
    """What a handler that takes a second argument gets: the task's id, attempt and progress."""

    def __init__(self, queue: TaskQueue, record: TaskRecord) -> None:
        self._queue, self._record = queue, record
        self.id, self.attempt = record.id, record.attempts

    async def progress(self, done: float, note: str = "") -> None:
        """Report progress from 0 to 1 (shown by ``GET /tasks/{id}``)."""
        self._record.progress, self._record.note = max(0.0, min(1.0, float(done))), note
        await self._queue.backend.save(self._record)


class TaskQueue:
    def __init__(
        self,
        backend: TaskBackend,
        *,
        max_attempts: int = 3,
        backoff_s: float = 1.0,
        timeout_s: float = 600.0,
        claim_idle_s: float = 30.0,
        announce: Announce | None = None,
    ) -> None:
        self.backend = backend
        self._max_attempts, self._backoff_s, self._timeout_s = max_attempts, backoff_s, timeout_s
        self._heartbeat_s = max(claim_idle_s / 3, 0.05)
        self._announce = announce
        self._handlers: dict[str, tuple[str, TaskHandler]] = {}
        self._jobs: dict[str, asyncio.Task[None]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._running: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self.consumer = consumer_name()

    # --- the service plugins call --------------------------------------------------------------

    async def submit(self, task: Mapping[str, Any], *, owner: str, user_id: str | None = None) -> str:
        """Queue ``task`` (its first key names its kind); return the task id."""
        record = new_record(task, owner=owner, user_id=user_id, max_attempts=self._max_attempts)
        if record.kind not in self._handlers:
            known = ", ".join(sorted(self._handlers)) or "none"
            raise ValidationFailed(
                f"no plugin handles tasks of kind '{record.kind}' (known kinds: {known})", field=record.kind
            )
        await self.backend.save(record)
        await self.backend.enqueue(record.id)
        TASKS.labels(record.kind, QUEUED).inc()
        return record.id

    async def get(self, task_id: str) -> dict[str, Any] | None:
        record = await self.backend.load(task_id)
        return record.to_dict() if record else None

    async def recent(self, offset: int = 0, limit: int = 50) -> list[dict[str, Any]]:
        return [r.to_dict() for r in await self.backend.recent(offset, limit)]

    async def dead_letters(self) -> list[str]:
        return await self.backend.dead_letters()

    async def depth(self) -> int:
        depth = await self.backend.depth()
        QUEUE_DEPTH.set(depth)
        return depth

    # --- registration (bound from the register_* hooks) -----------------------------------------

    def handle(self, kind: str, handler: TaskHandler, *, owner: str) -> Callable[[], None]:
        """Route tasks of ``kind`` to ``handler``; return the function that removes it."""
        current = self._handlers.get(kind)
        if current is not None and current[0] != owner:
            raise Conflict(f"tasks of kind '{kind}' are already handled by plugin '{current[0]}'")
        self._handlers[kind] = (owner, handler)

        def remove() -> None:
            if self._handlers.get(kind, ("",))[0] == owner:
                del self._handlers[kind]

        return remove

    def schedule(self, job: PeriodicJob, *, owner: str) -> Callable[[], None]:
        """Run ``job`` on its cron schedule, once per slot across every process with workers."""
        name = f"{owner}:{job.name}"
        schedule = CronSchedule(job.cron, name)
        if name in self._jobs:
            raise Conflict(f"periodic job '{job.name}' of plugin '{owner}' is registered twice")
        task = asyncio.get_running_loop().create_task(self._run_schedule(name, schedule, job), name=f"cron:{name}")
        self._jobs[name] = task
        return lambda: self._jobs.pop(name, task).cancel()

    # --- workers ---------------------------------------------------------------------------------

    def start_workers(self, count: int) -> None:
        for number in range(count):
            task = asyncio.get_running_loop().create_task(self._work(), name=f"task-worker-{number}")
            self._workers.add(task)
            task.add_done_callback(self._workers.discard)

    @property
    def has_workers(self) -> bool:
        return bool(self._workers)

    async def drain(self, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        """Stop taking tasks and let the running ones finish, for at most ``grace_s``."""
        self._stopping = True
        for job in self._jobs.values():
            job.cancel()
        if self._running:
            await asyncio.wait(self._running, timeout=grace_s)

    async def close(self, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        """Drain, then hand back what still runs (another worker takes it) and disconnect."""
        await self.drain(grace_s)
        for task in [*self._workers, *self._running]:
            task.cancel()
        await asyncio.gather(*self._workers, *self._running, *self._jobs.values(), return_exceptions=True)
        await self.backend.close()

    async def _work(self) -> None:
        outage = Outage("task worker")
        while not self._stopping:
            try:
                delivery = await self.backend.next(self.consumer, WAIT_S)
                outage.over()
            except REDIS_DOWN as exc:
                await outage.wait(exc)
                continue
            except Exception as exc:  # noqa: BLE001 - a worker must outlive any one bad answer
                log.exception("task worker: fetching the next task failed: %s", exc)
                await outage.wait(exc)
                continue
            if delivery is None or self._stopping:
                if delivery is not None:
                    await self.backend.requeue(delivery)
                continue
            running = asyncio.current_task()
            assert running is not None
            self._running.add(running)
            try:
                await self._run(delivery)
            except REDIS_DOWN as exc:
                await outage.wait(exc)  # the entry stays pending and is reclaimed later
            finally:
                self._running.discard(running)

    async def _run(self, delivery: Any) -> None:
        record = await self.backend.load(delivery.task_id)
        if record is None or record.state in FINAL:
            await self.backend.ack(delivery)  # a duplicate delivery of a finished task
            return
        if record.kind not in self._handlers:
            await self._pass_on(record, delivery)
            return
        record.moved(RUNNING, attempts=record.attempts + 1, worker=self.consumer, error=None, next_attempt_at=None)
        await self.backend.save(record)
        TASKS.labels(record.kind, RUNNING).inc()
        heartbeat = asyncio.get_running_loop().create_task(self._keep_claim(delivery))
        started = time.perf_counter()
        IN_FLIGHT.inc()
        try:
            result = await asyncio.wait_for(self._call_handler(record), self._timeout_s)
        except asyncio.CancelledError:
            record.moved(QUEUED, worker=None)
            await asyncio.shield(self._hand_back(record, delivery))
            raise
        except Exception as exc:  # noqa: BLE001 - the task's failure, recorded on the task
            await self._failed(record, delivery, exc)
        else:
            record.moved(SUCCEEDED, result=result, progress=1.0)
            await self.backend.save(record)
            await self.backend.ack(delivery)
            TASKS.labels(record.kind, SUCCEEDED).inc()
            await self._tell("task.completed", record, duration_ms=round((time.perf_counter() - started) * 1000, 1))
        finally:
            IN_FLIGHT.dec()
            heartbeat.cancel()
            TASK_SECONDS.labels(record.kind).observe(time.perf_counter() - started)

    async def _call_handler(self, record: TaskRecord) -> Any:
        entry = self._handlers.get(record.kind)
        if entry is None:
            raise LookupError(f"no handler for tasks of kind '{record.kind}' on worker {self.consumer}")
        handler = entry[1]
        takes_job = len(inspect.signature(handler).parameters) >= 2
        return await (handler(record.task, TaskJob(self, record)) if takes_job else handler(record.task))

    async def _pass_on(self, record: TaskRecord, delivery: Any) -> None:
        """Leave a task this process has no handler for (yet: plugins start after the workers)."""
        await self.backend.requeue(delivery)
        log.debug("task %s (%s): no handler in this process, left for another worker", record.id, record.kind)
        await asyncio.sleep(PASS_ON_PAUSE_S)

    async def _hand_back(self, record: TaskRecord, delivery: Any) -> None:
        await self.backend.save(record)
        await self.backend.requeue(delivery)
        log.info("task %s (%s) handed back to the queue at shutdown", record.id, record.kind)

    async def _failed(self, record: TaskRecord, delivery: Any, error: BaseException) -> None:
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        if isinstance(error, TimeoutError):
            reason = f"the attempt took longer than {self._timeout_s:g} s (LUMINA_TASK_TIMEOUT)"
        if record.attempts < record.max_attempts:
            delay = self._backoff_s * 2 ** (record.attempts - 1)
            due = (datetime.now(UTC) + timedelta(seconds=delay)).isoformat(timespec="milliseconds")
            record.moved(RETRYING, error=reason, next_attempt_at=due.replace("+00:00", "Z"))
            await self.backend.save(record)
            await self.backend.retry_later(delivery, delay)
            TASKS.labels(record.kind, RETRYING).inc()
            log.warning("task %s (%s) attempt %d failed, retry in %.1f s: %s", record.id, record.kind, record.attempts, delay, reason)
            return
        record.moved(FAILED, error=reason)
        await self.backend.save(record)
        await self.backend.bury(delivery)
        TASKS.labels(record.kind, FAILED).inc()
        log.error("task %s (%s) failed after %d attempts, moved to dead letters: %s", record.id, record.kind, record.attempts, reason)
        await self._tell("task.failed", record)

    async def _keep_claim(self, delivery: Any) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s)
            try:
                await self.backend.heartbeat(delivery, self.consumer)
            except REDIS_DOWN:
                continue

    async def _tell(self, event_type: str, record: TaskRecord, **extra: Any) -> None:
        if self._announce is None:
            return
        payload = {"task_id": record.id, "kind": record.kind, "attempts": record.attempts, "owner": record.owner,
                   "error": record.error, **extra}
        try:
            await self._announce(event_type, payload)
        except Exception as exc:  # noqa: BLE001 - the task is done whether or not the event goes out
            log.warning("could not publish %s for task %s: %s", event_type, record.id, exc)

    # --- periodic jobs ---------------------------------------------------------------------------

    async def _run_schedule(self, name: str, schedule: CronSchedule, job: PeriodicJob) -> None:
        while True:
            slot = schedule.next_after(time.time())
            await asyncio.sleep(max(0.0, slot - time.time()))
            try:
                if not self._workers or not await self.backend.claim_slot(name, slot):
                    continue
            except REDIS_DOWN as exc:
                log.warning("periodic job %s skipped a run: Redis is unreachable (%s)", name, exc)
                continue
            await schedule.run(job, timeout_s=self._timeout_s)
