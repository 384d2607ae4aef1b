"""Where pads live: this process's memory by default, Redis hashes when ``REDIS_URL`` is set.

Both backends keep the same promises, and the tests hold both to them:

* a pad belongs to an owner (a user id); the same pad name of another owner is another pad;
* reads see live notes only: a note past its ``expires_at`` is gone for readers at once;
* expired notes stay until the sweep (:mod:`lumina_scratchpad.compression`) has looked at them,
  so a confirmed one can be folded into the knowledge index before it is forgotten;
* adding a note whose id the pad already holds changes nothing (tasks are delivered at least once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lumina_scratchpad.notes import Note


@dataclass(frozen=True)
class Expired:
    """A note past its TTL, with the pad that holds it."""

    owner: str
    pad: str
    note: Note


class PadStore(Protocol):
    name: str

    async def add(self, owner: str, pad: str, notes: Sequence[Note]) -> list[Note]:
        """Store ``notes``; return those that were new (ids already held are left as they are)."""

    async def notes(self, owner: str, pad: str, now: float) -> list[Note]:
        """The pad's live notes, oldest first."""

    async def delete(self, owner: str, pad: str, now: float) -> int:
        """Drop the pad with all its notes; return how many of them were live."""

    async def expired(self, now: float, limit: int) -> list[Expired]:
        """Up to ``limit`` notes past their TTL and not yet forgotten, the longest expired first."""

    async def forget(self, owner: str, pad: str, note_ids: Sequence[str]) -> None:
        """Remove notes (the sweep, once it has dealt with them)."""

    async def counts(self, now: float) -> dict[str, int]:
        """``pads`` held, ``live_notes``, and ``expired_notes`` the sweep has still to look at."""

    async def close(self) -> None: ...


class MemoryPads:
    """Pads in this process's memory: nothing to run, gone when the process ends."""

    name = "memory"

    def __init__(self) -> None:
        self._pads: dict[tuple[str, str], dict[str, Note]] = {}
        self._lock = asyncio.Lock()

    async def add(self, owner: str, pad: str, notes: Sequence[Note]) -> list[Note]:
        async with self._lock:
            held = self._pads.setdefault((owner, pad), {})
            new = [note for note in notes if note.id not in held]
            held.update((note.id, note) for note in new)
            return new

    async def notes(self, owner: str, pad: str, now: float) -> list[Note]:
        held = self._pads.get((owner, pad), {})
        return sorted((n for n in held.values() if n.live(now)), key=_age)

    async def delete(self, owner: str, pad: str, now: float) -> int:
        async with self._lock:
            held = self._pads.pop((owner, pad), {})
        return sum(n.live(now) for n in held.values())

    async def expired(self, now: float, limit: int) -> list[Expired]:
        found = [Expired(owner, pad, n) for (owner, pad), held in self._pads.items()
                 for n in held.values() if not n.live(now)]
        return sorted(found, key=lambda e: e.note.expires_at)[:limit]

    async def forget(self, owner: str, pad: str, note_ids: Sequence[str]) -> None:
        async with self._lock:
            held = self._pads.get((owner, pad), {})
            for note_id in note_ids:
                held.pop(note_id, None)
            if not held:
                self._pads.pop((owner, pad), None)

    async def counts(self, now: float) -> dict[str, int]:
        notes = [n for held in self._pads.values() for n in held.values()]
        live = sum(n.live(now) for n in notes)
        return {"pads": len(self._pads), "live_notes": live, "expired_notes": len(notes) - live}

    async def close(self) -> None:
        self._pads.clear()


def _age(note: Note) -> tuple[float, str]:
    return note.created_at, note.id


def build_store(redis_url: str | None, prefix: str) -> PadStore:
    """Redis when a URL is configured (shared by every worker), else this process's memory."""
    if redis_url:
        from lumina_scratchpad.redis_store import RedisPads

        return RedisPads(redis_url, prefix)
    return MemoryPads()
