"""Training samples: finished turns the model was unsure of, and the feedback users give.

Every turn is kept for ``TRAIN_MAX_AGE`` days, so feedback can name it by ``turn_id``. A turn
becomes a sample when it has a target: the user's correction, or the reply itself when the user
rated it good. A weak turn (confidence below ``TRAIN_MIN_CONF``, or rated bad) without a
correction stays a candidate, counted so a user sees what is waiting for a correction.

wiki_qa answers whose every cite resolves to a stored passage are *silver* samples: the answer is
the target, marked ``source: silver`` so it is told apart from the gold ones (a correction, an
answer rated good); one per user and question (the latest answer), kept ``TRAIN_MAX_AGE`` days.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from lumina_core.contract import ChatTurn
from lumina_core.errors import NotFound
from lumina_trainer.database import Database, now

DAY = 86_400.0
#: Ratings run from 1 (wrong) to 5 (right): at most WEAK_RATING is weak, at least GOOD_RATING good.
WEAK_RATING, GOOD_RATING = 2, 4
Source = Literal["correction", "endorsed", "silver"]


@dataclass(frozen=True)
class Sample:
    """One chat-format training example: the conversation, then the answer it should have had."""

    user_id: str
    turn_id: str
    messages: tuple[dict[str, str], ...]
    target: str
    source: Source

    def chat(self) -> dict[str, Any]:
        """The JSONL line: OpenAI's chat fine-tuning format plus where the target came from."""
        return {"messages": [*self.messages, {"role": "assistant", "content": self.target}],
                "source": self.source, "turn_id": self.turn_id}


class SampleBook:
    def __init__(self, db: Database, *, min_conf: float, max_age_days: float) -> None:
        self._db, self._min_conf, self._max_age = db, min_conf, max_age_days * DAY

    def record_turn(self, turn: ChatTurn, confidence: float | None) -> None:
        """Keep a finished turn (its conversation without the system prompt, its reply)."""
        messages = [{"role": m.role, "content": m.content} for m in turn.request.messages if m.role in ("user", "assistant")]
        if not messages or messages[-1]["role"] != "user" or not turn.reply.strip():
            return
        self._db.execute(
            "INSERT OR REPLACE INTO turns (turn_id, user_id, messages, reply, model, confidence, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (turn.turn_id, turn.request.user_id, json.dumps(messages), turn.reply, turn.model, confidence,
             _timestamp(turn.created_at)),
        )

    def give_feedback(self, user_id: str, turn_id: str, rating: int, correction: str | None) -> dict[str, Any]:
        """Rate one of the user's own recent turns; another user's turn is not found."""
        turn = self._db.one("SELECT * FROM turns WHERE turn_id = ? AND user_id = ? AND created_at >= ?",
                            (turn_id, user_id, self._oldest()))
        if turn is None:
            days = self._max_age / DAY
            raise NotFound(f"no turn '{turn_id}' of yours from the last {days:g} days (TRAIN_MAX_AGE): "
                           "use the turn_id a chat reply carries", field="turn_id")
        self._db.execute("INSERT OR REPLACE INTO feedback (turn_id, rating, correction, created_at) VALUES (?, ?, ?, ?)",
                         (turn_id, rating, correction, now()))
        sample = _sample(turn | {"rating": rating, "correction": correction})
        return {"turn_id": turn_id, "rating": rating, "correction": correction,
                "sample": sample.source if sample else None}

    def add_silver(self, user_id: str, question: str, answer: str, cite_ids: Sequence[str]) -> None:
        """Keep a wiki_qa answer whose cites were checked to resolve (the caller checks them)."""
        self._db.execute(
            "INSERT OR REPLACE INTO silver (user_id, question_key, question, answer, cite_ids, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, " ".join(question.lower().split()), question, answer, json.dumps(list(cite_ids)), now()))

    def samples(self, user_id: str | None) -> list[Sample]:
        """Every sample younger than TRAIN_MAX_AGE, gold first (a duplicate silver one then
        yields to it): one user's, or everybody's (``None``)."""
        gold = [s for s in map(_sample, self._rows(user_id)) if s is not None]
        return gold + self._silver(user_id)

    def counts(self, user_id: str | None) -> dict[str, int]:
        """Turns kept, samples by source, and weak turns still waiting for a correction."""
        rows = self._rows(user_id)
        sources = [s.source for s in map(_sample, rows) if s is not None]
        waiting = sum(1 for row in rows if _sample(row) is None and self._weak(row))
        return {"turns": len(rows), "corrections": sources.count("correction"), "endorsed": sources.count("endorsed"),
                "silver": len(self._silver(user_id)), "awaiting_correction": waiting}

    def forget_old(self) -> int:
        """Drop turns (and their feedback) and silver answers older than TRAIN_MAX_AGE."""
        self._db.execute("DELETE FROM silver WHERE created_at < ?", (self._oldest(),))
        return self._db.execute("DELETE FROM turns WHERE created_at < ?", (self._oldest(),))

    def _silver(self, user_id: str | None) -> list[Sample]:
        recent, args = self._recent("", user_id)
        rows = self._db.all(f"SELECT * FROM silver WHERE {recent} ORDER BY created_at, question_key", args)
        return [Sample(row["user_id"], "", ({"role": "user", "content": row["question"]},), row["answer"], "silver")
                for row in rows]

    def _rows(self, user_id: str | None) -> list[dict[str, Any]]:
        recent, args = self._recent("t.", user_id)
        return self._db.all(
            "SELECT t.*, f.rating, f.correction FROM turns t LEFT JOIN feedback f ON f.turn_id = t.turn_id "
            f"WHERE {recent} ORDER BY t.created_at, t.turn_id", args)

    def _weak(self, row: dict[str, Any]) -> bool:
        rated_weak = row["rating"] is not None and row["rating"] <= WEAK_RATING
        unsure = row["confidence"] is not None and row["confidence"] < self._min_conf
        return rated_weak or unsure

    def _recent(self, table: str, user_id: str | None) -> tuple[str, Sequence[Any]]:
        """The WHERE clause for rows younger than TRAIN_MAX_AGE, of one user or everybody's."""
        if user_id is None:
            return f"{table}created_at >= ?", (self._oldest(),)
        return f"{table}created_at >= ? AND {table}user_id = ?", (self._oldest(), user_id)

    def _oldest(self) -> float:
        return now() - self._max_age


def _sample(row: dict[str, Any]) -> Sample | None:
    correction = (row.get("correction") or "").strip()
    if correction:
        target, source = correction, "correction"
    elif row.get("rating") is not None and row["rating"] >= GOOD_RATING:
        target, source = row["reply"], "endorsed"
    else:
        return None
    return Sample(row["user_id"], row["turn_id"], tuple(json.loads(row["messages"])), target, source)


def _timestamp(created_at: str) -> float:
    """When the turn finished (the pipeline's ISO time), or now when it does not say."""
    try:
        return datetime.fromisoformat(created_at).timestamp()
    except ValueError:
        return now()
