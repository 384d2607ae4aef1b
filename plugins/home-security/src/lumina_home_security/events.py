"""The motion event log: what moved, where, when and how much, with a thumbnail of the frame.

Events are rows in SQLite; each thumbnail is a small JPEG (the frame with the moving regions
framed in red) under ``thumbnails/<camera>/`` in the plugin's data folder, written atomically
before its row, so a listed event always has its picture.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lumina_core.storage import SQLiteFile
from lumina_home_security.motion import Box

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    camera_name TEXT NOT NULL,
    ts REAL NOT NULL,
    score REAL NOT NULL,
    boxes TEXT NOT NULL,
    armed INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    thumbnail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_owner_time ON events (owner, ts DESC);
"""


@dataclass(frozen=True)
class MotionEvent:
    id: str
    owner: str
    camera_id: str
    camera_name: str
    ts: float
    score: float
    boxes: tuple[Box, ...]
    armed: bool
    width: int
    height: int
    thumbnail: str

    @property
    def time(self) -> str:
        return iso(self.ts)

    @property
    def thumbnail_url(self) -> str:
        return f"/security/events/{self.id}/thumbnail"

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id, "camera": self.camera_id, "camera_name": self.camera_name, "time": self.time,
            "score": self.score, "boxes": [b.to_dict() for b in self.boxes], "armed": self.armed,
            "frame": {"width": self.width, "height": self.height}, "thumbnail_url": self.thumbnail_url,
        }


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EventLog:
    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._sql = SQLiteFile(folder / "events.sqlite3", SCHEMA)

    def add(self, *, owner: str, camera_id: str, camera_name: str, ts: float, score: float, boxes: tuple[Box, ...],
            armed: bool, size: tuple[int, int], thumbnail: bytes) -> MotionEvent:
        event_id = f"{int(ts * 1000):013d}-{secrets.token_hex(4)}"
        relative = f"thumbnails/{camera_id}/{event_id}.jpg"
        _write_atomically(self._folder / relative, thumbnail)
        event = MotionEvent(event_id, owner, camera_id, camera_name, ts, score, boxes, armed, size[0], size[1], relative)
        self._sql.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event.id, owner, camera_id, camera_name, ts, score, json.dumps([b.to_dict() for b in boxes]),
             int(armed), size[0], size[1], relative),
        )
        return event

    def page(self, owner: str, *, camera: str | None, since: float | None, until: float | None = None,
             limit: int, offset: int) -> tuple[list[MotionEvent], bool]:
        """Newest first; the events of one page, and whether more follow."""
        where, args = ["owner = ?"], [owner]
        if camera is not None:
            where.append("camera_id = ?")
            args.append(camera)
        if since is not None:
            where.append("ts >= ?")
            args.append(since)
        if until is not None:
            where.append("ts < ?")
            args.append(until)
        rows = self._sql.all(
            f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?",
            (*args, limit + 1, offset),
        )
        return [_event(row) for row in rows[:limit]], len(rows) > limit

    def get(self, owner: str, event_id: str) -> MotionEvent | None:
        row = self._sql.one("SELECT * FROM events WHERE id = ? AND owner = ?", (event_id, owner))
        return _event(row) if row else None

    def thumbnail_path(self, event: MotionEvent) -> Path:
        return self._folder / event.thumbnail

    def forget_before(self, ts: float) -> int:
        """Delete events older than ``ts`` and their thumbnails (retention)."""
        old = self._sql.all("SELECT thumbnail FROM events WHERE ts < ?", (ts,))
        for (relative,) in old:
            (self._folder / relative).unlink(missing_ok=True)
        return self._sql.execute("DELETE FROM events WHERE ts < ?", (ts,))

    def close(self) -> None:
        self._sql.close()


def _event(row: tuple[Any, ...]) -> MotionEvent:
    id_, owner, camera_id, name, ts, score, boxes, armed, width, height, thumbnail = row
    return MotionEvent(id_, owner, camera_id, name, ts, score, tuple(Box(**b) for b in json.loads(boxes)),
                       bool(armed), width, height, thumbnail)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


