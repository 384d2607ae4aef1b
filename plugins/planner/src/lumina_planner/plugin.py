"""The planner plugin's hooks: planning cycles on a schedule and on demand, its log and status.

Gaps come from the ``knowledge`` service, titles and the graph from the ``crawler`` service,
crawls go on the task queue as the crawler's ``crawl`` tasks; the planner only decides.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

from croniter import croniter
from fastapi import APIRouter, Depends, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from lumina_core.api.lists import Page
from lumina_core.auth import require_admin
from lumina_core.context import PluginContext
from lumina_core.contract import ChatTurn, PeriodicJob
from lumina_core.errors import ConfigurationError
from lumina_core.hookspecs import hookimpl
from lumina_core.plugins.manifest import ManifestInvalid
from lumina_planner.goals import Goals, load_goals
from lumina_planner.journal import Journal
from lumina_planner.planning import Planner
from lumina_planner.settings import planner_settings
from lumina_planner.topics import key_terms

SETTLE_TASK = "planner_settle"
TAIL_POLL_S = 0.5
HEARTBEAT_S = 15


class _State:
    journal: Journal
    goals: Goals
    planner: Planner


_state = _State()


@hookimpl
def startup(ctx: PluginContext) -> None:
    """Refuse a bad goal file here, with every problem and its field path."""
    settings = planner_settings(ctx.config)
    try:
        _state.goals = load_goals(settings.goal_file)
    except ManifestInvalid as exc:
        raise ConfigurationError(f"the goal file is not valid:\n{exc}", field="goal_file") from None
    _state.journal = Journal(ctx.data_dir / "journal.sqlite")
    ctx.on_stop(_state.journal.close)
    _state.planner = Planner(
        knowledge=ctx.service("knowledge"), crawler=ctx.service("crawler"), tasks=ctx.tasks, embedder=ctx.embedder,
        llm=ctx.llm, journal=_state.journal, goals=lambda: _state.goals, settings=settings.planning, owner=ctx.name,
        publish=ctx.publish,
    )


@hookimpl
def register_periodic_jobs(ctx: PluginContext) -> list[PeriodicJob]:
    async def plan() -> None:
        await _state.planner.cycle("schedule")

    return [PeriodicJob("planner.plan", planner_settings(ctx.config).plan_cron, plan)]


@hookimpl
def register_event_handlers(ctx: PluginContext) -> Mapping[str, Any]:
    async def crawl_ended(event: Mapping[str, Any]) -> None:
        """A crawl we asked for ended: settle its gap now, not at the next cycle, as a task of
        its own (judging reads the index; a bus handler should be quick)."""
        payload = event.get("payload", {})
        if payload.get("kind") == "crawl" and _state.journal.crawl(payload["task_id"]) is not None:
            await ctx.tasks.submit({SETTLE_TASK: payload["task_id"]}, owner=ctx.name)

    return {"task.completed": crawl_ended, "task.failed": crawl_ended}


@hookimpl
def register_task_handlers(ctx: PluginContext) -> Mapping[str, Any]:
    async def settle(task: Mapping[str, Any]) -> dict[str, Any] | None:
        """Judge the gap of one ended crawl (once, however often this is delivered)."""
        return await _state.planner.task_ended(task[SETTLE_TASK])

    return {SETTLE_TASK: settle}


@hookimpl
async def after_chat_turn(ctx: PluginContext, turn: ChatTurn) -> None:
    """Names a user asks about that no graph node matches become that user's gaps."""
    crawler, knowledge = ctx.service("crawler"), ctx.service("knowledge")
    for term in key_terms(turn.request.last_user_message):
        if len(term) >= 3 and crawler.node(term) is None:
            await knowledge.record_gap(term, user_id=turn.request.user_id, source="unmatched_term", score=0.5,
                                       reason="asked about in chat; no node of the knowledge graph matches it",
                                       evidence=[turn.request.last_user_message[:200]])


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    router = ctx.router()
    masterchat = APIRouter(prefix="/masterchat/plan", route_class=router.route_class)

    @masterchat.post("", summary="Run one planning cycle now", dependencies=[Depends(require_admin)])
    async def plan_now() -> dict[str, Any]:
        return await _state.planner.cycle("request")

    @router.get("/logs", summary="Every decision with its reason, newest first (SSE: a live tail)")
    async def logs(request: Request, page: Page = Depends()) -> Any:
        if "text/event-stream" in request.headers.get("accept", ""):
            resume = request.headers.get("last-event-id", "")
            after = int(resume) if resume.isdigit() else _newest_id()
            return EventSourceResponse(_tail(request, after), ping=HEARTBEAT_S)
        items = _state.journal.decisions_before(_before(page), page.limit)
        more = len(items) == page.limit and int(items[-1]["id"]) > 1
        return {"items": items, "next_cursor": items[-1]["id"] if more else None}

    @router.get("/status", summary="Last and next cycle, crawl queue, budget left, gaps by state")
    async def status() -> dict[str, Any]:
        return _status(ctx)

    router.routes.extend(masterchat.routes)  # the manifest's second prefix, with the plugin's route class
    return router


def _status(ctx: PluginContext) -> dict[str, Any]:
    settings, goals, journal = planner_settings(ctx.config), _state.goals, _state.journal
    used = journal.pages_asked()
    upcoming = croniter(settings.plan_cron, datetime.now(UTC)).get_next(datetime)
    return {
        "last_cycle": journal.last_cycle(),
        "next_cycle_at": upcoming.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "plan_cron": settings.plan_cron,
        "queue_depth": len(journal.unsettled()),
        "water_marks": {"low": settings.low_water, "high": settings.high_water},
        "budget": {"pages_per_hour": goals.pages_per_hour, "pages_asked_last_hour": used,
                   "pages_left": max(0, goals.pages_per_hour - used),
                   "llm_spend_per_day": goals.llm_spend_per_day, "llm_spent_today": round(ctx.llm.spend().usd, 6)},
        "goals": {"source": goals.source, "count": len(goals.goals)},
        "gaps": ctx.service("knowledge").gap_counts(),
    }


def _before(page: Page) -> int:
    """Pages of the log run from the newest decision back: the cursor is the last id shown."""
    return page.offset or _newest_id() + 1


def _newest_id() -> int:
    newest = _state.journal.decisions(limit=1)
    return int(newest[0]["id"]) if newest else 0


async def _tail(request: Request, after: int) -> AsyncIterator[ServerSentEvent]:
    """Decisions as they are written, by any process on this data folder; resumable by id."""
    while not await request.is_disconnected():
        for decision in _state.journal.decisions(after=after, limit=100, newest_first=False):
            after = int(decision["id"])
            yield ServerSentEvent(json.dumps(decision), event="decision", id=decision["id"])
        await asyncio.sleep(TAIL_POLL_S)


@hookimpl
def check_config(config: Mapping[str, Any]) -> list[str]:
    """``lumina plugin check``: the goal file's problems, one line each with its field path."""
    try:
        load_goals(planner_settings(config).goal_file)
    except ManifestInvalid as exc:
        return [str(problem) for problem in exc.problems]
    return []
