"""Knowledge gaps: what the knowledge base does not know yet, kept as work for the planner.

A gap is a topic with the evidence behind it (the questions asked, the graph nodes seen), a
score (how badly it is not known, 0..1), first/last seen, a hit count and a state:

``open`` → ``planned`` → ``crawling`` → ``filled`` (naming the passages that fill it), or back to
``open`` with a backoff when a crawl found nothing, and ``given_up`` after too many tries.

Every change of state keeps its reason in the gap's history. The same topic seen again (case and
spacing aside) is one gap with one more hit, not a second gap. Gaps belong to the user who asked;
gaps the system finds itself (stale articles, weak graph regions, reflection) have no user and
every user sees them. SQLite, shared by every process on the data folder (the planner claims a gap
with a conditional update, so two workers never plan the same gap).
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final, Literal

from lumina_core.errors import ValidationFailed
from lumina_core.storage import SQLiteFile

GapState = Literal["open", "planned", "crawling", "filled", "given_up"]
STATES: Final = ("open", "planned", "crawling", "filled", "given_up")
#: Where a gap comes from: an unanswered question, an answer given with low confidence, a question
#: term no graph node matches, a weakly linked region of the graph, an article older than
#: RECRAWL_DAYS, an open question written by reflection.
SOURCES: Final = ("question", "low_confidence", "unmatched_term", "weak_region", "stale", "reflection")
_BY_TOPIC = "user_id = ? AND normalised = ?"
MAX_EVIDENCE = 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS knowledge_gaps (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, topic TEXT NOT NULL, normalised TEXT NOT NULL,
    source TEXT NOT NULL, score REAL NOT NULL, rank REAL NOT NULL, confidence REAL, reason TEXT NOT NULL,
    evidence TEXT NOT NULL, hits INTEGER NOT NULL, state TEXT NOT NULL, history TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, retry_at REAL NOT NULL DEFAULT 0, filled_by TEXT NOT NULL DEFAULT '[]',
    first_seen REAL NOT NULL, last_seen REAL NOT NULL, updated_at REAL NOT NULL,
    UNIQUE (user_id, normalised));
CREATE INDEX IF NOT EXISTS knowledge_gaps_state ON knowledge_gaps (state, retry_at);
"""


