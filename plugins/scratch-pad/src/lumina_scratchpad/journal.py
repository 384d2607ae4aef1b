"""What the plugin has done, kept in SQLite under its data folder: the articles it reflected on
(how long it took, how many notes the model wrote), the notes it folded into the knowledge index,
and the dream cycles it ran. It feeds ``GET /scratchpad/stats``."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS articles (id TEXT PRIMARY KEY, title TEXT NOT NULL, reflected_at REAL NOT NULL, "
    " reflect_ms REAL NOT NULL, notes INTEGER NOT NULL, model_notes INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS folded (passage_article TEXT PRIMARY KEY, note_id TEXT NOT NULL, at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS dreams (at REAL NOT NULL, report TEXT NOT NULL)",
)


class Journal:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        for statement in _SCHEMA:
            self._db.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def reflected(self, article_id: str, title: str, *, at: float, ms: float, notes: int, model_notes: int) -> None:
        self._run("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                  "title = excluded.title, reflected_at = excluded.reflected_at, reflect_ms = excluded.reflect_ms, "
                  "notes = excluded.notes, model_notes = excluded.model_notes",
                  (article_id, title, at, ms, notes, model_notes))

    def folded(self, passage_article: str, note_id: str, at: float) -> None:
        self._run("INSERT OR IGNORE INTO folded VALUES (?, ?, ?)", (passage_article, note_id, at))

    def dreamt(self, report: dict[str, Any], at: float) -> None:
        self._run("INSERT INTO dreams VALUES (?, ?)", (at, json.dumps(report)))

    def summary(self) -> dict[str, Any]:
        [(articles, mean_ms, model_notes, notes)] = self._rows(
            "SELECT COUNT(*), AVG(reflect_ms), TOTAL(model_notes), TOTAL(notes) FROM articles", ())
        [(folded,)] = self._rows("SELECT COUNT(*) FROM folded", ())
        last = self._rows("SELECT report FROM dreams ORDER BY at DESC LIMIT 1", ())
        dream = json.loads(last[0][0]) if last else {}
        return {
            "articles_reflected": articles,
            "reflect_ms_mean": round(mean_ms or 0.0, 1),
            "model_note_share": round(model_notes / notes, 3) if notes else 0.0,
            "notes_folded": folded,
            "last_dream_at": dream.get("ran_at"),
            "last_dream_gaps_proposed": len(dream.get("gaps_proposed", [])),
            "last_dream_recrawls": len(dream.get("recrawl", {}).get("titles", [])),
        }

    def _run(self, sql: str, args: tuple) -> None:
        with self._lock:
            self._db.execute(sql, args)

    def _rows(self, sql: str, args: tuple) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()
