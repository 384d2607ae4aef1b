"""The dream cycle: once a night (``DREAM_CRON``), or on demand, Lumina looks back at its day.

1. It re-reads the day's low-confidence answers (the knowledge service's open gaps from questions
   seen since a day ago) and searches the index for each again: a question whose key terms the best passages now
   all hold is answerable and left alone; for the others, the names (or else the words) no passage
   holds are the missing topic, proposed as a gap of its own and written as an open question in
   the pad ``dream:<date>``.
2. It schedules a recrawl (a ``crawl`` task of the crawler, ``hops: 0``) of the articles the
   crawler's service reports stale (fetched longer than ``RECRAWL_DAYS`` ago).

The report it returns is kept in the journal and shown by ``GET /scratchpad/stats``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lumina_core.errors import LuminaError
from lumina_scratchpad.journal import Journal
from lumina_scratchpad.notes import Note, iso, stable_id
from lumina_scratchpad.pads import SYSTEM_OWNER, dream_pad
from lumina_scratchpad.settings import ScratchpadSettings
from lumina_scratchpad.store import PadStore
from lumina_scratchpad.text import key_terms, names, words

log = logging.getLogger("lumina.scratchpad.dream")

DAY = 24 * 3600.0
SEARCH_K = 3
ANSWERS_READ = 200
#: The gap sources that are answers the knowledge base gave badly or not at all.
ANSWER_SOURCES = frozenset({"question", "low_confidence"})


@dataclass
class DreamCycle:
    store: PadStore
    knowledge: Any
    crawler: Callable[[], Any]
    tasks: Any
    journal: Journal
    settings: ScratchpadSettings
    owner: str

    async def run(self, *, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        started = time.perf_counter()
        answers = await self._todays_low_confidence_answers(now)
        proposals = [p for a in answers if (p := await self._missing_topic(a)) is not None]
        notes = [self._note(question, asked, sources, now) for question, asked, sources in proposals]
        for question, asked, _ in proposals:
            await self.knowledge.record_gap(
                question, user_id=SYSTEM_OWNER, confidence=0.0, source="reflection", evidence=[asked],
                reason=f"the dream cycle found no passage on this, asked as '{asked}'")
        await self.store.add(SYSTEM_OWNER, dream_pad(iso(now)[:10]), notes)
        report = {
            "ran_at": iso(now),
            "answers_read": len(answers),
            "answerable_now": len(answers) - len(proposals),
            "gaps_proposed": [question for question, _, _ in proposals],
            "recrawl": await self._schedule_recrawl(),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        self.journal.dreamt(report, now)
        log.info("dream: %d answers re-read, %d gaps proposed, %d articles to recrawl", len(answers),
                 len(proposals), len(report["recrawl"]["titles"]))
        return report

    async def _todays_low_confidence_answers(self, now: float) -> list[Mapping[str, Any]]:
        gaps = self.knowledge.list_gaps(state="open", since=now - DAY, limit=ANSWERS_READ)
        return [gap for gap in gaps if gap["source"] in ANSWER_SOURCES]

    async def _missing_topic(self, answer: Mapping[str, Any]) -> tuple[str, str, tuple[str, ...]] | None:
        """(proposed question, the question asked, passages read) when the index still lacks its topic."""
        asked = answer["topic"]
        hits = await self.knowledge.search(asked, SEARCH_K)
        held = key_terms(" ".join(h["text"] for h in hits))
        missing = [n for n in names([asked]) if not key_terms(n) <= held]
        if not missing:
            missing = [" ".join(w for w in words(asked) if key_terms(w) and not key_terms(w) <= held)]
        topic = next((m for m in missing if m), "")
        return (f"What is {topic}?", asked, tuple(h["id"] for h in hits)) if topic else None

    def _note(self, question: str, asked: str, sources: tuple[str, ...], now: float) -> Note:
        return Note.new("open_question", question, sources, ttl_s=self.settings.ttl_s, origin="dream", now=now,
                        note_id=stable_id(iso(now)[:10], question))

    async def _schedule_recrawl(self) -> dict[str, Any]:
        try:
            stale = self.crawler().stale(self.settings.recrawl_batch)
            titles = [article["title"] for article in stale]
            task_id = await self.tasks.submit({"crawl": titles, "hops": 0, "max_nodes": len(titles)},
                                              owner=self.owner) if titles else None
        except LuminaError as exc:  # no crawler here: say so, and try again next night
            log.warning("dream: no recrawl scheduled: %s", exc.message)
            return {"task_id": None, "titles": [], "error": exc.message}
        return {"task_id": task_id, "titles": titles}
