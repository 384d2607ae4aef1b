"""The knowledge plugin's hooks: the ``knowledge`` service, search routes, cited chat context."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from lumina_core.api.lists import Page
from lumina_core.auth import User, current_user
from lumina_core.context import PluginContext
from lumina_core.contract import ChatRequest, ContextBlock
from lumina_core.errors import LuminaError, NotFound
from lumina_core.hookspecs import hookimpl
from lumina_knowledge.bm25 import TermStats
from lumina_knowledge.gaps import GapState, GapStore
from lumina_knowledge.index import KnowledgeIndex
from lumina_knowledge.retrieval import MAX_K, MODES
from lumina_knowledge.scopes import Scopes
from lumina_knowledge.service import KnowledgeService
from lumina_knowledge.settings import knowledge_settings

log = logging.getLogger("lumina.knowledge")
#: A passage goes into a chat prompt only when its sentence evidence covers this share of the
#: message's weighted terms (see rerank.py): below it the passages are about something else.
CONTEXT_MIN_EVIDENCE = 0.5
CONTEXT_PASSAGES = 3


class SearchIn(BaseModel):
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(5, ge=1, le=MAX_K)
    mode: str = Field("hybrid", pattern="^(" + "|".join(MODES) + ")$",
                      description="hybrid (the product), or bm25 / dense / rrf alone, for comparison.")
    hypothesis: str = Field("", max_length=2000,
                            description="A guessed answer, searched by meaning beside the query (HyDE).")


GapStateQuery = GapState | None


class ChatIn(BaseModel):
    message: str = Field(min_length=1, max_length=4000)
    mode: Literal["wiki_qa"] = Field("wiki_qa", description="wiki_qa: answer only from the knowledge base.")


class _State:
    service: KnowledgeService


_state = _State()


@hookimpl
def register_services(ctx: PluginContext) -> Mapping[str, Any]:
    stats = TermStats(ctx.data_dir / "terms.sqlite")
    gaps = GapStore(ctx.data_dir / "gaps.sqlite")
    ctx.on_stop(stats.close)
    ctx.on_stop(gaps.close)
    index = KnowledgeIndex(ctx.vectors, ctx.embedder, stats)
    scopes = Scopes(ctx.vectors, ctx.embedder, ctx.data_dir / "scopes")
    ctx.on_stop(scopes.close)
    settings = knowledge_settings(ctx.config)
    _state.service = KnowledgeService(index, gaps, ctx.publish, scopes, ctx.llm, hyde=settings.hyde)
    return {"knowledge": _state.service}


@hookimpl
async def startup(ctx: PluginContext) -> None:
    await _state.service.index.open()
    ctx.on_stop(_state.service.index.close)


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    router = ctx.router()

    @router.post("/search", summary="The best passages for a query, with cite ids")
    async def search(body: SearchIn) -> dict[str, Any]:
        return {"hits": await _state.service.search(body.query, body.k, mode=body.mode, hypothesis=body.hypothesis)}

    @router.get("/passages/{passage_id}", summary="The passage a cite id names")
    async def passage(passage_id: str) -> dict[str, Any]:
        found = await _state.service.passage(passage_id)
        if found is None:
            raise NotFound(f"no passage with cite id '{passage_id}' (it may have been replaced by a newer revision)")
        return found

    @router.get("/gaps", summary="What the knowledge base does not know yet, best first")
    async def gaps(page: Page = Depends(), user: User = Depends(current_user),
                   state: GapStateQuery = Query(None, description="Only gaps in this state.")) -> dict[str, Any]:
        service = _state.service
        items = service.list_gaps(state=state, user_id=user.id, offset=page.offset, limit=page.limit)
        more = page.offset + len(items) < service.gaps.count(user_id=user.id, state=state)
        return {"items": items, "next_cursor": str(page.offset + len(items)) if more else None}

    @router.delete("/gaps/{gap_id}", status_code=204, summary="Dismiss a gap: it is not worth filling")
    async def dismiss_gap(gap_id: str, user: User = Depends(current_user)) -> None:
        if not _state.service.gaps.delete(gap_id, user_id=None if user.is_admin else user.id):
            raise NotFound(f"no gap '{gap_id}' of yours (GET /knowledge/gaps lists them)")

    @router.get("/stats", summary="How much the knowledge base holds")
    async def stats() -> dict[str, Any]:
        return await _state.service.stats()

    masterchat = APIRouter(prefix="/masterchat", route_class=router.route_class)

    @masterchat.post("/chat", summary="wiki_qa: an answer from the knowledge base, with cite ids")
    async def chat(body: ChatIn, user: User = Depends(current_user)) -> dict[str, Any]:
        return (await _state.service.qa.answer(body.message, user_id=user.id)).to_dict()

    @masterchat.post("/chat/stream", summary="The same answer as server-sent events: context, token..., done")
    async def chat_stream(body: ChatIn, user: User = Depends(current_user)) -> EventSourceResponse:
        async def events() -> AsyncIterator[dict[str, str]]:
            try:
                async for kind, data in _state.service.qa.stream(body.message, user_id=user.id):
                    yield {"event": kind, "data": json.dumps(data)}
            except LuminaError as exc:
                yield {"event": "error", "data": json.dumps(exc.to_dict())}

        return EventSourceResponse(events(), ping=15)

    router.routes.extend(masterchat.routes)  # the manifest's second prefix, with the plugin's route class
    return router


@hookimpl
async def chat_context(ctx: PluginContext, request: ChatRequest) -> Iterable[ContextBlock]:
    """The best passages for the user's message, with cite ids, when they are about it."""
    message = request.last_user_message
    if not message.strip():
        return []
    hits = await _state.service.search_hits(message, CONTEXT_PASSAGES)
    return [
        ContextBlock(
            source="knowledge",
            text=f"[{hit.id}] {hit.title}" + (f" — {' > '.join(hit.section)}" if hit.section else "") + f": {hit.text}",
            priority=60,
            cite_id=hit.id,
            metadata={"title": hit.title, "url": hit.url, "score": hit.score},
        )
        for hit in hits
        if hit.signals.get("sentence", 0.0) >= CONTEXT_MIN_EVIDENCE
    ]