class GapStore:
    def __init__(self, path: Path) -> None:
        self._sql = SQLiteFile(path, _SCHEMA, rows_by_name=True)
        self._adopt_v1_rows()

    def close(self) -> None:
        self._sql.close()

    # --- writing ---------------------------------------------------------------------------

    def record(self, topic: str, *, user_id: str, reason: str, source: str = "question",
               confidence: float | None = None, evidence: Iterable[str] = (), score: float | None = None) -> dict[str, Any]:
        """Add a gap, or count one more hit on the same topic (and merge its evidence).

        A ``filled`` gap opens again when its question is declined again: what the planner
        found was not enough. A ``given_up`` gap stays so (its hits still count).
        """
        topic = " ".join(topic.split())
        if not topic:
            raise ValidationFailed("a gap needs a topic: the question or title not known", field="topic")
        if source not in SOURCES:
            raise ValidationFailed(f"unknown gap source '{source}'; one of {', '.join(SOURCES)}", field="source")
        score = _score(score, confidence)
        now, normalised = time.time(), topic.lower()
        with self._sql.transaction() as db:
            row = db.execute(f"SELECT * FROM knowledge_gaps WHERE {_BY_TOPIC}", (user_id, normalised)).fetchone()
            if row is None:
                history = [_change("open", reason, now)]
                first = [*evidence, topic] if source in ("question", "low_confidence") else evidence
                db.execute(
                    "INSERT INTO knowledge_gaps (id, user_id, topic, normalised, source, score, rank, confidence, "
                    "reason, evidence, hits, state, history, first_seen, last_seen, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'open', ?, ?, ?, ?)",
                    (uuid.uuid4().hex, user_id, topic, normalised, source, score, rank(score, 1), confidence, reason,
                     json.dumps(_merged([], first)), json.dumps(history), now, now, now),
                )
            else:
                reopen = row["state"] == "filled" and source == "question"
                history = json.loads(row["history"]) + ([_change("open", f"met again: {reason}", now)] if reopen else [])
                score = max(score, row["score"])
                db.execute(
                    "UPDATE knowledge_gaps SET hits = hits + 1, last_seen = ?, updated_at = ?, score = ?, rank = ?, "
                    "confidence = COALESCE(?, confidence), reason = ?, evidence = ?, history = ?, state = ?, "
                    "attempts = CASE WHEN ? THEN 0 ELSE attempts END WHERE id = ?",
                    (now, now, score, rank(score, row["hits"] + 1), confidence, reason,
                     json.dumps(_merged(json.loads(row["evidence"]), evidence)), json.dumps(history),
                     "open" if reopen else row["state"], reopen, row["id"]),
                )
            return _gap(db.execute(f"SELECT * FROM knowledge_gaps WHERE {_BY_TOPIC}", (user_id, normalised)).fetchone())

    def move(self, gap_id: str, state: GapState, reason: str, *, expect: Sequence[GapState] | None = None,
             retry_at: float | None = None, filled_by: Sequence[str] | None = None,
             attempted: bool = False) -> dict[str, Any] | None:
        """Change a gap's state with its reason; with ``expect``, only from one of those states.

        Returns the changed gap, or None when it is gone or was not in an expected state (another
        worker claimed it first): the conditional update is the claim.
        """
        if state not in STATES:
            raise ValidationFailed(f"unknown gap state '{state}'; one of {', '.join(STATES)}", field="state")
        now = time.time()
        allowed = tuple(expect or STATES)
        with self._sql.transaction() as db:
            row = db.execute("SELECT * FROM knowledge_gaps WHERE id = ?", (gap_id,)).fetchone()
            if row is None or row["state"] not in allowed:
                return None
            history = json.loads(row["history"]) + [_change(state, reason, now)]
            db.execute(
                "UPDATE knowledge_gaps SET state = ?, history = ?, updated_at = ?, retry_at = COALESCE(?, retry_at), "
                "filled_by = COALESCE(?, filled_by), attempts = attempts + ? WHERE id = ?",
                (state, json.dumps(history), now, retry_at, json.dumps(list(filled_by)) if filled_by is not None else None,
                 int(attempted), gap_id),
            )
            return _gap(db.execute("SELECT * FROM knowledge_gaps WHERE id = ?", (gap_id,)).fetchone())

    def delete(self, gap_id: str, *, user_id: str | None) -> bool:
        """Dismiss a gap; ``user_id`` None (an admin) may dismiss any, a user only their own."""
        if user_id is None:
            return self._sql.execute("DELETE FROM knowledge_gaps WHERE id = ?", (gap_id,)) > 0
        return self._sql.execute("DELETE FROM knowledge_gaps WHERE id = ? AND user_id = ?", (gap_id, user_id)) > 0

    # --- reading ---------------------------------------------------------------------------

    def get(self, gap_id: str) -> dict[str, Any] | None:
        row = self._sql.one("SELECT * FROM knowledge_gaps WHERE id = ?", (gap_id,))
        return _gap(row) if row is not None else None

    def find(self, topic: str, *, user_id: str) -> dict[str, Any] | None:
        """The gap on this topic (case and spacing aside) of this user, or None."""
        row = self._sql.one(f"SELECT * FROM knowledge_gaps WHERE {_BY_TOPIC}", (user_id, " ".join(topic.split()).lower()))
        return _gap(row) if row is not None else None

    def ranked(self, *, user_id: str | None = None, state: str | None = None, due_before: float | None = None,
               since: float | None = None, offset: int = 0, limit: int = 50) -> list[dict[str, Any]]:
        """Gaps best first; ``user_id`` shows that user's and the system's gaps (None: all).

        ``due_before``: only gaps whose retry time has come; ``since``: seen since then.
        """
        where, params = self._filters(user_id, state, due_before, since)
        rows = self._sql.all(f"SELECT * FROM knowledge_gaps {where} ORDER BY rank DESC, last_seen DESC LIMIT ? OFFSET ?",
                             (*params, limit, offset))
        return [_gap(r) for r in rows]

    def count(self, *, user_id: str | None = None, state: str | None = None) -> int:
        where, params = self._filters(user_id, state, None, None)
        return self._sql.one(f"SELECT COUNT(*) FROM knowledge_gaps {where}", params)[0]

    def counts_by_state(self) -> dict[str, int]:
        rows = self._sql.all("SELECT state, COUNT(*) FROM knowledge_gaps GROUP BY state")
        return {state: 0 for state in STATES} | {row[0]: row[1] for row in rows}

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _filters(user_id: str | None, state: str | None, due_before: float | None,
                 since: float | None) -> tuple[str, tuple[Any, ...]]:
        if state is not None and state not in STATES:
            raise ValidationFailed(f"unknown gap state '{state}'; one of {', '.join(STATES)}", field="state")
        clauses: list[str] = []
        params: list[Any] = []
        for clause, value, wanted in (("user_id IN (?, '')", user_id, user_id is not None),
                                      ("state = ?", state, state is not None),
                                      ("retry_at <= ?", due_before, due_before is not None),
                                      ("last_seen >= ?", since, since is not None)):
            if wanted:
                clauses.append(clause)
                params.append(value)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", tuple(params)

    def _adopt_v1_rows(self) -> None:
        """Gaps recorded before gaps had states (table ``gaps``) become open question gaps, once."""
        with self._sql.transaction() as db:
            if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'gaps'").fetchone():
                return
            for row in db.execute("SELECT * FROM gaps").fetchall():
                history = json.dumps([_change("open", row["reason"], row["created_at"])])
                score = 1 - row["confidence"]
                db.execute(
                    "INSERT OR IGNORE INTO knowledge_gaps (id, user_id, topic, normalised, source, score, rank, "
                    "confidence, reason, evidence, hits, state, history, first_seen, last_seen, updated_at) "
                    "VALUES (?, ?, ?, ?, 'question', ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)",
                    (row["id"], row["user_id"], row["question"], row["normalised"], score, rank(score, row["asked"]),
                     row["confidence"], row["reason"], json.dumps([row["question"]]), row["asked"], history,
                     row["created_at"], row["last_asked_at"], row["last_asked_at"]),
                )
            db.execute("DROP TABLE gaps")


