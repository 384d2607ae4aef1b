"""Dense vectors filled in after an article is already searchable by its words.

An article indexed with ``dense_now=False`` is stored with its BM25 vectors only, so hybrid
search finds it by words at once (a point without a dense vector is simply absent from the
dense ranking); this backfill then embeds its passages and adds their dense vectors.

What is pending is what the store holds without a dense vector, nothing else: there is no
queue to lose in a crash, and the backfill started with the plugin completes whatever an
earlier run left. Each vector is written only if its passage still has the text it was computed
from, so an article replaced meanwhile never gets a stale vector (its new text comes round next).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from lumina_core.services.compute import in_background
from lumina_core.services.vectors import Filter, HasId, HasVector, Match, Point, Record
from lumina_knowledge.chunking import Passage

log = logging.getLogger("lumina.knowledge.backfill")

#: Passages embedded per round: small enough that a question's embedding is never stuck behind
#: a long batch, large enough to keep the model busy.
BATCH = 8
RETRY_AFTER_S = 5.0
POLL_S = 0.05


class DenseBackfill:
    """Adds the missing dense vectors of a collection, in the background, in small batches."""

    def __init__(self, vectors: Any, embedder: Any, collection: str, dense: str, *, batch: int = BATCH) -> None:
        self.vectors = vectors
        self.embedder = embedder
        self.collection = collection
        self.dense = dense
        self.batch = batch
        self._lacking = Filter(must_not=(HasVector(dense),))
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run until :meth:`stop`, starting with what an earlier run left pending."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="knowledge-dense-backfill")
            self.wake()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def wake(self) -> None:
        """Something new lacks its dense vector."""
        self._wake.set()

    async def pending(self) -> int:
        """Passages stored without their dense vector yet."""
        return await self.vectors.count(self.collection, self._lacking)

    async def drained(self) -> None:
        """Return once every stored passage has its dense vector (for tests and benchmarks)."""
        self.wake()
        while await self.pending():
            await asyncio.sleep(POLL_S)

    async def fill_once(self) -> int:
        """Embed one batch of passages lacking a dense vector; return how many were found."""
        records, _ = await self.vectors.scroll(self.collection, filter=self._lacking, limit=self.batch)
        if not records:
            return 0
        await self._embed_into(records)
        return len(records)

    async def renew(self) -> int:
        """Embed every stored passage again (the embedder changed: the vectors held are another
        model's), starting over after a failure; return how many. A question asked meanwhile
        goes first, as in the backfill."""
        while True:
            try:
                return await self._renew_once()
            except Exception as exc:  # noqa: BLE001 - the vectors stay the old model's; start over
                log.warning("dense vectors could not be renewed (%s); again in %.0f s", exc, RETRY_AFTER_S)
                await asyncio.sleep(RETRY_AFTER_S)

    async def _renew_once(self) -> int:
        renewed, offset = 0, None
        with in_background():
            while True:
                records, offset = await self.vectors.scroll(self.collection, limit=self.batch, offset=offset)
                if records:
                    await self._embed_into(records, replacing=True)
                    renewed += len(records)
                if offset is None:
                    return renewed

    async def _embed_into(self, records: Sequence[Record], *, replacing: bool = False) -> None:
        await self.write(records, await self.embedder.embed([indexed_text(r.payload) for r in records]), replacing=replacing)

    async def write(self, records: Sequence[Record], vectors: Sequence[list[float]], *, replacing: bool = False) -> None:
        """Give each passage read as ``records`` its dense vector, unless its text changed since
        (or, but ``replacing``, it has one by now)."""
        points = [Point(r.id, {self.dense: v}) for r, v in zip(records, vectors, strict=True)]
        as_read = tuple(Filter(must=(HasId((r.id,)), Match("text", r.payload.get("text", "")))) for r in records)
        unchanged = Filter(should=as_read, must_not=() if replacing else (HasVector(self.dense),))
        await self.vectors.update_vectors(self.collection, points, filter=unchanged)

    async def _run(self) -> None:
        """Embeds as background work: a question asked meanwhile goes first (``compute``)."""
        with in_background():
            while True:
                await self._fill_when_woken()

    async def _fill_when_woken(self) -> None:
        await self._wake.wait()
        self._wake.clear()
        try:
            while await self.fill_once():
                pass
        except Exception as exc:  # noqa: BLE001 - the passages stay pending; try again later
            log.warning("dense vectors could not be added yet (%s); retrying in %.0f s", exc, RETRY_AFTER_S)
            await asyncio.sleep(RETRY_AFTER_S)
            self.wake()


def indexed_text(payload: Mapping[str, Any]) -> str:
    """The text a passage was indexed with, rebuilt from its stored payload."""
    return Passage(
        id="", article_id=payload.get("article_id", ""), title=payload.get("title", ""),
        section=tuple(payload.get("section", ())), position=payload.get("position", 0), text=payload.get("text", ""),
    ).indexed_text
