"""The documents plugin's HTTP routes: files, brains, the Brain API (/ingest, /query), cite ids."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from pydantic import BaseModel, Field

from lumina_core.api.lists import Page
from lumina_core.auth import User, current_user
from lumina_core.context import PluginContext
from lumina_core.errors import LuminaError, ValidationFailed
from lumina_documents.brains import Brains, media_type
from lumina_documents.library import STATES, check_brain_id

MAX_FILES_PER_UPLOAD = 100
MAX_NOTE_CHARS = 200_000
READ_CHUNK = 1024 * 1024
_HIDDEN_COLUMNS = ("user_id", "parts", "sha256")


class BrainIn(BaseModel):
    auto_save: bool = Field(description="Keep every chat turn of this brain in it, as a note.")


class IngestIn(BaseModel):
    brain_id: str = "default"
    content: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)
    metadata: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="Kept with the note; `title` names it.")


class QueryIn(BaseModel):
    brain_id: str = "default"
    question: str = Field(min_length=1, max_length=2000)
    n_results: int = Field(5, ge=1, le=50)


def public(record: Mapping[str, Any]) -> dict[str, Any]:
    """A file as the API shows it."""
    shown = {k: v for k, v in record.items() if k not in _HIDDEN_COLUMNS}
    return {**shown, "media_type": media_type(record), "content_sha256": record["sha256"]}


def build_routes(ctx: PluginContext, brains: Callable[[], Brains]) -> APIRouter:
    router = ctx.router()
    route_class = router.route_class

    @router.post("", status_code=202, summary="Upload files (multipart, one or many) into a brain")
    async def upload(files: list[UploadFile] = File(..., description="The files; repeat the field for several."),
                     brain_id: str = Form("default"), user: User = Depends(current_user)) -> dict[str, Any]:
        if len(files) > MAX_FILES_PER_UPLOAD:
            raise ValidationFailed(f"at most {MAX_FILES_PER_UPLOAD} files per upload; send the rest in another",
                                   field="files")
        check_brain_id(brain_id)
        items, rejected, first_error = [], [], None
        for upload_file in files:
            name = upload_file.filename or "unnamed"
            try:
                data = await _read_bounded(upload_file, brains().settings.upload_max_bytes)
                record, duplicate = await brains().add_file(user.id, brain_id, name, data)
            except LuminaError as exc:
                first_error = first_error or exc
                rejected.append({"name": name, "status": exc.status, "error": exc.to_dict()})
                continue
            items.append({**public(record), "duplicate": duplicate})
        if not items and first_error is not None:
            raise first_error
        return {"items": items, "rejected": rejected}

    @router.get("", summary="Your files and notes, newest first")
    async def list_files(page: Page = Depends(), user: User = Depends(current_user),
                         brain_id: str | None = Query(None),
                         state: str | None = Query(None, pattern="^(" + "|".join(STATES) + ")$"),
                         kind: Literal["file", "note", "chat"] | None = Query(None)) -> dict[str, Any]:
        rows, more = brains().library.listed(user.id, brain_id=brain_id, state=state, kind=kind,
                                             offset=page.offset, limit=page.limit)
        return {"items": [public(r) for r in rows], "next_cursor": str(page.offset + len(rows)) if more else None}

    @router.get("/stats", summary="Your files by state, bytes against your quota, pages and passages")
    async def stats(user: User = Depends(current_user)) -> dict[str, Any]:
        return {**brains().library.stats(user.id), "quota_bytes": brains().settings.user_quota_bytes}

    @router.get("/{file_id}", summary="One file: state, reason, progress, pages, passages, bytes")
    async def get_file(file_id: str, user: User = Depends(current_user)) -> dict[str, Any]:
        return public(brains().file(user.id, file_id))

    @router.delete("/{file_id}", status_code=204, summary="Delete a file; its passages leave search at once")
    async def delete_file(file_id: str, user: User = Depends(current_user)) -> Response:
        await brains().delete_file(user.id, file_id)
        return Response(status_code=204)

    @router.post("/{file_id}/reindex", status_code=202, summary="Read and index a file again")
    async def reindex(file_id: str, response: Response, user: User = Depends(current_user)) -> dict[str, Any]:
        record = await brains().queue(user.id, brains().file(user.id, file_id))
        response.headers["Location"] = f"/files/{file_id}"
        return public(record)

    brain_routes = APIRouter(prefix="/brains", route_class=route_class)

    @brain_routes.get("", summary="Your brains, with what each holds")
    async def list_brains(page: Page = Depends(), user: User = Depends(current_user)) -> dict[str, Any]:
        return page.of(await brains().listed(user.id))

    @brain_routes.put("/{brain_id}", summary="Change a brain's settings")
    async def put_brain(brain_id: str, body: BrainIn, user: User = Depends(current_user)) -> dict[str, Any]:
        return brains().library.set_auto_save(user.id, check_brain_id(brain_id), body.auto_save)

    @brain_routes.delete("/{brain_id}", status_code=204, summary="Delete a brain with all its files and notes")
    async def delete_brain(brain_id: str, user: User = Depends(current_user)) -> Response:
        await brains().delete_brain(user.id, brain_id)
        return Response(status_code=204)

    brain_api = APIRouter(route_class=route_class)

    @brain_api.post("/ingest", status_code=201, summary="Store a note or chat excerpt in a brain, searchable at once")
    async def ingest(body: IngestIn, user: User = Depends(current_user)) -> dict[str, Any]:
        record, duplicate = await brains().add_note(user.id, body.brain_id, body.content, body.metadata)
        return {**public(record), "duplicate": duplicate}

    @brain_api.post("/query", summary="The passages of a brain that best answer a question")
    async def query(body: QueryIn, user: User = Depends(current_user)) -> dict[str, Any]:
        passages = await brains().query(user.id, body.brain_id, body.question, body.n_results)
        return {"brain_id": body.brain_id, "question": body.question, "passages": passages}

    @brain_api.get("/documents/passages/{passage_id}", summary="A cite id's passage, file and page")
    async def passage(passage_id: str, user: User = Depends(current_user)) -> dict[str, Any]:
        return await brains().passage(user.id, passage_id)

    for extra in (brain_routes, brain_api):  # the manifest's other prefixes, with the plugin's route class
        router.routes.extend(extra.routes)
    return router


async def _read_bounded(upload: UploadFile, limit: int) -> bytes:
    """The upload's bytes, reading at most one chunk past ``limit`` (then it is refused, 413)."""
    chunks, size = [], 0
    while chunk := await upload.read(READ_CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)
