"""Lumina's own tools: the endpoints plugins mark as tools in their manifests (``tool:``, such as
the memory plugin's ``POST /memory/search``) and ``knowledge_search``, offered through
``register_tools`` like any plugin's. They are what MCP clients of Lumina mostly want.

A marked endpoint is called through the host's HTTP app, in-process and as the caller (their
credentials), so the plugin's own route checks who asks and users only see their own data; this
plugin never reaches into another's storage. Who calls is a :class:`Caller` in a context
variable, set by the route that received the request (or by ``lumina mcp``).
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from lumina_core.context import PluginContext
from lumina_core.contract import Tool
from lumina_core.errors import LuminaError, ServiceUnavailable
from lumina_core.plugins.manifest import Manifest
from lumina_router_tools.definitions import ToolSpec
from lumina_router_tools.http_tools import ToolFailed


@dataclass(frozen=True)
class Caller:
    """Who a tool call acts for: the user, the app to call routes on, their credentials."""

    user_id: str
    app: Any = None
    headers: dict[str, str] = field(default_factory=dict)


#: The owner of the tools plugins offer (every user sees them).
PLUGIN_OWNER = "plugin"
CALLER: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("lumina_router_tools_caller", default=None)
QUERY = {"type": "string", "description": "What to look for, in plain words."}
_PATH_PARAMETER = re.compile(r"{([^}/]+)}")
LIMIT = {"type": "integer", "minimum": 1, "maximum": 20, "description": "How many results."}


def own_tools(ctx: PluginContext) -> list[Tool]:
    async def knowledge_search(query: str, limit: int = 5) -> Any:
        try:
            knowledge = ctx.service("knowledge")
        except ServiceUnavailable as exc:
            raise ToolFailed(exc.message) from None
        hits = await knowledge.search(query, limit)
        return [{k: hit.get(k) for k in ("id", "title", "url", "score", "text")} for hit in hits]

    schema = {"type": "object", "properties": {"query": QUERY, "limit": LIMIT}, "required": ["query"]}
    return [Tool("knowledge_search", "Search the knowledge base (indexed articles) for passages about a topic.", schema,
                 knowledge_search)]


def endpoint_specs(manifests: Iterable[Manifest]) -> list[ToolSpec]:
    """The endpoints serving plugins mark as tools, as tools every user may call (each call
    acts as its caller, so each sees only their own data)."""
    return [ToolSpec(e.tool.name, e.tool.description, e.tool.input_schema, "endpoint", "global", PLUGIN_OWNER,
                     url=e.path, method=e.method, server=manifest.name)  # type: ignore[arg-type]
            for manifest in manifests for e in manifest.endpoints if e.tool is not None]


async def call_endpoint(spec: ToolSpec, arguments: Mapping[str, Any], *, max_bytes: int) -> Any:
    """Call a marked endpoint as the caller: path parameters from the arguments by name, the
    others as the query (GET, DELETE) or the JSON body; the answer's JSON is the result."""
    caller = CALLER.get()
    if caller is None or caller.app is None:
        raise ToolFailed(f"{spec.name} needs a caller: call it through Lumina's API or MCP server")
    rest = dict(arguments)
    path = _PATH_PARAMETER.sub(lambda m: quote(str(rest.pop(m.group(1), "")), safe=""), spec.url)
    as_query = spec.method in ("GET", "DELETE")
    transport = httpx.ASGITransport(app=caller.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lumina.internal", timeout=None) as client:
        response = await client.request(spec.method, path, headers=caller.headers,
                                        params=_query(rest) if as_query else None, json=None if as_query else rest)
    if len(response.content) > max_bytes:
        raise ToolFailed(f"{spec.name} answered {len(response.content)} bytes, over the {max_bytes} byte cap")
    if response.status_code >= 400:
        raise ToolFailed(f"{spec.method} {spec.url} answered {response.status_code}: {_error(response)}")
    return response.json() if response.content else None


def _query(arguments: Mapping[str, Any]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in arguments.items()}


def _error(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError, LuminaError):
        return response.text[:200]
