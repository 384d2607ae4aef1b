"""Compression: Lumina's own notes that outlive their TTL and that a passage confirms are folded
into the knowledge index as ``reflection`` passages citing their sources; the rest are forgotten.

The rule (:func:`confirms`): a note is confirmed when searching the index for its text ranks one
of the passages it cites among the first :data:`CONFIRM_K` (the index finds it close in meaning)
and that passage holds at least :data:`CONFIRM_SHARE` of the note's key terms (it says the same
thing in its own words). Only facts and plain notes are folded: a question or a link is not a
claim a passage can confirm. Users' own pads are never folded: what a user writes stays theirs.

The folded passage's id is derived from the note's text, so a sweep running twice, or on two
workers at once, writes the same passage once.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from lumina_scratchpad.journal import Journal
from lumina_scratchpad.notes import Note, stable_id
from lumina_scratchpad.pads import SYSTEM_OWNER
from lumina_scratchpad.store import Expired, PadStore
from lumina_scratchpad.text import coverage

log = logging.getLogger("lumina.scratchpad.compression")

CONFIRM_K = 5
CONFIRM_SHARE = 0.6
FOLDED_KINDS = frozenset({"fact", "note"})
SWEEP_BATCH = 200


def confirms(note: Note, hits: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The first hit that is one of the note's sources and holds enough of its key terms."""
    cited = set(note.sources)
    return next((h for h in hits[:CONFIRM_K] if h["id"] in cited and coverage(note.text, h["text"]) >= CONFIRM_SHARE),
                None)


def reflection_article(note: Note, pad: str, title: str) -> dict[str, Any]:
    """The note as a knowledge article of one ``reflection`` passage that cites the note's sources."""
    return {
        "id": "reflection:" + stable_id(" ".join(note.text.lower().split())),
        "title": f"{title} (reflection)",
        "url": "",
        "source": "reflection",
        "sections": [{"path": ["Reflection"], "text": note.text}],
        "metadata": {"cites": list(note.sources), "pad": pad, "note_id": note.id, "kind": note.kind},
    }


async def sweep(store: PadStore, knowledge: Any, journal: Journal, *, now: float | None = None) -> dict[str, int]:
    """Fold the confirmed expired notes and forget every expired note looked at: counts of each."""
    now = time.time() if now is None else now
    expired = await store.expired(now, SWEEP_BATCH)
    folded = 0
    done: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item in expired:
        if await _fold(item, knowledge, journal, now):
            folded += 1
        done[(item.owner, item.pad)].append(item.note.id)
    for (owner, pad), note_ids in done.items():
        await store.forget(owner, pad, note_ids)
    if expired:
        log.info("sweep: %d expired notes, %d folded into the knowledge index", len(expired), folded)
    return {"expired": len(expired), "folded": folded, "dropped": len(expired) - folded}


async def _fold(item: Expired, knowledge: Any, journal: Journal, now: float) -> bool:
    note = item.note
    if item.owner != SYSTEM_OWNER or note.kind not in FOLDED_KINDS or not note.sources:
        return False
    hit = confirms(note, await knowledge.search(note.text, CONFIRM_K))
    if hit is None:
        return False
    article = reflection_article(note, item.pad, hit["title"])
    await knowledge.index_article(article)
    journal.folded(article["id"], note.id, now)
    return True
