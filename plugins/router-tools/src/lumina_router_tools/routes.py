"""The plugin's HTTP routes: ``/router/tools``, ``/router/mcp-servers``, ``/router/chat`` and ``/mcp``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.responses import Response

from lumina_core.api.lists import Page
from lumina_core.auth import Forbidden, User, current_user
from lumina_core.chat.sse import event_frame, sse_response
from lumina_core.context import PluginContext
from lumina_core.errors import LuminaError, ValidationFailed
from lumina_router_tools.calls import new_call
from lumina_router_tools.chat import RouterChat, events
from lumina_router_tools.definitions import NAME_PATTERN, Scope, ToolIn, ToolSpec
from lumina_router_tools.mcp_server import HttpMcp
from lumina_router_tools.netguard import Guard
from lumina_router_tools.own_tools import CALLER, Caller
from lumina_router_tools.service import ToolService
from lumina_router_tools.store import McpServerSpec, owner_of

MAX_WAIT_S = 30.0


class McpServerIn(BaseModel):
    """An MCP server: a streamable HTTP ``url``, or a stdio ``command`` (admins only)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=NAME_PATTERN)
    url: str | None = Field(None, max_length=2048)
    command: list[str] | None = Field(None, min_length=1, max_length=64)
    headers: dict[str, str] = Field(default_factory=dict, description="Sent to an HTTP server; never returned.")
    scope: Scope = "user"
    wait_s: float = Field(5.0, ge=0, le=MAX_WAIT_S, description="How long to wait for its tools before answering.")

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerIn:
        if (self.url is None) == (self.command is None):
            raise ValueError("give either url (streamable HTTP) or command (stdio), not both or neither")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError("url must be an http:// or https:// URL")
        return self


class CallIn(BaseModel):
    arguments: dict[str, Any] = Field(default_factory=dict)


class RouterChatIn(BaseModel):
    message: str = Field(min_length=1, max_length=8000)
    brain_id: str = "default"
    tools: list[str | ToolIn] | None = Field(
        None, description="Names of your tools to choose among, and/or ad-hoc tools for this request only."
    )
    tool_choice: str = Field("auto", description="auto, required, none, or the name of the tool to call.")
    stream: bool = False


def add_routes(ctx: PluginContext, service: ToolService, chat: RouterChat, guard: Guard, http_mcp: HttpMcp) -> APIRouter:
    router = ctx.router()
    _tool_routes(router, service, guard)
    _server_routes(router, service, guard)
    _chat_routes(router, service, chat, guard)
    mcp = APIRouter(prefix="/mcp", route_class=router.route_class)

    @mcp.api_route("", methods=["GET", "POST", "DELETE"], summary="Lumina as an MCP server (streamable HTTP)",
                   response_class=Response)
    async def mcp_endpoint(user: User = Depends(current_user)) -> Response:
        return http_mcp.response()

    router.routes.extend(mcp.routes)  # the manifest's second prefix, with the plugin's route class
    return router


def _check_scope(user: User, scope: Scope) -> None:
    if scope == "global" and not user.is_admin:
        raise Forbidden("only admins register global tools and MCP servers: register it for yourself (scope user)")


def _caller(request: Request, user: User) -> Caller:
    auth = request.headers.get("authorization")
    return Caller(user.id, request.app, {"Authorization": auth} if auth else {})


def _tool_routes(router: APIRouter, service: ToolService, guard: Guard) -> None:

    @router.get("/tools", summary="Your tools: plugins', global, MCP servers' and your own (no secrets)")
    async def list_tools(page: Page = Depends(), user: User = Depends(current_user)) -> dict[str, Any]:
        return page.of([t.public() for t in service.tools_for(user.id)])

    @router.post("/tools", status_code=201, summary="Register an HTTP callback tool")
    async def register(body: ToolIn, user: User = Depends(current_user)) -> dict[str, Any]:
        _check_scope(user, body.scope)
        spec = body.spec(owner_of(body.scope, user.id))
        await guard.checked_address(httpx.URL(spec.url))
        return service.register(spec).public()

    @router.delete("/tools/{name}", status_code=204, summary="Remove one of your tools")
    async def unregister(name: str, scope: Scope = Query("user"), user: User = Depends(current_user)) -> Response:
        _check_scope(user, scope)
        service.unregister(user.id, name, scope=scope)
        return Response(status_code=204)

    @router.post("/tools/{name}/call", summary="Run one of your tools (how a client answers a tool call)")
    async def call(name: str, body: CallIn, request: Request, user: User = Depends(current_user)) -> dict[str, Any]:
        spec = service.tool_for(user.id, name)
        token = CALLER.set(_caller(request, user))
        try:
            [result] = await service.run([new_call(name, body.arguments)], [spec], user_id=user.id)
        finally:
            CALLER.reset(token)
        return {**result.to_dict(), "result": result.result}


