"""The crawler plugin's hooks: the ``crawler`` service, graph routes, the page-ingest route, crawl tasks, the CLI."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import click
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from lumina_core.context import PluginContext
from lumina_core.contract import PeriodicJob
from lumina_core.errors import NotFound
from lumina_core.hookspecs import hookimpl
from lumina_crawler.cli import ingest_command, knowledge_group
from lumina_crawler.crawl import DAY, Crawler, CrawlRequest
from lumina_crawler.frontier import Frontier
from lumina_crawler.graph import GraphStore
from lumina_crawler.graph_page import add_graph_page
from lumina_crawler.ingest import Ingestor, SourcePage
from lumina_crawler.mediawiki import MediaWikiClient, Politeness
from lumina_crawler.ratelimit import CrawlPace
from lumina_crawler.service import CrawlerService
from lumina_crawler.settings import crawler_settings

log = logging.getLogger("lumina.crawler")
MAX_PAGES_PER_REQUEST = 500
RECRAWL_CRON = "30 3 * * *"
RECRAWL_BATCH = 100


class PageIn(BaseModel):
    title: str = Field(min_length=1, max_length=512)
    wikitext: str = ""
    revision_id: int | None = None
    timestamp: str = ""
    url: str = ""
    namespace: int = 0
    redirect_to: str | None = None


class PagesIn(BaseModel):
    pages: list[PageIn] = Field(min_length=1, max_length=MAX_PAGES_PER_REQUEST)


class _State:
    """What the hooks share for one start of the plugin."""

    graph: GraphStore
    frontier: Frontier


_state = _State()


@hookimpl
def register_services(ctx: PluginContext) -> Mapping[str, Any]:
    """The graph and the wiki's search, for planners (the graph opens at startup, just after)."""
    return {"crawler": CrawlerService(lambda: _state.graph, lambda: wiki_client(ctx),
                                      lambda: crawler_settings(ctx.config).recrawl_days)}


@hookimpl
def startup(ctx: PluginContext) -> None:
    _state.graph = GraphStore(ctx.data_dir / "graph.sqlite")
    _state.frontier = Frontier(ctx.data_dir / "frontier.sqlite")
    ctx.on_stop(_state.graph.close)
    ctx.on_stop(_state.frontier.close)


def ingestor(ctx: PluginContext, *, dense_now: bool = True) -> Ingestor:
    """An ingestor bound to the services as they are now (the knowledge plugin may reload)."""
    settings = crawler_settings(ctx.config)
    return Ingestor(_state.graph, ctx.service("knowledge"), ctx.publish, wiki_url=settings.article_url_base,
                    dense_now=dense_now)


def wiki_client(ctx: PluginContext) -> MediaWikiClient:
    """A client of the configured wiki, paced by the rate limit all workers share."""
    settings = crawler_settings(ctx.config)
    pace = CrawlPace(ctx.service("rate_limits"), settings.rate_limit)
    politeness = Politeness(user_agent=settings.user_agent, maxlag=settings.maxlag)
    return MediaWikiClient(ctx.http, settings.wiki_api, politeness, pace)


def crawler(ctx: PluginContext) -> Crawler:
    """A crawler on the configured wiki; what it fetches is searchable by its words at once, by
    meaning a moment later."""
    settings = crawler_settings(ctx.config)
    return Crawler(wiki_client(ctx), ingestor(ctx, dense_now=False), _state.graph, _state.frontier,
                   recrawl_days=settings.recrawl_days)


@hookimpl
def register_task_handlers(ctx: PluginContext) -> Mapping[str, Any]:
    async def crawl(task: Mapping[str, Any], job: Any) -> dict[str, Any]:
        """Crawl from the seeds; a re-delivered task resumes from its saved frontier."""
        return await crawler(ctx).run(job.id, CrawlRequest.from_task(task), job.progress)

    return {"crawl": crawl}


@hookimpl
def register_periodic_jobs(ctx: PluginContext) -> list[PeriodicJob]:
    async def recrawl() -> None:
        """Queue a refresh (by revision id) of articles older than RECRAWL_DAYS, 100 a night."""
        settings = crawler_settings(ctx.config)
        stale = _state.graph.stale_articles(settings.recrawl_days * DAY, limit=RECRAWL_BATCH)
        if stale:
            task = {"crawl": [node.title for node in stale], "hops": 0, "max_nodes": len(stale)}
            await ctx.tasks.submit(task, owner=ctx.name)

    return [PeriodicJob("crawler.recrawl", RECRAWL_CRON, recrawl)]


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    router = ctx.router()
    graph = APIRouter(prefix="/graph", route_class=router.route_class)

    @router.post("/pages", summary="Ingest raw pages: clean, add to the graph and the index")
    async def ingest_pages(body: PagesIn) -> dict[str, Any]:
        pages_in = ingestor(ctx)
        outcomes = [await pages_in.ingest(SourcePage(**page.model_dump())) for page in body.pages]
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        items = [{"id": o.node_id, "title": o.title, "status": o.status, "passages": o.passages} for o in outcomes]
        return {"items": items, "counts": counts}

    @graph.get("/nodes/{node}", summary="One node, by id or by title")
    async def get_node(node: str) -> dict[str, Any]:
        return _node_or_404(node).to_dict()

    @graph.get("/neighbors/{node}", summary="The neighbourhood of a node")
    async def neighbours(node: str, depth: int = Query(1, ge=1, le=3)) -> dict[str, Any]:
        centre = _node_or_404(node)
        nodes, edges = _state.graph.neighbours(centre.id, depth)
        return {
            "node": centre.to_dict(),
            "depth": depth,
            "nodes": [n.to_dict() for n in nodes],
            "links": [e.__dict__ for e in edges],
        }

    @graph.get("/stats", summary="How big the graph is")
    async def stats() -> dict[str, Any]:
        return _state.graph.stats()

    add_graph_page(graph, _state.graph)
    router.routes.extend(graph.routes)  # the second prefix of the manifest, with the plugin's route class
    return router


def _node_or_404(node: str) -> Any:
    found = _state.graph.get(node)
    if found is None:
        raise NotFound(f"no graph node with id or title '{node}' (see GET /graph/stats, or crawl it first)")
    return found


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``lumina knowledge ingest``, joining a ``knowledge`` group another plugin may have made."""
    group = cli.commands.get("knowledge")
    if not isinstance(group, click.Group):
        group = knowledge_group
        cli.add_command(group)
    group.add_command(ingest_command)
