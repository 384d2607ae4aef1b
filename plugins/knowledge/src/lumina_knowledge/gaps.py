"""Knowledge gaps: questions the knowledge base could not answer, kept for the planner."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any


class GapStore:
    """Gaps in SQLite, newest first; the same question asked again counts up, not twice."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS gaps (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, question TEXT NOT NULL, "
            "normalised TEXT NOT NULL, confidence REAL NOT NULL, reason TEXT NOT NULL, asked INTEGER NOT NULL, "
            "created_at REAL NOT NULL, last_asked_at REAL NOT NULL, UNIQUE (user_id, normalised))"
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record(self, question: str, *, user_id: str, confidence: float, reason: str) -> dict[str, Any]:
        now = time.time()
        normalised = " ".join(question.lower().split())
        with self._lock:
            self._db.execute(
                "INSERT INTO gaps VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (user_id, normalised) DO UPDATE SET "
                "asked = asked + 1, last_asked_at = excluded.last_asked_at, confidence = excluded.confidence, "
                "reason = excluded.reason",
                (uuid.uuid4().hex, user_id, question, normalised, confidence, reason, now, now),
            )
            row = self._db.execute(
                "SELECT * FROM gaps WHERE user_id = ? AND normalised = ?", (user_id, normalised)
            ).fetchone()
        return _gap(row)

    def recent(self, *, user_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM gaps WHERE user_id = ? ORDER BY last_asked_at DESC LIMIT ? OFFSET ?",
                (user_id, limit, offset),
            ).fetchall()
        return [_gap(r) for r in rows]

    def count(self, *, user_id: str) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM gaps WHERE user_id = ?", (user_id,)).fetchone()[0]


def _gap(row: tuple) -> dict[str, Any]:
    gap_id, _user, question, _norm, confidence, reason, asked, created, last = row
    return {
        "id": gap_id,
        "question": question,
        "confidence": round(confidence, 4),
        "reason": reason,
        "asked": asked,
        "created_at": _iso(created),
        "last_asked_at": _iso(last),
    }


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
