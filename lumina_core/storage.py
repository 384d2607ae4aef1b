"""A SQLite file that several threads (and processes) can share: the small stores of the host and plugins.

WAL journal, foreign keys enforced (SQLite leaves them off unless asked), one lock around the
connection, and a write transaction that takes the write lock up front (``BEGIN IMMEDIATE``),
so concurrent writers wait instead of failing half-way. And ``write_atomically`` for the small
files kept whole (which plugins are switched off, the llama.cpp probe's verdicts).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class SQLiteFile:
    """One SQLite database file, safe to use from several threads."""

    def __init__(self, path: Path, schema: str, *, rows_by_name: bool = False, timeout: float = 30.0) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=timeout, check_same_thread=False, isolation_level=None)
        if rows_by_name:
            self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(schema)

    def one(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """The first row of a query, or None."""
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def all(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """One statement, committed on its own; the number of rows it changed."""
        with self._lock:
            return self._db.execute(sql, args).rowcount

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on any error."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()


def write_atomically(path: Path, text: str | bytes) -> None:
    """Write ``text`` (or bytes) so that a crash leaves either the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text if isinstance(text, bytes) else text.encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
