"""Brains: one user's files and notes, by brain, in a knowledge scope of their own.

What the routes, the chat hooks and the CLI do goes through here: take a file in (within the
limits, once per content), queue it, store a note at once, search a brain, resolve a cite id,
delete. Every call names the user, and every lookup is made within that user's own rows and
scopes, so another user's id finds nothing (404), whatever the endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lumina_core.context import PluginContext
from lumina_core.errors import LuminaError, NotFound
from lumina_documents.formats import MEDIA_TYPES, detect
from lumina_documents.ingest import Ingestor, remove_parts
from lumina_documents.library import PROCESSING, QUEUED, Kind, Library, check_brain_id, scope_name
from lumina_documents.settings import MB, DocumentsSettings

INGEST_TASK = "documents.ingest"
#: A passage joins a chat prompt only when its best sentence covers this share of the message's
#: weighted terms (see the knowledge plugin's rerank.py): below it, it is about something else.
#: Lower than the knowledge base's 0.5 because a user's question about their own notes carries
#: words of its own ("what did I write about ...") that the notes never hold.
CONTEXT_MIN_EVIDENCE = 0.4
NOTE_TITLE_WORDS = 8


class TooLarge(LuminaError):
    type = "validation_error"
    status = 413


@dataclass
class Brains:
    ctx: PluginContext
    library: Library
    ingestor: Ingestor
    settings: DocumentsSettings

    async def scope(self, user_id: str, brain_id: str) -> Any:
        return await self.ctx.service("knowledge").scope(scope_name(user_id, brain_id))

    # --- files -----------------------------------------------------------------------------------

    async def add_file(self, user_id: str, brain_id: str, name: str, data: bytes) -> tuple[dict[str, Any], bool]:
        """Take an uploaded file in and queue it; ``(record, duplicate)``. 415 for a format that
        is not supported, 413 past the per-file limit or the user's quota."""
        check_brain_id(brain_id)
        kind = detect(name, data[:16])
        self.check_room(user_id, name, len(data))
        record, duplicate = self.library.add(user_id, brain_id, kind="file", name=name, format=kind, data=data)
        if not duplicate:
            record = await self.queue(user_id, record)
        return record, duplicate

    async def queue(self, user_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Queue a file for (re)indexing."""
        task_id = await self.ctx.tasks.submit({INGEST_TASK: {"user_id": user_id, "file_id": record["id"]}},
                                              owner=self.ctx.name, user_id=user_id)
        self.library.move(record["id"], state=QUEUED, reason=None, progress=0.0, task_id=task_id)
        return self.file(user_id, record["id"])

    def file(self, user_id: str, file_id: str) -> dict[str, Any]:
        found = self.library.get(user_id, file_id)
        if found is None:
            raise NotFound(f"you have no file '{file_id}' (GET /files lists yours)")
        return found

    async def delete_file(self, user_id: str, file_id: str) -> int:
        """Delete a file and take its passages out of search before answering; how many went."""
        record = self.file(user_id, file_id)
        scope = await self.scope(user_id, record["brain_id"])
        self.library.delete(user_id, file_id)
        return await remove_parts(scope, file_id, record["parts"])

    def check_room(self, user_id: str, name: str, size: int) -> None:
        settings = self.settings
        if size > settings.upload_max_bytes:
            raise TooLarge(f"'{name}' is {_size(size)}, over the {settings.upload_max_mb:g} MiB limit per file "
                           "(LUMINA_UPLOAD_MAX_MB): split it or ask the operator to raise the limit", field="files")
        used = self.library.used_bytes(user_id)
        if used + size > settings.user_quota_bytes:
            raise TooLarge(f"'{name}' ({_size(size)}) does not fit in your quota: {_size(used)} of "
                           f"{settings.user_quota_mb:g} MiB used (LUMINA_USER_QUOTA_MB); delete files you no longer need",
                           field="files")

    # --- notes -----------------------------------------------------------------------------------

    async def add_note(self, user_id: str, brain_id: str, content: str, metadata: Mapping[str, Any],
                       *, kind: Kind = "note") -> tuple[dict[str, Any], bool]:
        """Store a note (or a chat excerpt) and index it before answering, so it is searchable at once."""
        check_brain_id(brain_id)
        data = content.encode()
        title = str(metadata.get("title") or " ".join(content.split()[:NOTE_TITLE_WORDS]))
        self.check_room(user_id, title, len(data))
        record, duplicate = self.library.add(user_id, brain_id, kind=kind, name=title, format="text", data=data,
                                             metadata=metadata, state=PROCESSING)
        if not duplicate:
            await self.ingestor.ingest(user_id, record["id"], dense_now=True)
        return self.file(user_id, record["id"]), duplicate

    # --- search and cites ------------------------------------------------------------------------

    async def query(self, user_id: str, brain_id: str, question: str, n_results: int) -> list[dict[str, Any]]:
        """The brain's best passages for ``question`` with their scores and sources."""
        if self.library.brain(user_id, check_brain_id(brain_id)) is None:
            return []
        hits = await (await self.scope(user_id, brain_id)).search(question, n_results)
        return [_cited(hit) for hit in hits]

    async def context(self, user_id: str, brain_id: str, message: str) -> list[dict[str, Any]]:
        """The passages worth putting in a chat prompt about ``message``: about it, and few."""
        brain = self.library.brain(user_id, brain_id)
        if brain is None or not brain["passages"] or not self.settings.context_passages:
            return []
        hits = await (await self.scope(user_id, brain_id)).search(message, self.settings.context_passages)
        return [_cited(hit) for hit in hits if hit["evidence"] >= CONTEXT_MIN_EVIDENCE]

    async def passage(self, user_id: str, passage_id: str) -> dict[str, Any]:
        """A cite id → its passage, file and page; 404 unless it is in one of the user's brains."""
        for brain in self.library.brains(user_id):
            found = await (await self.scope(user_id, brain["id"])).passage(passage_id)
            if found is not None:
                return _cited({**found, "section": " > ".join(found.get("section", ())), "score": None})
        raise NotFound(f"no passage '{passage_id}' in your brains (it may belong to a file deleted or read again)")

    # --- brains ----------------------------------------------------------------------------------

    async def listed(self, user_id: str) -> list[dict[str, Any]]:
        """The user's brains, each with ``pending_dense``: passages searchable by their words
        only, so far (their dense vectors follow in the background)."""
        listed = []
        for brain in self.library.brains(user_id):
            stats = await (await self.scope(user_id, brain["id"])).stats()
            listed.append({**brain, "pending_dense": stats["pending_dense"]})
        return listed

    async def delete_brain(self, user_id: str, brain_id: str) -> None:
        if self.library.brain(user_id, brain_id) is None:
            raise NotFound(f"you have no brain '{brain_id}' (GET /brains lists yours)")
        self.library.forget_brain(user_id, brain_id)
        await self.ctx.service("knowledge").drop_scope(scope_name(user_id, brain_id))


def _cited(hit: Mapping[str, Any]) -> dict[str, Any]:
    """A passage as the Brain API shows it: its text and score, and where it comes from."""
    metadata = hit.get("metadata", {})
    return {
        "id": hit["id"],
        "text": hit["text"],
        "score": hit["score"],
        "source": {
            "file_id": metadata.get("file_id"),
            "name": metadata.get("file_name"),
            "kind": metadata.get("kind"),
            "brain_id": metadata.get("brain_id"),
            "page": metadata.get("page"),
            "section": hit.get("section", ""),
            "title": hit.get("title", ""),
            "url": hit.get("url", ""),
        },
    }


def _size(size: int) -> str:
    return f"{size / MB:.1f} MiB" if size >= MB / 10 else f"{size / 1024:.1f} KiB"


def media_type(record: Mapping[str, Any]) -> str:
    return MEDIA_TYPES.get(record["format"], "application/octet-stream")
