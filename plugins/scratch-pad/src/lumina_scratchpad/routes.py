"""The HTTP face of the pads: add notes, read a pad (paged), drop it; stats; the dream on demand."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from lumina_core.api.lists import Page
from lumina_core.auth import User, current_user, require_admin
from lumina_core.errors import NotFound, ValidationFailed
from lumina_scratchpad.dream import DreamCycle
from lumina_scratchpad.journal import Journal
from lumina_scratchpad.notes import Kind, Note
from lumina_scratchpad.pads import SYSTEM_OWNER, check_pad_name, is_system_pad
from lumina_scratchpad.settings import ScratchpadSettings
from lumina_scratchpad.store import PadStore

MAX_TTL_S = 7 * 24 * 3600


class NoteIn(BaseModel):
    kind: Kind = Field("note", description="fact, open_question, link or note.")
    text: str = Field(min_length=1, max_length=4000)
    sources: list[str] = Field(default_factory=list, max_length=50,
                               description="Passage ids (cite ids) behind the note.")
    ttl_s: float | None = Field(None, gt=0, le=MAX_TTL_S,
                                description="Seconds the note lives; unset: the plugin's TTL.")


def pad_routes(router: APIRouter, store: PadStore, journal: Journal, settings: ScratchpadSettings,
               dream_cycle: Callable[[], DreamCycle]) -> APIRouter:
    """The routes on ``router`` (the plugin's, under ``/scratchpad``); fixed paths come first."""

    @router.get("/stats", summary="Pads, notes, reflections, folded notes and the last dream")
    async def stats() -> dict[str, Any]:
        return {"backend": store.name, **await store.counts(time.time()), **journal.summary()}

    @router.post("/dream", summary="Run the dream cycle now and report what it did (admin)")
    async def dream(_: User = Depends(require_admin)) -> dict[str, Any]:
        return await dream_cycle().run()

    @router.post("/{pad}/notes", status_code=201, summary="Add a note to one of your pads")
    async def add_note(pad: str, body: NoteIn, user: User = Depends(current_user)) -> dict[str, Any]:
        check_pad_name(pad)
        if is_system_pad(pad):
            raise ValidationFailed(f"'{pad}' is one of Lumina's own pads (reflection:, dream:): choose another name",
                                   field="pad")
        note = Note.new(body.kind, body.text, tuple(body.sources), ttl_s=body.ttl_s or settings.ttl_s)
        await store.add(user.id, pad, [note])
        return note.to_dict()

    @router.get("/{pad}", summary="A pad's live notes, oldest first")
    async def read_pad(pad: str, page: Page = Depends(), user: User = Depends(current_user)) -> dict[str, Any]:
        notes = await store.notes(_owner(user, pad), pad, time.time())
        if not notes:
            raise _no_pad(pad)
        return {"pad": pad, **page.of([n.to_dict() for n in notes])}

    @router.delete("/{pad}", status_code=204, summary="Drop a pad and its notes")
    async def delete_pad(pad: str, user: User = Depends(current_user)) -> Response:
        if not await store.delete(_owner(user, pad), pad, time.time()):
            raise _no_pad(pad)
        return Response(status_code=204)

    return router


def _owner(user: User, pad: str) -> str:
    """Whose pad ``pad`` is for this caller: Lumina's own pads are the admins' to see."""
    check_pad_name(pad)
    if not is_system_pad(pad):
        return user.id
    if user.is_admin:
        return SYSTEM_OWNER
    raise _no_pad(pad)


def _no_pad(pad: str) -> NotFound:
    return NotFound(f"you have no pad '{pad}' with live notes (notes expire after their TTL)")
