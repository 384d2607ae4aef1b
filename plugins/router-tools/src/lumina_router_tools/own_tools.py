"""Lumina's own tools, offered through ``register_tools`` like any plugin's: search the caller's
memories and the knowledge base. They are what MCP clients of Lumina mostly want.

Memory search goes through the memory plugin's public HTTP route (``POST /memory/search``),
in-process and as the caller, so this plugin never reaches into memory's storage; knowledge
search through the ``knowledge`` service. Who calls is a :class:`Caller` in a context variable,
set by the route that received the request (or by ``lumina mcp``).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any

import httpx

from lumina_core.context import PluginContext
from lumina_core.contract import Tool
from lumina_core.errors import LuminaError, ServiceUnavailable
from lumina_router_tools.http_tools import ToolFailed


@dataclass(frozen=True)
class Caller:
    """Who a tool call acts for: the user, the app to call routes on, their credentials."""

    user_id: str
    app: Any = None
    headers: dict[str, str] = field(default_factory=dict)


CALLER: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("lumina_router_tools_caller", default=None)
QUERY = {"type": "string", "description": "What to look for, in plain words."}
LIMIT = {"type": "integer", "minimum": 1, "maximum": 20, "description": "How many results."}


def own_tools(ctx: PluginContext) -> list[Tool]:
    async def memory_search(query: str, limit: int = 5) -> Any:
        return await _memory_route({"query": query, "limit": limit})

    async def knowledge_search(query: str, limit: int = 5) -> Any:
        try:
            knowledge = ctx.service("knowledge")
        except ServiceUnavailable as exc:
            raise ToolFailed(exc.message) from None
        hits = await knowledge.search(query, limit)
        return [{k: hit.get(k) for k in ("id", "title", "url", "score", "text")} for hit in hits]

    schema = {"type": "object", "properties": {"query": QUERY, "limit": LIMIT}, "required": ["query"]}
    return [
        Tool("memory_search", "Search the user's own memories and past conversations by meaning.", schema, memory_search),
        Tool("knowledge_search", "Search the knowledge base (indexed articles) for passages about a topic.", schema,
             knowledge_search),
    ]


async def _memory_route(body: dict[str, Any]) -> Any:
    caller = CALLER.get()
    if caller is None or caller.app is None:
        raise ToolFailed("memory_search needs a caller: call it through Lumina's API or MCP server")
    transport = httpx.ASGITransport(app=caller.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lumina.internal", timeout=30) as client:
        response = await client.post("/memory/search", json=body, headers=caller.headers)
    if response.status_code == 404:
        raise ToolFailed("memory search is not available: the memory plugin is not running")
    if response.status_code >= 400:
        raise ToolFailed(f"memory search answered {response.status_code}: {_error(response)}")
    return [{k: item.get(k) for k in ("id", "text", "score", "created_at")} for item in response.json()["items"]]


def _error(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError, LuminaError):
        return response.text[:200]
