"""HTTP: the memory API (``/memory``) and threads (``/threads``).

Every route acts for the authenticated caller (``current_user``). A ``user_id`` in a path or
body must be the caller's own: another user's id answers 404 (lists, stats) or 403 (a body
that claims to speak for someone else), and another user's object answers like a missing one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse
from starlette.responses import Response

from lumina_core.api.lists import Page
from lumina_core.auth import Forbidden, User, current_user
from lumina_core.errors import NotFound
from lumina_memory.chatting import ChatBody, chat_request, complete, reply_summary, stream_events
from lumina_memory.memories import Scope, parse_time
from lumina_memory.plugin import THREAD_SAVED, Memory

DEFAULT_BRAIN = "default"
Kind = Query(None, pattern="^(turn|memory)$", description="Only chat turns or only added memories.")


class MemoryChatBody(ChatBody):
    user_id: str | None = Field(None, description="Must be your own id when given (the seeds' field).")
    thread_id: str | None = Field(None, max_length=100)


class NewMemory(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    brain_id: str = Field(DEFAULT_BRAIN, min_length=1, max_length=100)
    agent_id: str | None = Field(None, max_length=100)
    run_id: str | None = Field(None, max_length=100)
    metadata: dict[str, Any] = Field(default_factory=dict)
    user_id: str | None = Field(None, description="Must be your own id when given.")


class MemoryChange(BaseModel):
    text: str | None = Field(None, min_length=1, max_length=20_000)
    metadata: dict[str, Any] | None = None


class MemorySearch(BaseModel):
    query: str = Field(min_length=1, max_length=20_000)
    brain_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    limit: int = Field(10, ge=1, le=100)
    since: str | None = Field(None, description="ISO 8601: only memories from this time on.")
    until: str | None = Field(None, description="ISO 8601: only memories up to this time.")
    metadata: dict[str, str | int | bool] = Field(default_factory=dict, description="Exact matches on metadata fields.")
    kind: str | None = Field(None, pattern="^(turn|memory)$")
    user_id: str | None = Field(None, description="Must be your own id when given.")


class NewThread(BaseModel):
    user_id: str | None = Field(None, description="Must be your own id when given (the seeds' field).")
    brain_id: str = Field(DEFAULT_BRAIN, min_length=1, max_length=100)
    system_prompt: str | None = Field(None, max_length=20_000)
    title: str = Field("New thread", min_length=1, max_length=200)
    initial_message: str | None = Field(None, min_length=1, max_length=100_000)


def build_router(memory: Memory) -> APIRouter:
    memory_routes = memory.ctx.router(tags=["memory"])
    thread_routes = APIRouter(prefix="/threads", route_class=memory_routes.route_class, tags=["threads"])
    _memory_api(memory, memory_routes)
    _seed_endpoints(memory, memory_routes)
    _threads(memory, thread_routes)
    router = APIRouter()
    router.routes.extend([*memory_routes.routes, *thread_routes.routes])
    return router


def _memory_api(memory: Memory, router: APIRouter) -> None:
    store = memory.memories

    @router.post("/memories", status_code=201, summary="Add a memory")
    async def add(body: NewMemory, user: User = Depends(current_user)) -> dict[str, Any]:
        _own(user, body.user_id)
        return await store.add(Scope(user.id, body.brain_id, body.agent_id, body.run_id), body.text, body.metadata)

    @router.get("/memories", summary="List your memories")
    async def list_memories(
        brain_id: str | None = None, agent_id: str | None = None, run_id: str | None = None, kind: str | None = Kind,
        limit: int = Query(50, ge=1, le=500), cursor: str | None = None, user: User = Depends(current_user),
    ) -> dict[str, Any]:
        items, following = await store.list(Scope(user.id, brain_id, agent_id, run_id), limit=limit, offset=cursor, kind=kind)
        return {"items": items, "next_cursor": following}

    @router.delete("/memories", summary="Delete all your memories (of one brain when given)")
    async def delete_all(brain_id: str | None = None, kind: str | None = Kind, user: User = Depends(current_user)) -> dict[str, Any]:
        return {"deleted": await store.delete_all(user.id, brain_id, kind)}

    @router.post("/search", summary="Search your memories by meaning, time window and metadata")
    async def search(body: MemorySearch, user: User = Depends(current_user)) -> dict[str, Any]:
        _own(user, body.user_id)
        since = parse_time(body.since, "since") if body.since else None
        until = parse_time(body.until, "until") if body.until else None
        scope = Scope(user.id, body.brain_id, body.agent_id, body.run_id)
        hits = await store.search(scope, body.query, limit=body.limit, since=since, until=until, metadata=body.metadata, kind=body.kind)
        return {"items": hits, "next_cursor": None}

    @router.get("/memories/{memory_id}", summary="One memory")
    async def get(memory_id: str, user: User = Depends(current_user)) -> dict[str, Any]:
        return await store.get(user.id, memory_id)

    @router.put("/memories/{memory_id}", summary="Change a memory's text or metadata")
    async def update(memory_id: str, body: MemoryChange, user: User = Depends(current_user)) -> dict[str, Any]:
        return await store.update(user.id, memory_id, text=body.text, metadata=body.metadata)

    @router.delete("/memories/{memory_id}", status_code=204, summary="Delete a memory")
    async def delete(memory_id: str, user: User = Depends(current_user)) -> Response:
        await store.delete(user.id, memory_id)
        return Response(status_code=204)

    @router.get("/memories/{memory_id}/history", summary="How a memory changed")
    async def history(memory_id: str, page: Page = Depends(), user: User = Depends(current_user)) -> dict[str, Any]:
        return page.of(store.history(user.id, memory_id))


def _seed_endpoints(memory: Memory, router: APIRouter) -> None:
    store = memory.memories

    @router.post("/chat", summary="Chat with memory")
    async def chat(body: MemoryChatBody, user: User = Depends(current_user)) -> dict[str, Any]:
        _own(user, body.user_id)
        request = chat_request(user, body, brain_id=body.brain_id or DEFAULT_BRAIN, thread_id=body.thread_id,
                               system_prompt=body.system_prompt)
        reply, elapsed = await complete(memory, request, body.max_tokens)
        return {**reply_summary(reply, user, elapsed), "thread_id": body.thread_id}

    @router.post("/chat/stream", summary="Chat with memory, the reply as server-sent events")
    async def chat_stream(body: MemoryChatBody, user: User = Depends(current_user)) -> EventSourceResponse:
        _own(user, body.user_id)
        request = chat_request(user, body, brain_id=body.brain_id or DEFAULT_BRAIN, thread_id=body.thread_id,
                               system_prompt=body.system_prompt)
        return EventSourceResponse(await stream_events(memory, request, body.max_tokens))

    @router.get("/stats/{user_id}", summary="Counts of your turns, memories and threads")
    async def stats(user_id: str, user: User = Depends(current_user)) -> dict[str, Any]:
        _visible(user, user_id)
        return {
            "user_id": user.id,
            "turns": await store.count(user.id, kind="turn"),
            "memories": await store.count(user.id, kind="memory"),
            "threads": memory.threads.count(user.id),
            "persona_facts": memory.personas.describe(user.id),
        }

    @router.post("/clear/{user_id}", summary="Forget everything about you: turns, memories, persona")
    async def clear(user_id: str, user: User = Depends(current_user)) -> dict[str, Any]:
        _visible(user, user_id)
        deleted = await store.delete_all(user.id)
        memory.personas.forget(user.id)
        return {"user_id": user.id, "deleted": deleted}

    @router.get("/health", summary="Vector store, embedder and journal status")
    async def health(user: User = Depends(current_user)) -> dict[str, Any]:
        embedder = memory.ctx.embedder
        return {
            "status": "ok",
            "vector_backend": memory.ctx.vectors.backend,
            "embedding_model": embedder.model,
            "dimensions": embedder.dimensions,
            "journal_files": len(memory.journal.files()),
            "recall": memory.recaller.percentiles(),
        }

    @router.get("/overview", summary="Your memories, turns and threads per brain")
    async def overview(user: User = Depends(current_user)) -> dict[str, Any]:
        threads = memory.threads.brains(user.id)
        brains = sorted(set(threads) | set(store.brains(user.id)))
        rows = [
            {
                "brain_id": brain,
                "memories": await store.count(user.id, brain_id=brain, kind="memory"),
                "turns": await store.count(user.id, brain_id=brain, kind="turn"),
                "threads": threads.get(brain, 0),
            }
            for brain in brains
        ]
        return {"items": rows, "next_cursor": None}

    @router.get("/latency", summary="Recall latency percentiles over the last 1,000 recalls")
    async def latency(user: User = Depends(current_user)) -> dict[str, Any]:
        figures = memory.recaller.percentiles()
        return {"value": figures["p95_ms"], "unit": "ms", "label": "recall p95", **figures}


def _threads(memory: Memory, router: APIRouter) -> None:
    threads = memory.threads

    @router.post("/", status_code=201, summary="Start a thread (optionally with a first message)")
    async def create(body: NewThread, user: User = Depends(current_user)) -> dict[str, Any]:
        _own(user, body.user_id)
        thread = threads.create(user_id=user.id, brain_id=body.brain_id, title=body.title, system_prompt=body.system_prompt)
        if body.initial_message is None:
            return thread
        reply = await _thread_chat(memory, user, thread, ChatBody(message=body.initial_message))
        return {**threads.get(user.id, thread["id"]), "reply": reply}

    @router.get("/user/{user_id}", summary="Your threads, most recent first")
    async def of_user(user_id: str, page: Page = Depends(), user: User = Depends(current_user)) -> dict[str, Any]:
        _visible(user, user_id)
        return page.of(threads.of_user(user.id))

    @router.get("/{thread_id}", summary="One thread")
    async def get(thread_id: str, user: User = Depends(current_user)) -> dict[str, Any]:
        return threads.get(user.id, thread_id)

    @router.get("/{thread_id}/messages", summary="The latest messages of a thread, oldest first")
    async def messages(
        thread_id: str, limit: int = Query(50, ge=1, le=500), user: User = Depends(current_user)
    ) -> dict[str, Any]:
        return {"items": threads.messages(user.id, thread_id, limit), "next_cursor": None}

    @router.post("/{thread_id}/chat", summary="Send a message in a thread")
    async def chat(thread_id: str, body: ChatBody, user: User = Depends(current_user)) -> dict[str, Any]:
        return await _thread_chat(memory, user, threads.get(user.id, thread_id), body)

    @router.post("/{thread_id}/chat/stream", summary="Send a message in a thread, the reply as server-sent events")
    async def chat_stream(thread_id: str, body: ChatBody, user: User = Depends(current_user)) -> EventSourceResponse:
        thread = threads.get(user.id, thread_id)
        request = _thread_request(user, thread, body)

        def save(reply: str) -> dict[str, Any]:
            threads.append(user.id, thread_id, "user", body.message)
            return {"thread_id": thread_id, "message_id": threads.append(user.id, thread_id, "assistant", reply)["id"]}

        return EventSourceResponse(await stream_events(memory, request, body.max_tokens, on_done=save))

    @router.delete("/{thread_id}", status_code=204, summary="Delete a thread and its messages")
    async def delete(thread_id: str, user: User = Depends(current_user)) -> Response:
        threads.delete(user.id, thread_id)
        return Response(status_code=204)


async def _thread_chat(memory: Memory, user: User, thread: dict[str, Any], body: ChatBody) -> dict[str, Any]:
    reply, elapsed = await complete(memory, _thread_request(user, thread, body), body.max_tokens)
    memory.threads.append(user.id, thread["id"], "user", body.message)
    message = memory.threads.append(user.id, thread["id"], "assistant", reply.text)
    return {**reply_summary(reply, user, elapsed), "thread_id": thread["id"], "message_id": message["id"]}


def _thread_request(user: User, thread: dict[str, Any], body: ChatBody) -> Any:
    return chat_request(
        user, body, brain_id=body.brain_id or thread["brain_id"], thread_id=thread["id"],
        system_prompt=body.system_prompt or thread["system_prompt"], metadata={THREAD_SAVED: True},
    )


def _own(user: User, claimed: str | None) -> None:
    """A body may name a user only to say who the caller is."""
    if claimed is not None and claimed != user.id:
        raise Forbidden(f"user_id must be your own ('{user.id}'): a request can only act for the signed-in user")


def _visible(user: User, user_id: str) -> None:
    if user_id != user.id:
        raise NotFound(f"no data for user '{user_id}' that you can see (you are '{user.id}')")
