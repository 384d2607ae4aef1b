"""The scratch-pad plugin's hooks: pads and their routes, reflection tasks on crawled articles,
the compression sweep and the dream cycle."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter

from lumina_core.context import PluginContext
from lumina_core.contract import PeriodicJob
from lumina_core.services.compute import in_background
from lumina_core.hookspecs import hookimpl
from lumina_scratchpad.compression import sweep
from lumina_scratchpad.dream import DreamCycle
from lumina_scratchpad.journal import Journal
from lumina_scratchpad.pads import SYSTEM_OWNER, reflection_pad
from lumina_scratchpad.reflection import Reflector, read_article
from lumina_scratchpad.routes import pad_routes
from lumina_scratchpad.settings import ScratchpadSettings, scratchpad_settings
from lumina_scratchpad.store import PadStore, build_store

#: The crawler's statuses for an article it has just put in the index.
NEWLY_CRAWLED = frozenset({"added", "replaced"})


class _State:
    """What the hooks share for one start of the plugin."""

    settings: ScratchpadSettings
    store: PadStore
    journal: Journal


_state = _State()


@hookimpl
def startup(ctx: PluginContext) -> None:
    _state.settings = scratchpad_settings(ctx.config)
    _state.store = build_store(_state.settings.redis_url, _state.settings.redis_prefix)
    _state.journal = Journal(ctx.data_dir / "journal.sqlite")
    ctx.on_stop(_state.store.close)
    ctx.on_stop(_state.journal.close)


def dream_cycle(ctx: PluginContext) -> DreamCycle:
    return DreamCycle(_state.store, ctx.service("knowledge"), lambda: ctx.service("crawler"), ctx.tasks,
                      _state.journal, _state.settings, ctx.name)


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    return pad_routes(ctx.router(), _state.store, _state.journal, _state.settings, lambda: dream_cycle(ctx))


@hookimpl
def register_event_handlers(ctx: PluginContext) -> Mapping[str, Any]:
    async def on_node_added(event: Mapping[str, Any]) -> None:
        """A newly crawled article is queued for reflection (a task: at least once, across restarts)."""
        node = event["payload"]
        if node.get("kind") == "article" and node.get("status") in NEWLY_CRAWLED:
            await ctx.tasks.submit({"reflect": node["title"], "article_id": node["id"]}, owner=ctx.name)

    return {"graph.node_added": on_node_added}


@hookimpl
def register_task_handlers(ctx: PluginContext) -> Mapping[str, Any]:
    async def reflect(task: Mapping[str, Any]) -> dict[str, Any]:
        """Notes on one article in its pad; its open questions become candidate gaps. Notes have
        stable ids, so a re-delivered task adds nothing and records no gap twice."""
        knowledge = ctx.service("knowledge")
        started = time.perf_counter()
        article = await read_article(knowledge, task["article_id"], task["reflect"])
        reflector = Reflector(ctx.llm, ttl_s=_state.settings.ttl_s, budget_s=_state.settings.reflect_budget_s)
        with in_background():  # the model answers whoever is waiting first
            notes = await reflector.reflect(article)
        elapsed_ms = (time.perf_counter() - started) * 1000
        pad = reflection_pad(article.id)
        new = await _state.store.add(SYSTEM_OWNER, pad, notes)
        for note in (n for n in new if n.kind == "open_question"):
            await knowledge.record_gap(note.text, user_id=SYSTEM_OWNER, confidence=0.0, source="reflection",
                                       evidence=[article.title],
                                       reason=f"open question from reflecting on {article.title}")
        by_model = sum(n.origin == "model" for n in notes)
        _state.journal.reflected(article.id, article.title, at=time.time(), ms=elapsed_ms, notes=len(notes),
                                 model_notes=by_model)
        return {"pad": pad, "notes": len(notes), "new": len(new), "by_model": by_model,
                "reflect_ms": round(elapsed_ms, 1)}

    return {"reflect": reflect}


@hookimpl
def register_periodic_jobs(ctx: PluginContext) -> list[PeriodicJob]:
    async def compress() -> None:
        await sweep(_state.store, ctx.service("knowledge"), _state.journal)

    async def dream() -> None:
        await dream_cycle(ctx).run()

    return [PeriodicJob("scratchpad.compress", _state.settings.sweep_cron, compress),
            PeriodicJob("scratchpad.dream", _state.settings.dream_cron, dream)]
