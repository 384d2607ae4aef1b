"""Crawl tasks: ``{"crawl": ["Mandelbrot set"], "hops": 1, "max_nodes": 30}``.

Breadth-limited by ``hops`` and size-limited by ``max_nodes`` (pages visited, including missing
and disambiguation pages). The next pages to fetch are the waiting ones with the highest
priority = link structure × novelty × recency:

* link structure: ``1 + ln(1 + in-links)``, the links the graph already holds towards the page;
* novelty: 1 for a page never fetched, ``STALE_NOVELTY`` for one whose copy is older than
  ``RECRAWL_DAYS``; a fresh copy is not fetched again (its stored links are followed instead);
* recency: ``1 / (1 + depth)``, pages found closer to the seeds first.

A stale copy is refreshed by revision id: when the wiki's revision is the one stored, only its
fetch time moves. Links of disambiguation pages are kept as candidates at a lower priority.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lumina_core.errors import ValidationFailed
from lumina_crawler.frontier import Entry, Frontier
from lumina_crawler.graph import GraphStore, Node, node_id
from lumina_crawler.ingest import Ingestor, Outcome, SourcePage
from lumina_crawler.mediawiki import MediaWikiClient, WikiPage
from lumina_crawler.wikitext import normalise_title

MAX_HOPS = 3
MAX_NODES = 1000
FETCH_BATCH = 10
STALE_NOVELTY = 0.5
CANDIDATE_DISCOUNT = 0.5
DAY = 86_400.0

Progress = Callable[[float, str], Awaitable[None]]


@dataclass(frozen=True)
class CrawlRequest:
    seeds: tuple[str, ...]
    hops: int = 1
    max_nodes: int = 30

    @classmethod
    def from_task(cls, task: Mapping[str, Any]) -> CrawlRequest:
        seeds = task.get("crawl")
        if isinstance(seeds, str):
            seeds = [seeds]
        if not isinstance(seeds, list) or not seeds or not all(isinstance(s, str) and s.strip() for s in seeds):
            raise ValidationFailed('a crawl task names its seed titles: {"crawl": ["Mandelbrot set"], "hops": 1}', field="crawl")
        hops, max_nodes = task.get("hops", 1), task.get("max_nodes", 30)
        if not isinstance(hops, int) or not 0 <= hops <= MAX_HOPS:
            raise ValidationFailed(f"hops must be a whole number from 0 to {MAX_HOPS}", field="hops")
        if not isinstance(max_nodes, int) or not 1 <= max_nodes <= MAX_NODES:
            raise ValidationFailed(f"max_nodes must be a whole number from 1 to {MAX_NODES}", field="max_nodes")
        return cls(tuple(normalise_title(s) for s in seeds), hops, max_nodes)


@dataclass
class CrawlReport:
    visited: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    titles: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def count(self, outcome: Outcome) -> None:
        self.visited += 1
        self.statuses[outcome.status] = self.statuses.get(outcome.status, 0) + 1
        self.titles.append(outcome.title)
        if outcome.status == "missing":
            self.missing.append(outcome.title)

    def to_dict(self) -> dict[str, Any]:
        return {"visited": self.visited, "statuses": self.statuses, "titles": self.titles, "missing": self.missing}


class Crawler:
    def __init__(self, client: MediaWikiClient, ingestor: Ingestor, graph: GraphStore, frontier: Frontier, *,
                 recrawl_days: float) -> None:
        self.client = client
        self.ingestor = ingestor
        self.graph = graph
        self.frontier = frontier
        self.recrawl_s = recrawl_days * DAY

    async def run(self, crawl_id: str, request: CrawlRequest, progress: Progress) -> dict[str, Any]:
        """Crawl until ``max_nodes`` pages are visited or nothing is left within ``hops``."""
        if not self.frontier.started(crawl_id):
            self.frontier.add(crawl_id, [Entry(seed, 0, float("inf")) for seed in request.seeds])
        report = CrawlReport(visited=self.frontier.done(crawl_id))
        while report.visited < request.max_nodes:
            batch = self.frontier.next(crawl_id, min(FETCH_BATCH, request.max_nodes - report.visited))
            if not batch:
                break
            for entry, outcome in zip(batch, await self._visit(batch)):
                report.count(outcome)
                if entry.depth < request.hops:
                    self._expand(crawl_id, entry, outcome)
            self.frontier.mark_done(crawl_id, [e.title for e in batch])
            await progress(report.visited / request.max_nodes, f"{report.visited} of at most {request.max_nodes} pages")
        return {**report.to_dict(), "waiting": self.frontier.waiting(crawl_id)}

    async def _visit(self, batch: Sequence[Entry]) -> list[Outcome]:
        """Fetch what needs fetching (new or stale pages), reuse fresh copies."""
        nodes = {e.title: self.graph.get(node_id(e.title)) for e in batch}
        to_fetch = [e.title for e in batch if not self._fresh(nodes[e.title])]
        fetched = {page.requested: page for page in await self.client.pages(to_fetch)} if to_fetch else {}
        outcomes = []
        for entry in batch:
            page = fetched.get(entry.title)
            if page is None:
                outcomes.append(self._known(nodes[entry.title]))
            else:
                outcomes.append(await self._ingest(page, nodes[entry.title]))
        return outcomes

    async def _ingest(self, page: WikiPage, known: Node | None) -> Outcome:
        if known is not None and known.kind == "article" and page.revision_id == known.revision:
            self.graph.put(Node(**{**known.__dict__, "fetched_at": time.time()}))
            return self._known(known)
        if page.redirected_from:
            self.graph.link(node_id(page.redirected_from), [page.title], "redirects_to")
        return await self.ingestor.ingest(
            SourcePage(title=page.title, wikitext=page.wikitext, revision_id=page.revision_id,
                       timestamp=page.timestamp, url=page.url, missing=page.missing,
                       disambiguation=page.disambiguation)
        )

    def _known(self, node: Node | None) -> Outcome:
        assert node is not None
        return Outcome(node.id, node.title, "unchanged", tuple(self.graph.outgoing(node.id)))

    def _fresh(self, node: Node | None) -> bool:
        return (node is not None and node.kind in ("article", "disambiguation") and node.fetched_at is not None
                and time.time() - node.fetched_at < self.recrawl_s)

    def _expand(self, crawl_id: str, entry: Entry, outcome: Outcome) -> None:
        discount = CANDIDATE_DISCOUNT if outcome.status == "disambiguation" else 1.0
        depth = entry.depth + 1
        self.frontier.add(crawl_id, [Entry(t, depth, discount * self.priority(t, depth)) for t in outcome.links])

    def priority(self, title: str, depth: int) -> float:
        """Link structure × novelty × recency (see the module docstring)."""
        node = self.graph.get(node_id(title))
        structure = 1 + math.log1p(self.graph.in_degree(node_id(title)))
        novelty = 1.0 if node is None or node.kind == "candidate" or node.fetched_at is None else STALE_NOVELTY
        return structure * novelty / (1 + depth)
