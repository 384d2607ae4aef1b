"""SQLiteFile: a small store several threads share, whose failed writes leave nothing behind."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lumina_core.storage import SQLiteFile

SCHEMA = "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);"


def test_a_failed_transaction_writes_nothing(tmp_path: Path) -> None:
    store = SQLiteFile(tmp_path / "s.sqlite3", SCHEMA)
    with pytest.raises(RuntimeError), store.transaction() as db:
        db.execute("INSERT INTO notes (text) VALUES ('half')")
        raise RuntimeError("crash mid-write")
    assert store.one("SELECT count(*) FROM notes") == (0,)


def test_writes_from_many_threads_all_land_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = SQLiteFile(path, SCHEMA)

    def write(n: int) -> None:
        with store.transaction() as db:
            db.execute("INSERT INTO notes (text) VALUES (?)", (f"note {n}",))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(200)))
    store.close()
    reopened = SQLiteFile(path, SCHEMA, rows_by_name=True)
    assert reopened.one("SELECT count(*) AS n FROM notes")["n"] == 200
    assert len(reopened.all("SELECT text FROM notes")) == 200
