"""``CRAWL_RATE_LIMIT`` across every worker: one schedule of evenly spaced request slots.

With Redis configured (``REDIS_URL``), the schedule lives there, through the core's
``rate_limits`` service (:meth:`wait_turn`): every worker on every machine using that Redis shares
one rate. Without it, the schedule is a row in a SQLite file in the crawler's data folder
(``BEGIN IMMEDIATE`` serialises the workers): workers sharing the data folder share one rate.
Either way each request takes the next free slot and sleeps until it, and a restarted worker
keeps the pace.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, Protocol

#: The schedule's name in the ``rate_limits`` service: one budget for the crawler, whatever the worker.
TURNS_KEY = "crawler"


class Limiter(Protocol):
    async def acquire(self) -> None: ...


def shared_limiter(rate_limits: Any, folder: Path, rate: float) -> Limiter:
    """Through Redis when the ``rate_limits`` service is shared by other processes, else on disk."""
    if rate_limits.shared:
        return ServiceLimiter(rate_limits, rate)
    return SharedRateLimiter(folder / "rate.sqlite", rate)


class ServiceLimiter:
    """At most ``rate`` acquisitions per second across every process sharing ``rate_limits``."""

    def __init__(self, rate_limits: Any, rate: float, *, key: str = TURNS_KEY) -> None:
        if rate <= 0:
            raise ValueError("CRAWL_RATE_LIMIT must be a positive number of requests per second")
        self._rate_limits, self._rate, self._key = rate_limits, rate, key

    async def acquire(self) -> None:
        await self._rate_limits.wait_turn(self._key, self._rate)


class SharedRateLimiter:
    """At most ``rate`` acquisitions per second across all processes using ``path``."""

    def __init__(self, path: Path, rate: float, *, key: str = "default") -> None:
        if rate <= 0:
            raise ValueError("CRAWL_RATE_LIMIT must be a positive number of requests per second")
        self._path, self._interval, self._key = Path(path), 1.0 / rate, key
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS slots (key TEXT PRIMARY KEY, next_at REAL NOT NULL)")

    async def acquire(self) -> None:
        slot = await asyncio.to_thread(self._reserve)
        delay = slot - time.time()
        if delay > 0:
            await asyncio.sleep(delay)

    def _reserve(self) -> float:
        """Take the next slot and move the schedule on by one interval; return the slot's time."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT next_at FROM slots WHERE key = ?", (self._key,)).fetchone()
            slot = max(time.time(), row[0] if row else 0.0)
            db.execute(
                "INSERT INTO slots (key, next_at) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET next_at = excluded.next_at",
                (self._key, slot + self._interval),
            )
            return slot

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self._path, timeout=30, isolation_level=None)) as db, db:
            yield db
