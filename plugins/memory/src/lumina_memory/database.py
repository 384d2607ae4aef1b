"""The plugin's SQLite file (threads, messages, personas, memory history) in its data folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lumina_core.storage import SQLiteFile

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


class Database(SQLiteFile):
    """The plugin's tables in one shared file; rows come back as dicts, ready for JSON."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA, rows_by_name=True)

    def all(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in super().all(sql, args)]

    def one(self, sql: str, args: Sequence[Any] = ()) -> dict[str, Any] | None:
        row = super().one(sql, args)
        return dict(row) if row is not None else None
