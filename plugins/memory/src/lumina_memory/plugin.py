"""The memory plugin's hooks: open the stores, add memory to chats, learn from finished turns."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click
from fastapi import APIRouter

from lumina_core.context import PluginContext
from lumina_core.contract import ChatRequest, ChatTurn, ContextBlock, HealthCheck
from lumina_core.hookspecs import hookimpl
from lumina_memory.database import Database
from lumina_memory.journal import Journal
from lumina_memory.memories import MemoryStore
from lumina_memory.persona import PersonaBook
from lumina_memory.recall import Recaller
from lumina_memory.threads import ThreadStore

#: Metadata a chat request carries when its messages were already saved to their thread.
THREAD_SAVED = "memory.thread_saved"


@dataclass
class Memory:
    """Everything one running memory plugin holds."""

    ctx: PluginContext
    db: Database
    journal: Journal
    memories: MemoryStore
    threads: ThreadStore
    personas: PersonaBook
    recaller: Recaller

    @classmethod
    async def open(cls, ctx: PluginContext) -> Memory:
        db = Database(ctx.data_dir / "memory.sqlite3")
        journal = Journal(journal_folder(ctx.data_dir))
        memories = MemoryStore(ctx.vectors, ctx.embedder, journal, db)
        await memories.open()
        threads, personas = ThreadStore(db), PersonaBook(db, int(ctx.config["persona_max_facts"]))
        return cls(ctx, db, journal, memories, threads, personas, Recaller(memories, threads, personas, ctx.config))

    async def learn(self, turn: ChatTurn) -> None:
        """Store a finished turn (journal + index), keep its stored thread and the persona current."""
        request = turn.request
        user_text = request.last_user_message
        if not user_text.strip():
            return
        await self.memories.store_turn(
            user_id=request.user_id,
            brain_id=request.brain_id,
            thread_id=request.thread_id,
            user_text=user_text,
            assistant_text=turn.reply,
            ts=_timestamp(turn.created_at),
            confidence=request.metadata.get("confidence"),
            sources=[b.cite_id for b in turn.context if b.cite_id and not b.source.startswith("memory.")],
            model=turn.model,
            turn_id=turn.turn_id or None,
        )
        if request.thread_id and not request.metadata.get(THREAD_SAVED) and self.threads.find(request.user_id, request.thread_id):
            self.threads.append(request.user_id, request.thread_id, "user", user_text)
            self.threads.append(request.user_id, request.thread_id, "assistant", turn.reply)
        self.personas.learn(request.user_id, request.brain_id, user_text)

    def close(self) -> None:
        self.db.close()


_running: dict[PluginContext, Memory] = {}


def journal_folder(plugin_data: Path) -> Path:
    """``<data>/graphs/chat``: the plugin's own folder is ``<data>/plugins/memory``."""
    return plugin_data.parent.parent / "graphs" / "chat"


@hookimpl
async def startup(ctx: PluginContext) -> None:
    memory = await Memory.open(ctx)
    _running[ctx] = memory
    ctx.on_stop(memory.close)
    ctx.on_stop(lambda: _running.pop(ctx, None))


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    from lumina_memory.routes import build_router

    return build_router(_running[ctx])


@hookimpl
async def chat_context(ctx: PluginContext, request: ChatRequest) -> Iterable[ContextBlock]:
    return await _running[ctx].recaller.blocks(request)


@hookimpl
async def after_chat_turn(ctx: PluginContext, turn: ChatTurn) -> None:
    await _running[ctx].learn(turn)


@hookimpl
async def health_check(ctx: PluginContext) -> HealthCheck:
    started = time.perf_counter()
    await ctx.vectors.count("memory")
    return HealthCheck("memory", "ok", latency_ms=round((time.perf_counter() - started) * 1000, 2))


@hookimpl
def register_commands(cli: click.Group) -> None:
    from lumina_memory.commands import memory

    cli.add_command(memory)


def _timestamp(created_at: str) -> float:
    if not created_at:
        return time.time()
    try:
        return datetime.fromisoformat(created_at).timestamp()
    except ValueError:
        return time.time()
