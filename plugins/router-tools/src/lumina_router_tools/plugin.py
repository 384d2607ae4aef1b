"""The router-tools plugin's hooks: the ``tool_router`` service, its routes, Lumina's own tools,
the MCP connections and server, and the ``lumina mcp`` command."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import click
from fastapi import APIRouter

from lumina_core.context import PluginContext
from lumina_core.contract import Tool
from lumina_core.errors import ServiceUnavailable
from lumina_core.hookspecs import hookimpl
from lumina_router_tools import commands
from lumina_router_tools.calls import Invoker, Runner
from lumina_router_tools.chat import RouterChat
from lumina_router_tools.http_tools import Policy, ToolFailed, call_http_tool
from lumina_router_tools.mcp_client import McpServers
from lumina_router_tools.mcp_server import HttpMcp, build_server
from lumina_router_tools.netguard import ALLOW_ENV, AllowList, Guard, guarded_client
from lumina_router_tools.own_tools import call_endpoint, own_tools
from lumina_router_tools.router import Router
from lumina_router_tools.routes import add_routes
from lumina_router_tools.service import ToolService
from lumina_router_tools.store import ToolStore


class _State:
    service: ToolService
    chat: RouterChat
    guard: Guard
    http_mcp: HttpMcp


_state = _State()


def tool_service() -> ToolService:
    return _state.service


@hookimpl
def register_services(ctx: PluginContext) -> Mapping[str, Any]:
    config = ctx.config
    allow = AllowList.parse([*os.environ.get(ALLOW_ENV, "").split(","), *config["allow"]])
    guard = Guard(allow)
    policy = Policy(config["timeout_s"], config["max_response_bytes"], config["retries"])
    client = guarded_client(guard, timeout=policy.timeout_s, follow_redirects=True, max_redirects=5)
    ctx.on_stop(client.aclose)
    store = ToolStore(ctx.data_dir / "tools.sqlite")
    ctx.on_stop(store.close)
    servers = McpServers(guard, refresh_s=config["mcp_refresh_s"], connect_timeout_s=config["mcp_connect_timeout_s"])
    ctx.on_stop(servers.close)
    try:
        shelf = ctx.service("plugin_tools")
    except ServiceUnavailable:
        shelf = None

    async def run_plugin_tool(spec: Any, arguments: Mapping[str, Any]) -> Any:
        tool = _state.service.plugin_tools().get(spec.name)
        if tool is None:
            raise ToolFailed(f"the plugin that offered {spec.name} is no longer running")
        return await tool.run(**arguments)

    async def run_client_tool(spec: Any, arguments: Mapping[str, Any]) -> Any:
        raise ToolFailed(f"{spec.name} is the client's own tool: the client runs it")

    runners: dict[str, Runner] = {
        "http": lambda spec, arguments: call_http_tool(client, spec, arguments, policy),
        "mcp": lambda spec, arguments: servers.call(spec, arguments, policy.timeout_s),
        "plugin": run_plugin_tool,
        "endpoint": lambda spec, arguments: call_endpoint(spec, arguments, max_bytes=policy.max_response_bytes),
        "client": run_client_tool,
    }
    router = Router(ctx.llm, model=config["router_model"], shortlist_size=config["shortlist_size"],
                    timeout_s=config["router_timeout_s"])
    _state.service = ToolService(store, servers, router, Invoker(runners, policy), shelf, ctx.plugin_manifests)
    _state.chat = RouterChat(_state.service, ctx.service("chat"), ctx.llm, reply_tokens=config["reply_tokens"])
    _state.guard = guard
    _state.http_mcp = HttpMcp(build_server(tool_service))
    return {"tool_router": _state.service}


@hookimpl
async def startup(ctx: PluginContext) -> None:
    await _state.service.start_servers()
    await _state.http_mcp.start()
    ctx.on_stop(_state.http_mcp.stop)


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    return add_routes(ctx, _state.service, _state.chat, _state.guard, _state.http_mcp)


@hookimpl
def register_tools(ctx: PluginContext) -> Iterable[Tool]:
    return own_tools(ctx)


@hookimpl
def register_commands(cli: click.Group) -> None:
    commands.add_commands(cli)
