"""The event log: every event this process publishes, in an embedded SQLite file, for SQL.

Writes are batched and done on a thread, so recording never slows ``publish``; readers (``lumina
events query``) open the file read-only, so a query can never change the log. SQLite's JSON
functions reach into payloads: ``json_extract(payload, '$.agent')``.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lumina_core.errors import ValidationFailed
from lumina_core.services.bus.events import Event

log = logging.getLogger("lumina.events.store")

FILE_NAME = "events.sqlite3"
FLUSH_EVERY_S = 0.2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    v INTEGER NOT NULL,
    ts TEXT NOT NULL,
    source TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_type_ts ON events (type, ts);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
"""


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=10, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.executescript(_SCHEMA)
    return connection


class EventStore:
    """Appends events in batches; ``flush`` waits until everything given so far is on disk."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / FILE_NAME
        self._connection = _connect(self.path)
        self._writing = threading.Lock()  # close() must not free the connection under a write
        self._pending: list[tuple[Any, ...]] = []
        self._flusher: asyncio.Task[None] | None = None

    def record(self, event: Event, payload_json: str) -> None:
        self._pending.append((event["id"], event["type"], event["v"], event["ts"], event["source"], payload_json))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_EVERY_S)
        await self.flush()

    async def flush(self) -> None:
        rows, self._pending = self._pending, []
        if rows:
            try:
                await asyncio.to_thread(self._write, rows)
            except sqlite3.Error as exc:
                log.error("could not record %d events in %s: %s", len(rows), self.path, exc)

    def _write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        with self._writing, self._connection:
            self._connection.executemany("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)

    async def close(self) -> None:
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
        await self.flush()
        await asyncio.to_thread(self._close_after_writes)  # a cancelled flusher's write may still run

    def _close_after_writes(self) -> None:
        with self._writing:
            self._connection.close()


def query(data_dir: Path, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one read-only SQL statement over the event log: (column names, rows)."""
    path = data_dir / FILE_NAME
    if not path.is_file():
        raise ValidationFailed(f"no events recorded yet: {path} does not exist (start lumina serve first)")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cursor = connection.execute(sql)
        columns = [d[0] for d in cursor.description or ()]
        return columns, cursor.fetchall()
    except sqlite3.Error as exc:
        raise ValidationFailed(f"the query failed: {exc} (the table is events(id, type, v, ts, source, payload))") from None
    finally:
        connection.close()
