"""The documents plugin's hooks: the library, ingestion tasks, routes, brain context in chat, auto-save."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

import click
from fastapi import APIRouter

from lumina_core.context import PluginContext
from lumina_core.contract import ChatRequest, ChatTurn, ContextBlock
from lumina_core.hookspecs import hookimpl
from lumina_documents.brains import INGEST_TASK, Brains
from lumina_documents.cli import files_group
from lumina_documents.ingest import Ingestor
from lumina_documents.library import Library
from lumina_documents.routes import build_routes
from lumina_documents.settings import documents_settings

CONTEXT_PRIORITY = 65  # the user's own documents come before the shared knowledge base (60)


class _State:
    brains: Brains


_state = _State()


@hookimpl
def startup(ctx: PluginContext) -> None:
    library = Library(ctx.data_dir)
    ctx.on_stop(library.close)

    async def scope(name: str) -> Any:
        return await ctx.service("knowledge").scope(name)

    ingestor = Ingestor(library, scope, ctx.publish)
    _state.brains = Brains(ctx, library, ingestor, documents_settings(ctx.config))


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    return build_routes(ctx, lambda: _state.brains)


@hookimpl
def register_task_handlers(ctx: PluginContext) -> Mapping[str, Any]:
    async def ingest(task: Mapping[str, Any], job: Any) -> dict[str, Any]:
        """Index one file; on an error the file says so, and the queue retries with backoff."""
        spec = task[INGEST_TASK]
        ingestor = _state.brains.ingestor
        try:
            return await ingestor.ingest(spec["user_id"], spec["file_id"], job.progress)
        except asyncio.CancelledError:
            ingestor.handed_back(spec["user_id"], spec["file_id"])
            raise
        except Exception as exc:
            record = await ctx.tasks.get(job.id)
            final = record is None or job.attempt >= record["max_attempts"]
            await ingestor.attempt_failed(spec["user_id"], spec["file_id"], exc, final=final)
            raise

    return {INGEST_TASK: ingest}


@hookimpl
async def chat_context(ctx: PluginContext, request: ChatRequest) -> Iterable[ContextBlock]:
    """The passages of the user's brain that the message is about, cited by passage id."""
    message = request.last_user_message
    if not message.strip():
        return []
    passages = await _state.brains.context(request.user_id, request.brain_id, message)
    return [_block(passage) for passage in passages]


@hookimpl
async def after_chat_turn(ctx: PluginContext, turn: ChatTurn) -> None:
    """A brain set to ``auto_save`` keeps each finished turn as a note of kind ``chat``."""
    request = turn.request
    brains = _state.brains
    if not turn.reply.strip() or not brains.library.auto_saves(request.user_id, request.brain_id):
        return
    excerpt = f"Question: {request.last_user_message}\nAnswer: {turn.reply}"
    metadata = {"title": f"Chat {turn.created_at or turn.turn_id}".strip(), "turn_id": turn.turn_id,
                "thread_id": request.thread_id}
    await brains.add_note(request.user_id, request.brain_id, excerpt, metadata, kind="chat")


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(files_group)


def _block(passage: Mapping[str, Any]) -> ContextBlock:
    source = passage["source"]
    where = source["name"] + (f", page {source['page']}" if source.get("page") else "")
    return ContextBlock(
        source="documents",
        text=f"[{passage['id']}] {where}: {passage['text']}",
        priority=CONTEXT_PRIORITY,
        cite_id=passage["id"],
        metadata={"file_id": source["file_id"], "file_name": source["name"], "page": source.get("page"),
                  "brain_id": source["brain_id"], "score": passage["score"]},
    )