def _server_routes(router: APIRouter, service: ToolService, guard: Guard) -> None:

    @router.get("/mcp-servers", summary="Your MCP servers, their state and their tools")
    async def list_servers(page: Page = Depends(), user: User = Depends(current_user)) -> dict[str, Any]:
        return page.of([c.describe() for c in service.servers.visible_to(user.id)])

    @router.post("/mcp-servers", status_code=201, summary="Add an MCP server; its tools are listed at once")
    async def add_server(body: McpServerIn, user: User = Depends(current_user)) -> dict[str, Any]:
        _check_scope(user, body.scope)
        if body.command is not None and not user.is_admin:
            raise Forbidden("a stdio MCP server runs a command on the server, which only admins may configure: "
                            "give the url of a streamable HTTP MCP server instead")
        if body.url is not None:
            await guard.checked_address(httpx.URL(body.url or ""))
        spec = McpServerSpec(body.name, "stdio" if body.command else "http", owner_of(body.scope, user.id),
                             tuple(body.command or ()), body.url or "", body.headers)
        return await service.add_server(spec, wait_s=body.wait_s)

    @router.delete("/mcp-servers/{name}", status_code=204, summary="Remove an MCP server")
    async def remove_server(name: str, scope: Scope = Query("user"), user: User = Depends(current_user)) -> Response:
        _check_scope(user, scope)
        await service.remove_server(owner_of(scope, user.id), name)
        return Response(status_code=204)


def _chat_routes(router: APIRouter, service: ToolService, chat: RouterChat, guard: Guard) -> None:

    @router.post("/chat", summary="Chat with routing: answer, router_decision and tools_invoked (SSE with stream)")
    async def router_chat(body: RouterChatIn, request: Request, user: User = Depends(current_user)) -> Any:
        tools = _request_tools(service, body, user.id)
        caller = _caller(request, user)
        if not body.stream:
            token = CALLER.set(caller)
            try:
                return await chat.answer(body.message, tools, user_id=user.id, brain_id=body.brain_id,
                                         choice=body.tool_choice)
            finally:
                CALLER.reset(token)
        return sse_response(_frames(chat, body, tools, caller))

    @router.get("/stats", summary="Tools, MCP servers and calls, for the dashboard")
    async def stats(user: User = Depends(current_user)) -> dict[str, Any]:
        servers = service.servers.visible_to(user.id)
        return {"tools": len(service.tools_for(user.id)), "mcp_servers": len(servers),
                "mcp_servers_ready": sum(c.status == "ready" for c in servers)}


def _request_tools(service: ToolService, body: RouterChatIn, user_id: str) -> list[ToolSpec]:
    """The tools of this request: the user's (only the named ones, when names are given) and its
    ad-hoc tools, checked like registered ones."""
    available = service.tools_for(user_id)
    if body.tools is None:
        chosen_tools = available
    else:
        chosen_tools = _named_and_ad_hoc(body.tools, available, user_id)
    if body.tool_choice not in ("auto", "required", "none") and body.tool_choice not in {t.name for t in chosen_tools}:
        raise ValidationFailed(f"tool_choice names '{body.tool_choice}', which is not among your tools",
                               field="tool_choice")
    return chosen_tools


def _named_and_ad_hoc(items: list[str | ToolIn], available: list[ToolSpec], user_id: str) -> list[ToolSpec]:
    by_name = {t.name: t for t in available}
    chosen: dict[str, ToolSpec] = {}
    for index, item in enumerate(items):
        if isinstance(item, str):
            if item not in by_name:
                raise ValidationFailed(f"you have no tool named '{item}' (GET /router/tools lists yours)",
                                       field=f"tools[{index}]")
            chosen[item] = by_name[item]
        else:
            chosen[item.name] = item.spec(user_id, where=f"tools[{index}].")
    return list(chosen.values())


async def _frames(chat: RouterChat, body: RouterChatIn, tools: list[ToolSpec], caller: Caller) -> AsyncIterator[bytes]:
    CALLER.set(caller)
    try:
        async for kind, data in events(chat, body.message, tools, user_id=caller.user_id, brain_id=body.brain_id,
                                       choice=body.tool_choice):
            yield event_frame(kind, data)
    except LuminaError as exc:
        yield event_frame("error", exc.to_dict())
