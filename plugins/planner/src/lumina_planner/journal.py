"""The planner's journal: every decision with its reason, the crawls it asked for, its cycles.

One SQLite file in the plugin's data folder, shared by the server and every worker on that
folder. The crawls it asked for are its budget ledger (pages per hour) and its view of the crawl
queue (crawls not settled yet).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lumina_core.storage import SQLiteFile

HOUR = 3600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, cycle TEXT NOT NULL, action TEXT NOT NULL,
    gap_id TEXT, topic TEXT, reason TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS crawls (
    task_id TEXT PRIMARY KEY, gap_id TEXT NOT NULL, goal TEXT NOT NULL, titles TEXT NOT NULL,
    pages INTEGER NOT NULL, asked_at REAL NOT NULL, settled_at REAL);
CREATE INDEX IF NOT EXISTS crawls_open ON crawls (settled_at);
CREATE TABLE IF NOT EXISTS joined (
    task_id TEXT NOT NULL, gap_id TEXT NOT NULL, PRIMARY KEY (task_id, gap_id));
CREATE TABLE IF NOT EXISTS cycles (
    id TEXT PRIMARY KEY, trigger TEXT NOT NULL, started_at REAL NOT NULL, finished_at REAL, summary TEXT);
"""


@dataclass(frozen=True)
class CrawlAsked:
    task_id: str
    gap_id: str
    goal: str
    titles: tuple[str, ...]
    pages: int
    asked_at: float


class Journal:
    def __init__(self, path: Path) -> None:
        self._sql = SQLiteFile(path, _SCHEMA, rows_by_name=True)

    def close(self) -> None:
        self._sql.close()

    # --- decisions -------------------------------------------------------------------------

    def decide(self, cycle: str, action: str, reason: str, *, gap: Mapping[str, Any] | None = None,
               **detail: Any) -> dict[str, Any]:
        """Write down one decision (``planned``, ``skipped``, ``given_up``, ``budget_exhausted`` ...)."""
        at = time.time()
        gap_id, topic = (gap["id"], gap["topic"]) if gap else (None, None)
        with self._sql.transaction() as db:
            row_id = db.execute(
                "INSERT INTO decisions (at, cycle, action, gap_id, topic, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (at, cycle, action, gap_id, topic, reason, json.dumps(detail)),
            ).lastrowid
        return _decision({"id": row_id, "at": at, "cycle": cycle, "action": action, "gap_id": gap_id,
                          "topic": topic, "reason": reason, "detail": json.dumps(detail)})

    def decisions(self, *, after: int = 0, limit: int = 50, newest_first: bool = True) -> list[dict[str, Any]]:
        """Decisions with an id above ``after``; newest first for pages, oldest first for a tail."""
        order = "DESC" if newest_first else "ASC"
        rows = self._sql.all(f"SELECT * FROM decisions WHERE id > ? ORDER BY id {order} LIMIT ?", (after, limit))
        return [_decision(dict(r)) for r in rows]

    def decisions_before(self, before: int, limit: int) -> list[dict[str, Any]]:
        rows = self._sql.all("SELECT * FROM decisions WHERE id < ? ORDER BY id DESC LIMIT ?", (before, limit))
        return [_decision(dict(r)) for r in rows]

    # --- crawls asked for: the budget ledger and the queue ---------------------------------

    def crawl_asked(self, crawl: CrawlAsked) -> None:
        self._sql.execute(
            "INSERT OR REPLACE INTO crawls (task_id, gap_id, goal, titles, pages, asked_at) VALUES (?, ?, ?, ?, ?, ?)",
            (crawl.task_id, crawl.gap_id, crawl.goal, json.dumps(crawl.titles), crawl.pages, crawl.asked_at),
        )

    def join(self, task_id: str, gap_id: str) -> None:
        """Another gap waits on a crawl already asked for (its titles were being crawled)."""
        self._sql.execute("INSERT OR IGNORE INTO joined (task_id, gap_id) VALUES (?, ?)", (task_id, gap_id))

    def gaps_of(self, crawl: CrawlAsked) -> list[str]:
        """The gap a crawl was asked for, then the gaps that joined it."""
        rows = self._sql.all("SELECT gap_id FROM joined WHERE task_id = ? ORDER BY rowid", (crawl.task_id,))
        return [crawl.gap_id, *(r["gap_id"] for r in rows)]

    def crawl(self, task_id: str) -> CrawlAsked | None:
        row = self._sql.one("SELECT * FROM crawls WHERE task_id = ?", (task_id,))
        return _crawl(row) if row is not None else None

    def settle(self, task_id: str) -> bool:
        """Mark a crawl settled; False when it already was (another worker saw it first)."""
        return self._sql.execute("UPDATE crawls SET settled_at = ? WHERE task_id = ? AND settled_at IS NULL",
                                 (time.time(), task_id)) > 0

    def unsettled(self) -> list[CrawlAsked]:
        return [_crawl(r) for r in self._sql.all("SELECT * FROM crawls WHERE settled_at IS NULL ORDER BY asked_at")]

    def pages_asked(self, *, within_s: float = HOUR, goal: str | None = None) -> int:
        since = time.time() - within_s
        if goal is None:
            row = self._sql.one("SELECT COALESCE(SUM(pages), 0) FROM crawls WHERE asked_at >= ?", (since,))
        else:
            row = self._sql.one("SELECT COALESCE(SUM(pages), 0) FROM crawls WHERE asked_at >= ? AND goal = ?",
                                (since, goal))
        return int(row[0])

    def next_budget_slot(self, pages_needed: int, pages_per_hour: int) -> float | None:
        """When enough of the last hour's pages will have aged out to ask for ``pages_needed``."""
        rows = self._sql.all("SELECT asked_at, pages FROM crawls WHERE asked_at >= ? ORDER BY asked_at",
                             (time.time() - HOUR,))
        used = sum(r["pages"] for r in rows)
        for row in rows:
            used -= row["pages"]
            if used + pages_needed <= pages_per_hour:
                return row["asked_at"] + HOUR
        return None

    # --- cycles ----------------------------------------------------------------------------

    def cycle_started(self, cycle: str, trigger: str) -> None:
        self._sql.execute("INSERT INTO cycles (id, trigger, started_at) VALUES (?, ?, ?)", (cycle, trigger, time.time()))

    def cycle_finished(self, cycle: str, summary: Mapping[str, Any]) -> None:
        self._sql.execute("UPDATE cycles SET finished_at = ?, summary = ? WHERE id = ?",
                          (time.time(), json.dumps(summary), cycle))

    def last_cycle(self) -> dict[str, Any] | None:
        row = self._sql.one("SELECT * FROM cycles WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1")
        if row is None:
            return None
        return {"id": row["id"], "trigger": row["trigger"], "started_at": _iso(row["started_at"]),
                "finished_at": _iso(row["finished_at"]), "summary": json.loads(row["summary"] or "{}")}


def _decision(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": str(row["id"]), "at": _iso(row["at"]), "cycle": row["cycle"], "action": row["action"],
            "gap_id": row["gap_id"], "topic": row["topic"], "reason": row["reason"],
            "detail": json.loads(row["detail"])}


def _crawl(row: Any) -> CrawlAsked:
    return CrawlAsked(row["task_id"], row["gap_id"], row["goal"], tuple(json.loads(row["titles"])), row["pages"],
                      row["asked_at"])


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))

