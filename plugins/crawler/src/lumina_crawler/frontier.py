"""A crawl's frontier, persisted per task id, so a worker that dies mid-crawl resumes it.

Delivery of tasks is at least once: when a crawl task is delivered again (its worker was killed),
the new worker finds the titles already done and the ones still waiting here and goes on from
there, instead of starting over.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    title: str
    depth: int
    priority: float


class Frontier:
    """Titles to visit per crawl, with depth and priority; ``done`` once ingested."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS frontier (crawl TEXT NOT NULL, title TEXT NOT NULL, depth INTEGER NOT NULL, "
            "priority REAL NOT NULL, done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (crawl, title))"
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def started(self, crawl: str) -> bool:
        return self._scalar("SELECT COUNT(*) FROM frontier WHERE crawl = ?", (crawl,)) > 0

    def add(self, crawl: str, entries: Iterable[Entry]) -> None:
        """Queue titles not seen in this crawl yet (a title keeps its first, shallowest depth)."""
        with self._lock:
            self._db.executemany(
                "INSERT INTO frontier (crawl, title, depth, priority) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (crawl, title) DO UPDATE SET priority = MAX(priority, excluded.priority) WHERE done = 0",
                [(crawl, e.title, e.depth, e.priority) for e in entries],
            )

    def next(self, crawl: str, count: int) -> list[Entry]:
        """The ``count`` waiting titles with the highest priority."""
        with self._lock:
            rows = self._db.execute(
                "SELECT title, depth, priority FROM frontier WHERE crawl = ? AND done = 0 "
                "ORDER BY priority DESC, depth, title LIMIT ?",
                (crawl, count),
            ).fetchall()
        return [Entry(*row) for row in rows]

    def mark_done(self, crawl: str, titles: Iterable[str]) -> None:
        with self._lock:
            self._db.executemany("UPDATE frontier SET done = 1 WHERE crawl = ? AND title = ?", [(crawl, t) for t in titles])

    def done(self, crawl: str) -> int:
        return self._scalar("SELECT COUNT(*) FROM frontier WHERE crawl = ? AND done = 1", (crawl,))

    def waiting(self, crawl: str) -> int:
        return self._scalar("SELECT COUNT(*) FROM frontier WHERE crawl = ? AND done = 0", (crawl,))

    def _scalar(self, sql: str, args: tuple) -> int:
        with self._lock:
            return self._db.execute(sql, args).fetchone()[0]
