"""``CRAWL_RATE_LIMIT`` across every worker process: one schedule of request slots on disk.

Each request takes the next free slot from a row in a SQLite file in the crawler's data folder
(``BEGIN IMMEDIATE`` serialises the workers), then sleeps until its slot. Workers sharing the data
folder therefore share one rate, however many there are, and a restarted worker keeps the pace.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Protocol


class Limiter(Protocol):
    async def acquire(self) -> None: ...


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
