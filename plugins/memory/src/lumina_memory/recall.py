"""What memory adds to a chat prompt: history, similar past turns, and the persona.

History: a stored thread contributes its last messages (up to ``thread_max_messages``), any
other thread id the last ``history_turns`` turns from memory; nothing when the client already
sent earlier turns itself. Recall: the ``recall_top_k`` past turns of the same user and brain
closest to the new message, within ``recall_max_days``. Newer history outranks older, so a
tight token budget drops the oldest first.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from prometheus_client import Histogram

from lumina_core.contract import ChatRequest, ContextBlock
from lumina_memory.memories import MemoryStore
from lumina_memory.persona import PersonaBook
from lumina_memory.threads import ThreadStore

RECALL_SECONDS = Histogram("lumina_memory_recall_seconds", "Time to gather memory context for one chat request.")
PERSONA_PRIORITY, RECALL_PRIORITY, HISTORY_TOP, HISTORY_FLOOR = 85, 60, 80, 40


class Recaller:
    def __init__(self, memories: MemoryStore, threads: ThreadStore, personas: PersonaBook, config: Mapping[str, Any]) -> None:
        self._memories = memories
        self._threads = threads
        self._personas = personas
        self._config = config
        self.latencies_ms: deque[float] = deque(maxlen=1000)

    async def blocks(self, request: ChatRequest) -> list[ContextBlock]:
        started = time.perf_counter()
        history, seen_ids, whole_thread = await self._history(request)
        exclude_thread = request.thread_id if whole_thread else None
        recalled = await self._memories.similar_turns(
            user_id=request.user_id,
            brain_id=request.brain_id,
            text=request.last_user_message,
            limit=int(self._config["recall_top_k"]),
            max_days=float(self._config["recall_max_days"]),
            exclude=seen_ids,
            exclude_thread=exclude_thread,
        )
        blocks = [*history, *(_recall_block(t) for t in recalled)]
        persona = self._personas.text(request.user_id, request.brain_id)
        if persona:
            blocks.append(ContextBlock(source="memory.persona", text=persona, priority=PERSONA_PRIORITY))
        elapsed = time.perf_counter() - started
        RECALL_SECONDS.observe(elapsed)
        self.latencies_ms.append(elapsed * 1000)
        return blocks

    async def _history(self, request: ChatRequest) -> tuple[list[ContextBlock], list[str], bool]:
        """History blocks, the ids of the turns they came from, and whether a whole stored thread was used."""
        if request.thread_id is None or any(m.role == "assistant" for m in request.messages):
            return [], [], False
        thread = self._threads.find(request.user_id, request.thread_id)
        if thread is not None:
            messages = self._threads.messages(request.user_id, request.thread_id, int(self._config["thread_max_messages"]))
            return _ranked([(m["role"], m["content"]) for m in messages]), [], True
        turns = await self._memories.recent_turns(request.user_id, request.thread_id, int(self._config["history_turns"]))
        pairs = [pair for t in turns for pair in (("user", t["user_text"]), ("assistant", t["assistant_text"]))]
        return _ranked(pairs), [t["id"] for t in turns], False

    def percentiles(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return {"recalls": 0, "p50_ms": None, "p95_ms": None}
        return {"recalls": len(ordered), "p50_ms": _quantile(ordered, 0.50), "p95_ms": _quantile(ordered, 0.95)}


def _quantile(ordered: list[float], q: float) -> float:
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _ranked(messages: list[tuple[str, str]]) -> list[ContextBlock]:
    """History blocks in order, newer ones with a higher priority."""
    count = len(messages)
    return [
        ContextBlock(
            source="memory.history", text=content, role=role,  # type: ignore[arg-type]
            priority=HISTORY_FLOOR + round((HISTORY_TOP - HISTORY_FLOOR) * (index + 1) / count),
        )
        for index, (role, content) in enumerate(messages)
    ]


def _recall_block(turn: Mapping[str, Any]) -> ContextBlock:
    text = (
        f"From an earlier conversation ({turn['created_at'][:10]}):\n"
        f"User: {turn['user_text']}\nAssistant: {turn['assistant_text']}"
    )
    return ContextBlock(
        source="memory.recall", text=text, priority=RECALL_PRIORITY, cite_id=turn["id"],
        metadata={"score": turn.get("score"), "created_at": turn["created_at"], "thread_id": turn.get("thread_id")},
    )
