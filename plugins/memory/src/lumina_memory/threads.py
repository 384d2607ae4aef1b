"""Conversation threads and their messages, kept in the plugin's SQLite file (they survive restarts).

Every read and write names the owner: another user's thread answers exactly like a missing one.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from lumina_core.errors import NotFound
from lumina_memory.database import Database
from lumina_memory.memories import iso


class ThreadStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, *, user_id: str, brain_id: str, title: str, system_prompt: str | None) -> dict[str, Any]:
        now = iso(time.time())
        thread_id = str(uuid.uuid4())
        self._db.execute(
            "INSERT INTO threads (id, user_id, brain_id, title, system_prompt, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (thread_id, user_id, brain_id, title, system_prompt, now, now),
        )
        return self.get(user_id, thread_id)

    def get(self, user_id: str, thread_id: str) -> dict[str, Any]:
        row = self._db.one(
            "SELECT t.*, (SELECT COUNT(*) FROM messages m WHERE m.thread_id = t.id) AS message_count "
            "FROM threads t WHERE t.id = ? AND t.user_id = ?",
            (thread_id, user_id),
        )
        if row is None:
            raise NotFound(f"you have no thread with id '{thread_id}' (see GET /threads/user/{{your user id}})")
        return row

    def find(self, user_id: str, thread_id: str) -> dict[str, Any] | None:
        try:
            return self.get(user_id, thread_id)
        except NotFound:
            return None

    def of_user(self, user_id: str) -> list[dict[str, Any]]:
        return self._db.all(
            "SELECT t.*, (SELECT COUNT(*) FROM messages m WHERE m.thread_id = t.id) AS message_count "
            "FROM threads t WHERE t.user_id = ? ORDER BY t.updated_at DESC, t.created_at DESC",
            (user_id,),
        )

    def count(self, user_id: str, brain_id: str | None = None) -> int:
        if brain_id is None:
            row = self._db.one("SELECT COUNT(*) AS n FROM threads WHERE user_id = ?", (user_id,))
        else:
            row = self._db.one("SELECT COUNT(*) AS n FROM threads WHERE user_id = ? AND brain_id = ?", (user_id, brain_id))
        return int(row["n"]) if row else 0

    def brains(self, user_id: str) -> dict[str, int]:
        rows = self._db.all("SELECT brain_id, COUNT(*) AS n FROM threads WHERE user_id = ? GROUP BY brain_id", (user_id,))
        return {r["brain_id"]: r["n"] for r in rows}

    def messages(self, user_id: str, thread_id: str, limit: int) -> list[dict[str, Any]]:
        """The thread's last ``limit`` messages, oldest first."""
        self.get(user_id, thread_id)
        rows = self._db.all(
            "SELECT id, role, content, created_at FROM messages WHERE thread_id = ? ORDER BY seq DESC LIMIT ?",
            (thread_id, limit),
        )
        return rows[::-1]

    def append(self, user_id: str, thread_id: str, role: str, content: str) -> dict[str, Any]:
        self.get(user_id, thread_id)
        message = {"id": str(uuid.uuid4()), "role": role, "content": content, "created_at": iso(time.time())}
        self._db.execute(
            "INSERT INTO messages (id, thread_id, role, content, created_at) VALUES (?, ?, ?, ?, ?)",
            (message["id"], thread_id, role, content, message["created_at"]),
        )
        self._db.execute("UPDATE threads SET updated_at = ? WHERE id = ?", (message["created_at"], thread_id))
        return message

    def delete(self, user_id: str, thread_id: str) -> None:
        self.get(user_id, thread_id)
        self._db.execute("DELETE FROM threads WHERE id = ? AND user_id = ?", (thread_id, user_id))

    def delete_all(self, user_id: str) -> int:
        return self._db.execute("DELETE FROM threads WHERE user_id = ?", (user_id,))
