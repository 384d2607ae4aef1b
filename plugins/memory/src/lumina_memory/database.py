"""The plugin's SQLite file (threads, messages, personas, memory history) in its data folder."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    brain_id TEXT NOT NULL,
    title TEXT NOT NULL,
    system_prompt TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS threads_by_user ON threads(user_id, updated_at);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    thread_id TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_thread ON messages(thread_id, seq);
CREATE TABLE IF NOT EXISTS personas (
    user_id TEXT NOT NULL,
    brain_id TEXT NOT NULL,
    facts TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, brain_id)
);
CREATE TABLE IF NOT EXISTS memory_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    memory_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    event TEXT NOT NULL,
    old_text TEXT,
    new_text TEXT,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS memory_events_by_memory ON memory_events(memory_id, seq);
CREATE TABLE IF NOT EXISTS brains (
    user_id TEXT NOT NULL,
    brain_id TEXT NOT NULL,
    PRIMARY KEY (user_id, brain_id)
);
"""


class Database:
    """One connection shared by the plugin's stores; each call holds a lock for microseconds."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def execute(self, query: str, arguments: Sequence[Any] = ()) -> int:
        with self._lock:
            return self._db.execute(query, arguments).rowcount

    def all(self, query: str, arguments: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cursor = self._db.execute(query, arguments)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]  # type: ignore[misc]

    def one(self, query: str, arguments: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.all(query, arguments)
        return rows[0] if rows else None

    def close(self) -> None:
        self._db.close()