def rank(score: float, hits: int) -> float:
    """How much a gap is worth filling: how badly it is not known, times how often it was met."""
    return score * (1 + math.log(hits))


def _score(score: float | None, confidence: float | None) -> float:
    """How badly the topic is not known: given, or 1 - the confidence of the answer tried."""
    value = score if score is not None else 1.0 - (confidence or 0.0)
    return min(1.0, max(0.0, float(value)))


def _merged(evidence: list[str], more: Iterable[str]) -> list[str]:
    for item in more:
        if item and item not in evidence:
            evidence.append(item)
    return evidence[-MAX_EVIDENCE:]


def _change(state: str, reason: str, at: float) -> dict[str, Any]:
    return {"state": state, "reason": reason, "at": _iso(at)}


def _gap(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "topic": row["topic"],
        "source": row["source"],
        "user_id": row["user_id"] or None,
        "score": round(row["score"], 4),
        "rank": round(row["rank"], 4),
        "confidence": None if row["confidence"] is None else round(row["confidence"], 4),
        "reason": row["reason"],
        "evidence": json.loads(row["evidence"]),
        "hits": row["hits"],
        "state": row["state"],
        "history": json.loads(row["history"]),
        "attempts": row["attempts"],
        "retry_at": _iso(row["retry_at"]) if row["retry_at"] else None,
        "filled_by": json.loads(row["filled_by"]),
        "first_seen": _iso(row["first_seen"]),
        "last_seen": _iso(row["last_seen"]),
    }


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
