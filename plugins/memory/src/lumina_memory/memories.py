"""Turns and memories in the vector store, every change journalled first.

One collection holds both kinds: ``turn`` (a finished chat exchange) and ``memory`` (a fact
added through the memory API). Every point carries ``user_id`` and ``brain_id``; each method
filters on the caller's ``user_id``, and another user's point answers exactly as a missing one,
so ids never leak.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lumina_core.errors import Conflict, NotFound, ValidationFailed
from lumina_core.services.vectors import (
    CollectionSpec,
    Filter,
    HasId,
    Match,
    Point,
    Range,
    VectorSpec,
)
from lumina_memory.database import Database
from lumina_memory.journal import Journal

COLLECTION = "memory"
INDEXES = {
    "user_id": "tenant", "brain_id": "keyword", "kind": "keyword", "thread_id": "keyword",
    "agent_id": "keyword", "run_id": "keyword", "ts": "float",
}
EMBED_BATCH = 64
DAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class Scope:
    """Whose memories: always one user; optionally one brain, agent or run."""

    user_id: str
    brain_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None

    def conditions(self) -> list[Any]:
        fields = {"user_id": self.user_id, "brain_id": self.brain_id, "agent_id": self.agent_id, "run_id": self.run_id}
        return [Match(k, v) for k, v in fields.items() if v is not None]


class MemoryStore:
    def __init__(self, vectors: Any, embedder: Any, journal: Journal, db: Database) -> None:
        self._vectors = vectors
        self._embedder = embedder
        self._journal = journal
        self._db = db

    async def open(self) -> None:
        """Make sure the collection exists with the embedder's width."""
        spec = CollectionSpec(COLLECTION, {"text": VectorSpec(self._embedder.dimensions)}, indexes=INDEXES)
        try:
            await self._vectors.create_collection(spec)
        except Conflict as exc:
            raise Conflict(
                f"{exc.message}. The embedding model changed ({self._embedder.model}, "
                f"{self._embedder.dimensions} wide): run `lumina memory rebuild` to re-index from the journal"
            ) from None

    # --- turns ---------------------------------------------------------------------------------

    async def store_turn(
        self, *, user_id: str, brain_id: str, thread_id: str | None, user_text: str, assistant_text: str,
        ts: float, confidence: float | None = None, sources: Sequence[str] = (), model: str = "",
        turn_id: str | None = None,
    ) -> str:
        entry = {
            "op": "turn", "id": _point_id(turn_id), "user_id": user_id, "brain_id": brain_id,
            "thread_id": thread_id, "user_text": user_text, "assistant_text": assistant_text,
            "ts": ts, "confidence": confidence, "sources": list(sources), "model": model,
        }
        await self._commit(entry)
        return entry["id"]

    async def recent_turns(self, user_id: str, thread_id: str, limit: int) -> list[dict[str, Any]]:
        """The thread's last ``limit`` turns, oldest first."""
        if limit <= 0:
            return []
        wanted = Filter(must=(Match("user_id", user_id), Match("thread_id", thread_id), Match("kind", "turn")))
        records, _ = await self._vectors.scroll(COLLECTION, filter=wanted, limit=limit, order_by="ts", descending=True)
        return [_public(r.id, r.payload) for r in reversed(records)]

    async def similar_turns(
        self, *, user_id: str, brain_id: str, text: str, limit: int, max_days: float,
        exclude: Iterable[str] = (), exclude_thread: str | None = None,
    ) -> list[dict[str, Any]]:
        """The past turns of this user and brain closest to ``text``, within ``max_days``,
        leaving out the turns ``exclude`` names and those of ``exclude_thread``."""
        if limit <= 0 or not text.strip():
            return []
        since = time.time() - max_days * DAY_SECONDS
        excluded = tuple(exclude)
        wanted = Filter(
            must=(Match("user_id", user_id), Match("brain_id", brain_id), Match("kind", "turn"), Range("ts", gte=since)),
            must_not=((HasId(excluded),) if excluded else ()) + ((Match("thread_id", exclude_thread),) if exclude_thread else ()),
        )
        [vector] = await self._embedder.embed([text])
        hits = await self._vectors.search(COLLECTION, vector, limit=limit, filter=wanted)
        return [_public(h.id, h.payload, h.score) for h in hits]

    # --- the memory API --------------------------------------------------------------------------

    async def add(self, scope: Scope, text: str, metadata: Mapping[str, Any], *, ts: float | None = None) -> dict[str, Any]:
        now = time.time()
        entry = {
            "op": "memory", "event": "add", "id": str(uuid.uuid4()), "user_id": scope.user_id,
            "brain_id": scope.brain_id or "default", "agent_id": scope.agent_id, "run_id": scope.run_id,
            "text": _checked_text(text), "metadata": dict(metadata), "ts": ts if ts is not None else now, "updated_ts": now,
        }
        await self._commit(entry)
        return _public(entry["id"], _payload(entry))

    async def get(self, user_id: str, memory_id: str) -> dict[str, Any]:
        record = await self._owned(user_id, memory_id)
        return _public(record.id, record.payload)

    async def update(
        self, user_id: str, memory_id: str, *, text: str | None, metadata: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        record = await self._owned(user_id, memory_id)
        if record.payload.get("kind") != "memory":
            raise ValidationFailed("a chat turn cannot be edited, only deleted", field="memory_id")
        entry = {
            "op": "memory", "event": "update", "id": record.id,
            **{k: record.payload.get(k) for k in ("user_id", "brain_id", "agent_id", "run_id", "ts")},
            "text": _checked_text(text) if text is not None else record.payload["text"],
            "metadata": dict(metadata) if metadata is not None else record.payload.get("metadata", {}),
            "updated_ts": time.time(), "old_text": record.payload["text"],
        }
        await self._commit(entry)
        return _public(record.id, _payload(entry))

    async def delete(self, user_id: str, memory_id: str) -> None:
        record = await self._owned(user_id, memory_id)
        await self._commit({"op": "delete", "id": record.id, "user_id": user_id, "ts": time.time(),
                            "old_text": record.payload.get("text", "")})

    async def delete_all(self, user_id: str, brain_id: str | None = None, kind: str | None = None) -> int:
        scope = Filter(must=tuple(Scope(user_id, brain_id).conditions() + ([Match("kind", kind)] if kind else [])))
        count = await self._vectors.count(COLLECTION, scope)
        await self._commit({"op": "delete_all", "user_id": user_id, "brain_id": brain_id, "kind": kind, "ts": time.time()})
        return count

    async def search(
        self, scope: Scope, query: str, *, limit: int, since: float | None = None, until: float | None = None,
        metadata: Mapping[str, str | int | bool] | None = None, kind: str | None = None,
    ) -> list[dict[str, Any]]:
        [vector] = await self._embedder.embed([_checked_text(query, field="query")])
        hits = await self._vectors.search(COLLECTION, vector, limit=limit, filter=_filter(scope, since, until, metadata, kind))
        return [_public(h.id, h.payload, h.score) for h in hits]

    async def list(
        self, scope: Scope, *, limit: int, offset: str | None, kind: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        try:
            records, following = await self._vectors.scroll(
                COLLECTION, filter=_filter(scope, None, None, None, kind), limit=limit, offset=offset
            )
        except ValidationFailed:
            raise ValidationFailed("cursor is not one this server gave out; start again without it", field="cursor") from None
        return [_public(r.id, r.payload) for r in records], following

    def history(self, user_id: str, memory_id: str) -> list[dict[str, Any]]:
        rows = self._db.all(
            "SELECT event, old_text, new_text, at FROM memory_events WHERE memory_id = ? AND user_id = ? ORDER BY seq",
            (memory_id, user_id),
        )
        if not rows:
            raise NotFound(f"you have no memory with id '{memory_id}'")
        return rows

    async def count(self, user_id: str, *, brain_id: str | None = None, kind: str | None = None) -> int:
        return await self._vectors.count(COLLECTION, _filter(Scope(user_id, brain_id), None, None, None, kind))

    # --- journal and index -------------------------------------------------------------------------

    async def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Drop the index and replay the whole journal into it; returns the entries replayed."""
        await self._vectors.drop_collection(COLLECTION)
        await self.open()
        pending: list[dict[str, Any]] = []
        replayed = 0
        for entry in self._journal.entries():
            if entry["op"] in ("turn", "memory"):
                pending.append(entry)
                if len(pending) >= EMBED_BATCH:
                    await self._index(pending)
                    pending = []
            else:
                await self._index(pending)
                pending = []
                await self._apply_deletion(entry)
            replayed += 1
            if progress is not None and replayed % 1000 == 0:
                progress(replayed)
        await self._index(pending)
        await self._vectors.optimize(COLLECTION)
        return replayed

    async def _commit(self, entry: dict[str, Any]) -> None:
        """Journal first, then index, then history: the journal is what a rebuild trusts."""
        self._journal.append(entry)
        if entry["op"] in ("turn", "memory"):
            await self._index([entry])
        else:
            await self._apply_deletion(entry)
        self._record_history(entry)
        self._record_brain(entry)

    async def _index(self, entries: Sequence[dict[str, Any]]) -> None:
        if not entries:
            return
        vectors = await self._embedder.embed([_embedded_text(e) for e in entries])
        points = [Point(e["id"], {"text": v}, _payload(e)) for e, v in zip(entries, vectors)]
        await self._vectors.upsert(COLLECTION, points)

    async def _apply_deletion(self, entry: Mapping[str, Any]) -> None:
        if entry["op"] == "delete":
            await self._vectors.delete(COLLECTION, [entry["id"]])
        elif entry["op"] == "delete_all":
            kind = entry.get("kind")
            conditions = Scope(entry["user_id"], entry.get("brain_id")).conditions() + ([Match("kind", kind)] if kind else [])
            await self._vectors.delete_where(COLLECTION, Filter(must=tuple(conditions)))

    def _record_history(self, entry: Mapping[str, Any]) -> None:
        if entry["op"] == "memory":
            old = entry.get("old_text")
            event, new = entry["event"], entry["text"]
        elif entry["op"] == "delete":
            event, old, new = "delete", entry.get("old_text"), None
        else:
            return
        self._db.execute(
            "INSERT INTO memory_events (memory_id, user_id, event, old_text, new_text, at) VALUES (?, ?, ?, ?, ?, ?)",
            (entry["id"], entry["user_id"], event, old, new, iso(time.time())),
        )

    def _record_brain(self, entry: Mapping[str, Any]) -> None:
        if entry["op"] in ("turn", "memory"):
            self._db.execute("INSERT OR IGNORE INTO brains (user_id, brain_id) VALUES (?, ?)", (entry["user_id"], entry["brain_id"]))
        elif entry["op"] == "delete_all" and entry.get("brain_id") is None and entry.get("kind") is None:
            self._db.execute("DELETE FROM brains WHERE user_id = ?", (entry["user_id"],))

    def brains(self, user_id: str) -> list[str]:
        """The brains the user has stored turns or memories in."""
        return [r["brain_id"] for r in self._db.all("SELECT brain_id FROM brains WHERE user_id = ? ORDER BY brain_id", (user_id,))]

    async def _owned(self, user_id: str, memory_id: str) -> Any:
        try:
            found = await self._vectors.get(COLLECTION, [memory_id])
        except ValidationFailed:
            found = []
        if not found or found[0].payload.get("user_id") != user_id:
            raise NotFound(f"you have no memory with id '{memory_id}'")
        return found[0]


def _filter(
    scope: Scope, since: float | None, until: float | None, metadata: Mapping[str, Any] | None, kind: str | None
) -> Filter:
    conditions = scope.conditions()
    if since is not None or until is not None:
        conditions.append(Range("ts", gte=since, lte=until))
    conditions += [Match(f"metadata.{k}", v) for k, v in (metadata or {}).items()]
    if kind is not None:
        conditions.append(Match("kind", kind))
    return Filter(must=tuple(conditions))


def _payload(entry: Mapping[str, Any]) -> dict[str, Any]:
    kind = "turn" if entry["op"] == "turn" else "memory"
    skip = {"op", "event", "id", "old_text"}
    payload = {k: v for k, v in entry.items() if k not in skip and v is not None}
    if kind == "turn":
        payload["text"] = _embedded_text(entry)
    return {**payload, "kind": kind}


def _embedded_text(entry: Mapping[str, Any]) -> str:
    if entry["op"] == "turn":
        return f"{entry['user_text']}\n{entry['assistant_text']}"
    return entry["text"]


def _public(point_id: Any, payload: Mapping[str, Any], score: float | None = None) -> dict[str, Any]:
    item = {"id": str(point_id), **{k: v for k, v in payload.items() if k not in ("ts", "updated_ts")}}
    item["created_at"] = iso(payload.get("ts", 0.0))
    if "updated_ts" in payload:
        item["updated_at"] = iso(payload["updated_ts"])
    if score is not None:
        item["score"] = round(score, 4)
    return item


def _checked_text(text: str, *, field: str = "text") -> str:
    if not text.strip():
        raise ValidationFailed(f"{field} is empty: say what to remember", field=field)
    return text


def _point_id(turn_id: str | None) -> str:
    """A turn's point id: a UUID derived from the chat's turn id, so a replayed hook is idempotent."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lumina-turn:{turn_id}")) if turn_id else str(uuid.uuid4())


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_time(value: str, field: str) -> float:
    """An ISO 8601 time (``Z`` or an offset; naive means UTC) as epoch seconds."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{field} must be an ISO 8601 time like 2026-01-31T12:00:00Z, got {value!r}", field=field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
