"""Lumina as an MCP server: every tool the caller may use, offered to MCP clients.

One low-level ``mcp`` server serves both transports: streamable HTTP at ``/mcp`` (stateless,
JSON responses, behind Lumina's own authentication, so each request acts as its caller) and
stdio for ``lumina mcp`` (as the local user). A call runs through the same invoker as the
router's, so it is bounded, logged and counted the same way; a failed call is an MCP error
result, never a broken session.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import mcp.types as mcp_types
import orjson
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from lumina_core.version import __version__
from lumina_router_tools.calls import new_call
from lumina_router_tools.own_tools import CALLER, Caller
from lumina_router_tools.service import ToolService

SERVER_NAME = "lumina"


def build_server(service: Callable[[], ToolService]) -> Server:
    """The MCP server; ``service`` gives the tool service at call time (it survives reloads)."""
    server: Server = Server(SERVER_NAME, version=__version__,
                            instructions="Lumina's tools: the user's memories, the knowledge base and their own tools.")

    @server.list_tools()
    async def list_tools() -> list[mcp_types.Tool]:
        caller = _caller(server)
        return [
            mcp_types.Tool(name=spec.name, description=spec.description, inputSchema=dict(spec.input_schema))
            for spec in service().tools_for(caller.user_id) if spec.kind != "client"
        ]

    @server.call_tool(validate_input=False)
    async def call_tool(name: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        caller = _caller(server)
        tools = service().tools_for(caller.user_id)
        token = CALLER.set(caller)
        try:
            [result] = await service().run([new_call(name, arguments or {})], tools, user_id=caller.user_id)
        finally:
            CALLER.reset(token)
        if result.status != "ok":
            return mcp_types.CallToolResult(content=[mcp_types.TextContent(type="text", text=result.error or "failed")],
                                            isError=True)
        structured = result.result if isinstance(result.result, dict) else None
        text = result.result if isinstance(result.result, str) else orjson.dumps(result.result).decode()
        return mcp_types.CallToolResult(content=[mcp_types.TextContent(type="text", text=text)],
                                        structuredContent=structured, isError=False)

    return server


def _caller(server: Server) -> Caller:
    """The caller of the current MCP request: from the HTTP request Lumina authenticated, or the
    one ``lumina mcp`` set for its stdio session."""
    with contextlib.suppress(LookupError):
        request = server.request_context.request
        if request is not None:
            user = request.scope["state"]["user"]
            auth = request.headers.get("authorization")
            return Caller(user.id, request.app, {"Authorization": auth} if auth else {})
    caller = CALLER.get()
    if caller is None:
        raise RuntimeError("an MCP request arrived without a caller")
    return caller


class HttpMcp:
    """The streamable HTTP transport, run for the plugin's lifetime."""

    def __init__(self, server: Server) -> None:
        # Lumina authenticates every request before it gets here; the Host check would refuse the
        # names a deployment is reached by, which Lumina does not know
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
        self.manager = StreamableHTTPSessionManager(server, json_response=True, stateless=True,
                                                    security_settings=security)
        self._task: asyncio.Task[None] | None = None
        self._running = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="lumina-mcp-http")
        await asyncio.wait_for(self._running.wait(), 5)

    async def _run(self) -> None:
        async with self.manager.run():
            self._running.set()
            await asyncio.Event().wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def response(self) -> Response:
        """A response that hands the request to the MCP transport as it is."""
        return _Delegated(self.manager.handle_request)


class _Delegated(Response):
    def __init__(self, handler: Callable[[Scope, Receive, Send], Any]) -> None:
        super().__init__()
        self._handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._handler(scope, receive, send)


async def serve_stdio(server: Server, caller: Caller) -> None:
    """Serve MCP over this process's stdin and stdout until the client closes them."""
    from mcp.server.stdio import stdio_server

    CALLER.set(caller)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
