"""Pads as Redis hashes, shared by every process that points at the same Redis.

* one hash per pad, ``<prefix>:scratchpad:pad:<owner>:<pad>`` (both parts URL-quoted), field =
  note id, value = the note as JSON; ``HSETNX`` keeps a note already held as it is;
* one sorted set ``<prefix>:scratchpad:expiry`` of ``<owner>:<pad>:<note id>`` scored by
  ``expires_at``: the sweep finds expired notes with one range read, on any worker;
* one set ``<prefix>:scratchpad:pads`` of pad keys, for the counts;
* each hash also expires (a day after its last note) so a pad no sweep ever reaches cannot stay
  forever; the sweep drops index entries whose note is already gone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from urllib.parse import quote, unquote

import redis.asyncio as aioredis

from lumina_scratchpad.notes import Note
from lumina_scratchpad.store import Expired

#: How long a pad's hash outlives its last note when no sweep runs.
ABANDONED_S = 24 * 3600


class RedisPads:
    name = "redis"

    def __init__(self, url: str, prefix: str) -> None:
        self._redis = aioredis.Redis.from_url(url, socket_connect_timeout=5)
        self._root = f"{prefix}:scratchpad"
        self._expiry = f"{self._root}:expiry"
        self._pads = f"{self._root}:pads"

    def _key(self, owner: str, pad: str) -> str:
        return f"{self._root}:pad:{_pair(owner, pad)}"

    async def add(self, owner: str, pad: str, notes: Sequence[Note]) -> list[Note]:
        if not notes:
            return []
        key = self._key(owner, pad)
        async with self._redis.pipeline(transaction=True) as pipe:
            for note in notes:
                pipe.hsetnx(key, note.id, note.to_json())
            pipe.zadd(self._expiry, {_member(owner, pad, n.id): n.expires_at for n in notes}, nx=True)
            pipe.sadd(self._pads, key)
            pipe.expireat(key, int(max(n.expires_at for n in notes)) + ABANDONED_S, gt=True)
            pipe.expireat(key, int(max(n.expires_at for n in notes)) + ABANDONED_S, nx=True)
            results = await pipe.execute()
        return [note for note, added in zip(notes, results) if added]

    async def notes(self, owner: str, pad: str, now: float) -> list[Note]:
        held = await self._redis.hvals(self._key(owner, pad))
        return sorted((n for n in map(Note.from_json, held) if n.live(now)), key=lambda n: (n.created_at, n.id))

    async def delete(self, owner: str, pad: str, now: float) -> int:
        key = self._key(owner, pad)
        held = [Note.from_json(v) for v in await self._redis.hvals(key)]
        async with self._redis.pipeline(transaction=True) as pipe:
            if held:
                pipe.zrem(self._expiry, *(_member(owner, pad, n.id) for n in held))
            pipe.delete(key)
            pipe.srem(self._pads, key)
            await pipe.execute()
        return sum(n.live(now) for n in held)

    async def expired(self, now: float, limit: int) -> list[Expired]:
        members = await self._redis.zrangebyscore(self._expiry, "-inf", now, start=0, num=limit)
        by_pad: dict[tuple[str, str], list[str]] = defaultdict(list)
        for member in members:
            owner, pad, note_id = _split(member.decode())
            by_pad[(owner, pad)].append(note_id)
        found: list[Expired] = []
        for (owner, pad), ids in by_pad.items():
            values = await self._redis.hmget(self._key(owner, pad), ids)
            gone = [note_id for note_id, value in zip(ids, values) if value is None]
            if gone:
                await self._redis.zrem(self._expiry, *(_member(owner, pad, i) for i in gone))
            found.extend(Expired(owner, pad, Note.from_json(v)) for v in values if v is not None)
        return sorted(found, key=lambda e: e.note.expires_at)

    async def forget(self, owner: str, pad: str, note_ids: Sequence[str]) -> None:
        if not note_ids:
            return
        key = self._key(owner, pad)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(key, *note_ids)
            pipe.zrem(self._expiry, *(_member(owner, pad, i) for i in note_ids))
            pipe.exists(key)
            *_, still_there = await pipe.execute()
        if not still_there:
            await self._redis.srem(self._pads, key)

    async def counts(self, now: float) -> dict[str, int]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.scard(self._pads)
            pipe.zcount(self._expiry, f"({now}", "+inf")
            pipe.zcount(self._expiry, "-inf", now)
            pads, live, expired = await pipe.execute()
        return {"pads": pads, "live_notes": live, "expired_notes": expired}

    async def close(self) -> None:
        await self._redis.aclose()


def _pair(owner: str, pad: str) -> str:
    return f"{quote(owner, safe='')}:{quote(pad, safe='')}"


def _member(owner: str, pad: str, note_id: str) -> str:
    return f"{_pair(owner, pad)}:{note_id}"


def _split(member: str) -> tuple[str, str, str]:
    owner, pad, note_id = member.split(":")
    return unquote(owner), unquote(pad), note_id
