"""The live graph page (``GET /graph/page``): the knowledge graph in a browser, growing as it grows.

The page (``graph_page.html``, one self-contained file: no CDN, the machine may be offline) draws
``GET /graph/overview`` (the newest nodes, or those whose title matches the search, and the links
between them), then listens on the host's ``/stream`` WebSocket for ``graph.node_added`` and adds
each new node with its links (``GET /graph/neighbors/{id}``) as the crawler adds it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Query
from starlette.responses import HTMLResponse

from lumina_crawler.graph import GraphStore, Node

DEFAULT_NODES = 200
MAX_NODES = 1000
_PAGE = files("lumina_crawler").joinpath("graph_page.html")


@dataclass(frozen=True)
class GraphView:
    """Read-only views of the graph that the page draws, on their own read-only connections."""

    graph: GraphStore

    def overview(self, search: str = "", limit: int = DEFAULT_NODES) -> dict[str, Any]:
        """The newest ``limit`` nodes (fetched first, then link targets), or those whose title
        contains ``search`` (any case), and every link between them."""
        pattern = f"%{_escaped(search.strip())}%"
        rows = self._rows(
            "SELECT * FROM nodes WHERE title LIKE ? ESCAPE '\\' "
            "ORDER BY fetched_at IS NULL, fetched_at DESC, title LIMIT ?",
            (pattern, limit),
        )
        nodes = [Node(**dict(row)).to_dict() for row in rows]
        ids = [node["id"] for node in nodes]
        return {"search": search, "nodes": nodes, "links": self._links_between(ids), "total": self.graph.stats()["nodes"]}

    def _links_between(self, ids: list[str]) -> list[dict[str, str]]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self._rows(
            f"SELECT source, target, relation FROM links WHERE source IN ({marks}) AND target IN ({marks})",
            (*ids, *ids),
        )
        return [dict(row) for row in rows]

    def _rows(self, sql: str, args: Sequence[Any]) -> list[sqlite3.Row]:
        connection = sqlite3.connect(f"file:{self.graph.path}?mode=ro", uri=True, timeout=10)
        try:
            connection.row_factory = sqlite3.Row
            return connection.execute(sql, args).fetchall()
        finally:
            connection.close()


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def add_graph_page(graph_routes: APIRouter, graph: GraphStore) -> None:
    """Add the page and its overview to the crawler's ``/graph`` routes."""
    view = GraphView(graph)

    @graph_routes.get("/page", response_class=HTMLResponse, summary="The live graph page (open it in a browser)")
    async def page() -> HTMLResponse:
        return HTMLResponse(_PAGE.read_text(encoding="utf-8"))

    @graph_routes.get("/overview", summary="Nodes to draw (newest, or matching ?q=) and the links between them")
    async def overview(
        q: str = Query("", max_length=200, description="Only nodes whose title contains this (any case)."),
        limit: int = Query(DEFAULT_NODES, ge=1, le=MAX_NODES),
    ) -> dict[str, Any]:
        return view.overview(q, limit)
