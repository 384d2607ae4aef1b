"""The trainer's SQLite file: turns seen, feedback, silver answers, datasets, runs and adapter versions."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lumina_core.storage import SQLiteFile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    turn_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    messages TEXT NOT NULL,
    reply TEXT NOT NULL,
    model TEXT NOT NULL,
    confidence REAL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_by_user ON turns(user_id, created_at);
CREATE TABLE IF NOT EXISTS feedback (
    turn_id TEXT PRIMARY KEY REFERENCES turns(turn_id) ON DELETE CASCADE,
    rating INTEGER NOT NULL,
    correction TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS silver (
    user_id TEXT NOT NULL,
    question_key TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    cite_ids TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (user_id, question_key)
);
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    version INTEGER NOT NULL,
    path TEXT NOT NULL,
    digest TEXT NOT NULL,
    counts TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (owner, version)
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    dataset_id TEXT NOT NULL REFERENCES datasets(id),
    params TEXT NOT NULL,
    state TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    loss REAL,
    task_id TEXT,
    adapter_version INTEGER,
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_user ON runs(user_id, created_at);
CREATE TABLE IF NOT EXISTS adapters (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    status TEXT NOT NULL,
    figures TEXT NOT NULL,
    path TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS activations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    version INTEGER,
    by_user TEXT NOT NULL,
    at REAL NOT NULL
);
"""


class Database(SQLiteFile):
    """The plugin's tables in one file; rows come back as dicts."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA, rows_by_name=True)

    def all(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in super().all(sql, args)]

    def one(self, sql: str, args: Sequence[Any] = ()) -> dict[str, Any] | None:
        row = super().one(sql, args)
        return dict(row) if row is not None else None


def now() -> float:
    return time.time()


def iso(timestamp: float) -> str:
    """A stored epoch time as the API shows it: ISO 8601 in UTC with ``Z``."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
