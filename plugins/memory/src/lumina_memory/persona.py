"""A persona per user and brain: what the user has said about themselves, kept up to date.

After each turn, the user's own first-person statements ("I work as ...", "my name is ...",
"I prefer ...") become facts; the newest wording of a fact wins and only the latest
``max_facts`` are kept. The persona joins the context of every chat of that user and brain.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from lumina_memory.database import Database
from lumina_memory.memories import iso

_SELF_STATEMENT = re.compile(
    r"\b(i am|i'm|i work|i live|i like|i love|i prefer|i hate|i don't like|i do not like|i have|i use|"
    r"my name is|call me|my favou?rite|my (?:wife|husband|partner|son|daughter|dog|cat|job|team))\b",
    re.IGNORECASE,
)
_QUESTION = re.compile(r"\?\s*$")
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
MAX_FACT_LENGTH = 200


def self_statements(text: str) -> list[str]:
    """The sentences of ``text`` in which the user says something about themselves (not questions)."""
    found = []
    for sentence in _SENTENCES.split(text):
        sentence = sentence.strip()
        if sentence and len(sentence) <= MAX_FACT_LENGTH and _SELF_STATEMENT.search(sentence) and not _QUESTION.search(sentence):
            found.append(sentence.rstrip(".!"))
    return found


class PersonaBook:
    def __init__(self, db: Database, max_facts: int) -> None:
        self._db = db
        self._max_facts = max_facts

    def facts(self, user_id: str, brain_id: str) -> list[str]:
        row = self._db.one("SELECT facts FROM personas WHERE user_id = ? AND brain_id = ?", (user_id, brain_id))
        return json.loads(row["facts"]) if row else []

    def learn(self, user_id: str, brain_id: str, user_text: str) -> bool:
        """Add the self-statements of ``user_text``; True when the persona changed."""
        new = self_statements(user_text)
        if not new or self._max_facts == 0:
            return False
        known = [f for f in self.facts(user_id, brain_id) if f.lower() not in {n.lower() for n in new}]
        facts = (known + new)[-self._max_facts :]
        self._db.execute(
            "INSERT INTO personas (user_id, brain_id, facts, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id, brain_id) DO UPDATE SET facts = excluded.facts, updated_at = excluded.updated_at",
            (user_id, brain_id, json.dumps(facts), iso(time.time())),
        )
        return True

    def text(self, user_id: str, brain_id: str) -> str | None:
        facts = self.facts(user_id, brain_id)
        if not facts:
            return None
        return "What the user has told you about themselves:\n" + "\n".join(f"- {f}" for f in facts)

    def forget(self, user_id: str) -> None:
        self._db.execute("DELETE FROM personas WHERE user_id = ?", (user_id,))

    def describe(self, user_id: str) -> dict[str, Any]:
        rows = self._db.all("SELECT brain_id, facts FROM personas WHERE user_id = ?", (user_id,))
        return {r["brain_id"]: len(json.loads(r["facts"])) for r in rows}
