"""The library: what each user has put in (files and notes, by brain) and where each one stands.

One SQLite file holds a row per file or note (its state — queued, processing, ready, failed with
the reason — and its counts) and a row per brain (its settings); the bytes themselves are kept
under ``blobs/``, written whole before their row exists, so a task re-run after a crash always
finds what it must read. Every read takes the user's id: another user's file is simply not there.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from lumina_core.errors import ValidationFailed
from lumina_core.services.bus.events import now_iso
from lumina_core.storage import SQLiteFile, write_atomically

State = Literal["queued", "processing", "ready", "failed"]
QUEUED, PROCESSING, READY, FAILED = "queued", "processing", "ready", "failed"
STATES: tuple[State, ...] = (QUEUED, PROCESSING, READY, FAILED)
Kind = Literal["file", "note", "chat"]
BRAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, brain_id TEXT NOT NULL, kind TEXT NOT NULL,
    name TEXT NOT NULL, format TEXT NOT NULL, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL,
    state TEXT NOT NULL, reason TEXT, progress REAL NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0, passages INTEGER NOT NULL DEFAULT 0, parts INTEGER NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}', task_id TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, ready_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS files_content ON files (user_id, brain_id, sha256);
CREATE INDEX IF NOT EXISTS files_of_user ON files (user_id, created_at);
CREATE TABLE IF NOT EXISTS brains (
    user_id TEXT NOT NULL, brain_id TEXT NOT NULL, auto_save INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, brain_id)
);
"""
_COLUMNS = ("id", "user_id", "brain_id", "kind", "name", "format", "bytes", "sha256", "state", "reason", "progress",
            "pages", "passages", "parts", "metadata", "task_id", "created_at", "updated_at", "ready_at")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM files"
_CHANGEABLE = frozenset({"state", "reason", "progress", "pages", "passages", "parts", "task_id", "ready_at"})


def check_brain_id(brain_id: str, field: str = "brain_id") -> str:
    if not BRAIN_ID.match(brain_id or ""):
        raise ValidationFailed(f"brain_id {brain_id!r} is not valid: 1-64 letters, digits, '_', '.' or '-', "
                               "starting with a letter or digit (e.g. 'work')", field=field)
    return brain_id


def scope_name(user_id: str, brain_id: str) -> str:
    """The knowledge scope holding one user's brain: a hash, so no id can spell another's."""
    return "docs_" + hashlib.sha256(f"{user_id}\0{brain_id}".encode()).hexdigest()[:32]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Library:
    def __init__(self, folder: Path) -> None:
        self._blobs = folder / "blobs"
        self._blobs.mkdir(parents=True, exist_ok=True)
        self._sql = SQLiteFile(folder / "library.sqlite", _SCHEMA)

    def close(self) -> None:
        self._sql.close()

    # --- files and notes -----------------------------------------------------------------------

    def add(self, user_id: str, brain_id: str, *, kind: Kind, name: str, format: str, data: bytes,
            metadata: Mapping[str, Any] | None = None, state: State = QUEUED) -> tuple[dict[str, Any], bool]:
        """Store a new file (its bytes first); ``(record, False)``, or ``(the one already there,
        True)`` when the brain holds the same content already."""
        sha256 = content_hash(data)
        known = self._one("WHERE user_id = ? AND brain_id = ? AND sha256 = ?", (user_id, brain_id, sha256))
        if known is not None:
            return known, True
        file_id = uuid.uuid4().hex
        write_atomically(self._blobs / file_id, data)  # whole, before its row exists
        now = now_iso()
        try:
            with self._sql.transaction() as db:
                db.execute("INSERT OR IGNORE INTO brains (user_id, brain_id, created_at) VALUES (?, ?, ?)",
                           (user_id, brain_id, now))
                db.execute(
                    "INSERT INTO files (id, user_id, brain_id, kind, name, format, bytes, sha256, state, metadata, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (file_id, user_id, brain_id, kind, name, format, len(data), sha256, state,
                     json.dumps(dict(metadata or {})), now, now))
        except sqlite3.IntegrityError:  # the same content arrived at the same moment
            (self._blobs / file_id).unlink(missing_ok=True)
            return self.add(user_id, brain_id, kind=kind, name=name, format=format, data=data, metadata=metadata,
                            state=state)
        return self._one("WHERE id = ?", (file_id,)) or {}, False

    def get(self, user_id: str, file_id: str) -> dict[str, Any] | None:
        return self._one("WHERE id = ? AND user_id = ?", (file_id, user_id))

    def blob(self, file_id: str) -> bytes:
        return (self._blobs / file_id).read_bytes()

    def move(self, file_id: str, **changes: Any) -> None:
        """Change a file's state or counts (only the columns the ingestion owns)."""
        unknown = set(changes) - _CHANGEABLE
        if unknown:
            raise ValueError(f"not a changeable column: {sorted(unknown)}")
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self._sql.execute(f"UPDATE files SET {assignments}, updated_at = ? WHERE id = ?",
                          (*changes.values(), now_iso(), file_id))

    def listed(self, user_id: str, *, brain_id: str | None, state: str | None, kind: str | None,
               offset: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """A page of the user's files, newest first, and whether more follow."""
        where, args = self._filters(user_id, brain_id=brain_id, state=state, kind=kind)
        rows = self._all(f"WHERE {where} ORDER BY created_at DESC, id LIMIT ? OFFSET ?", (*args, limit + 1, offset))
        return rows[:limit], len(rows) > limit

    def of_brain(self, user_id: str, brain_id: str) -> list[dict[str, Any]]:
        return self._all("WHERE user_id = ? AND brain_id = ?", (user_id, brain_id))

    def delete(self, user_id: str, file_id: str) -> dict[str, Any] | None:
        """Forget a file and its bytes; the record it had, or None when the user has no such file."""
        record = self.get(user_id, file_id)
        if record is None:
            return None
        self._sql.execute("DELETE FROM files WHERE id = ? AND user_id = ?", (file_id, user_id))
        (self._blobs / file_id).unlink(missing_ok=True)
        return record

    def used_bytes(self, user_id: str) -> int:
        return self._sql.one("SELECT COALESCE(SUM(bytes), 0) FROM files WHERE user_id = ?", (user_id,))[0]

    def stats(self, user_id: str) -> dict[str, int]:
        """Flat counts (the dashboard shows one line each): files by state, bytes, pages, passages."""
        rows = self._sql.all(
            "SELECT state, COUNT(*), COALESCE(SUM(bytes), 0), COALESCE(SUM(pages), 0), COALESCE(SUM(passages), 0) "
            "FROM files WHERE user_id = ? GROUP BY state", (user_id,))
        by_state = {state: 0 for state in STATES} | {row[0]: row[1] for row in rows}
        return {"files": sum(by_state.values()), **by_state, "bytes": sum(r[2] for r in rows),
                "pages": sum(r[3] for r in rows), "passages": sum(r[4] for r in rows),
                "brains": len(self.brains(user_id))}

    # --- brains ----------------------------------------------------------------------------------

    def brains(self, user_id: str) -> list[dict[str, Any]]:
        """The user's brains with what each holds."""
        rows = self._sql.all(
            "SELECT b.brain_id, b.auto_save, b.created_at, COUNT(f.id), COALESCE(SUM(f.bytes), 0), "
            "COALESCE(SUM(f.passages), 0) FROM brains b LEFT JOIN files f "
            "ON f.user_id = b.user_id AND f.brain_id = b.brain_id WHERE b.user_id = ? "
            "GROUP BY b.brain_id ORDER BY b.brain_id", (user_id,))
        return [{"id": r[0], "auto_save": bool(r[1]), "created_at": r[2], "files": r[3], "bytes": r[4],
                 "passages": r[5]} for r in rows]

    def brain(self, user_id: str, brain_id: str) -> dict[str, Any] | None:
        return next((b for b in self.brains(user_id) if b["id"] == brain_id), None)

    def set_auto_save(self, user_id: str, brain_id: str, auto_save: bool) -> dict[str, Any]:
        self._sql.execute(
            "INSERT INTO brains (user_id, brain_id, auto_save, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id, brain_id) DO UPDATE SET auto_save = excluded.auto_save",
            (user_id, brain_id, int(auto_save), now_iso()))
        return self.brain(user_id, brain_id) or {}

    def auto_saves(self, user_id: str, brain_id: str) -> bool:
        row = self._sql.one("SELECT auto_save FROM brains WHERE user_id = ? AND brain_id = ?", (user_id, brain_id))
        return bool(row and row[0])

    def forget_brain(self, user_id: str, brain_id: str) -> list[dict[str, Any]]:
        """Delete a brain's row and its files' rows and bytes; return the files it held."""
        files = self.of_brain(user_id, brain_id)
        with self._sql.transaction() as db:
            db.execute("DELETE FROM files WHERE user_id = ? AND brain_id = ?", (user_id, brain_id))
            db.execute("DELETE FROM brains WHERE user_id = ? AND brain_id = ?", (user_id, brain_id))
        for record in files:
            (self._blobs / record["id"]).unlink(missing_ok=True)
        return files

    # --- rows ------------------------------------------------------------------------------------

    @staticmethod
    def _filters(user_id: str, **equal: str | None) -> tuple[str, tuple[Any, ...]]:
        chosen = {column: value for column, value in equal.items() if value is not None}
        where = " AND ".join(["user_id = ?", *(f"{column} = ?" for column in chosen)])
        return where, (user_id, *chosen.values())

    def _one(self, where: str, args: tuple[Any, ...]) -> dict[str, Any] | None:
        row = self._sql.one(f"{_SELECT} {where}", args)
        return _record(row) if row else None

    def _all(self, where: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        return [_record(row) for row in self._sql.all(f"{_SELECT} {where}", args)]


def _record(row: tuple[Any, ...]) -> dict[str, Any]:
    record = dict(zip(_COLUMNS, row, strict=True))
    record["metadata"] = json.loads(record["metadata"])
    return record
