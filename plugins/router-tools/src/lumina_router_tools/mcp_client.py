"""Tools of configured MCP servers, through the official ``mcp`` SDK.

Each server has its own :class:`McpConnection`: a task that keeps one session open (a command
over stdio, or a streamable HTTP URL through the SSRF guard), lists the server's tools, lists
them again every ``refresh_s`` and when the server says they changed, and reconnects after a
failure with a growing pause. Whatever a server does (refuses, crashes, hangs, sends garbage)
ends in that task: the connection reports ``failed`` with the reason and the host carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import mcp.types as mcp_types
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from lumina_router_tools.definitions import ToolSpec
from lumina_router_tools.http_tools import ToolFailed
from lumina_router_tools.netguard import Guard, guarded_client
from lumina_router_tools.store import GLOBAL_OWNER, McpServerSpec, now

log = logging.getLogger("lumina.router_tools.mcp")
_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")
MAX_BACKOFF_S = 60.0


def exposed_name(server: str, tool: str) -> str:
    """``server__tool``, within OpenAI's function-name rule."""
    return _UNSAFE.sub("_", f"{server}__{tool}")[:64]


class McpConnection:
    """One MCP server's session, kept open by its own task."""

    def __init__(self, spec: McpServerSpec, guard: Guard, *, refresh_s: float, connect_timeout_s: float) -> None:
        self.spec = spec
        self.status = "connecting"
        self.error: str | None = None
        self.tools: list[mcp_types.Tool] = []
        self.refreshed_at: str | None = None
        self._guard = guard
        self._refresh_s = refresh_s
        self._connect_timeout = connect_timeout_s
        self._session: ClientSession | None = None
        self._changed = asyncio.Event()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._keep_open(), name=f"mcp:{self.spec.name}")

    async def wait_ready(self, timeout: float) -> None:
        """Wait until the first attempt to connect has succeeded or failed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)

    def refresh(self) -> None:
        self._changed.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def describe(self) -> dict[str, Any]:
        return {**self.spec.public(), "status": self.status, "error": self.error, "refreshed_at": self.refreshed_at,
                "tools": [t.name for t in self.tools]}

    def specs(self) -> list[ToolSpec]:
        scope = "global" if self.spec.owner == GLOBAL_OWNER else "user"
        return [
            ToolSpec(exposed_name(self.spec.name, tool.name), tool.description or tool.title or tool.name,
                     tool.inputSchema or {"type": "object", "properties": {}}, "mcp", scope, self.spec.owner,
                     server=self.spec.name, remote_name=tool.name)
            for tool in self.tools
        ] if self.status == "ready" else []

    async def call(self, tool: str, arguments: Mapping[str, Any], timeout_s: float) -> Any:
        session = self._session
        if session is None or self.status != "ready":
            raise ToolFailed(f"the MCP server '{self.spec.name}' is not connected: {self.error or self.status}")
        result = await session.call_tool(tool, dict(arguments), read_timeout_seconds=timedelta(seconds=timeout_s))
        return _result_value(result, f"{self.spec.name}/{tool}")

    # --- the connection's own task -------------------------------------------------------------

    async def _keep_open(self) -> None:
        pause = 1.0
        while True:
            try:
                await self._session_lifetime()
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # noqa: BLE001 - a server's failure stays in this task
                self._failed(exc)
            self._ready.set()
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_BACKOFF_S)

    async def _session_lifetime(self) -> None:
        async with self._transport() as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write, message_handler=self._on_message,
                                     read_timeout_seconds=timedelta(seconds=self._connect_timeout)) as session:
                await asyncio.wait_for(session.initialize(), self._connect_timeout)
                self._session = session
                try:
                    while True:
                        await self._list(session)
                        self._ready.set()
                        self._changed.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._changed.wait(), self._refresh_s)
                finally:
                    self._session = None

    def _transport(self) -> Any:
        spec = self.spec
        if spec.transport == "stdio":
            return stdio_client(StdioServerParameters(command=spec.command[0], args=list(spec.command[1:])))
        client = guarded_client(self._guard, timeout=self._connect_timeout, headers=dict(spec.headers))
        return _owning(client, streamable_http_client(spec.url, http_client=client))

    async def _list(self, session: ClientSession) -> None:
        tools: list[mcp_types.Tool] = []
        cursor: str | None = None
        while True:
            page = await session.list_tools(params=mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None)
            tools.extend(page.tools)
            cursor = page.nextCursor
            if not cursor:
                break
        self.tools, self.status, self.error = tools, "ready", None
        self.refreshed_at = now()
        log.info("MCP server '%s' offers %d tools", self.spec.name, len(tools))

    async def _on_message(self, message: Any) -> None:
        root = getattr(message, "root", None)
        if isinstance(root, mcp_types.ToolListChangedNotification):
            self._changed.set()

    def _failed(self, exc: BaseException) -> None:
        self.status, self.tools, self._session = "failed", [], None
        self.error = _describe(exc)
        log.warning("MCP server '%s' failed: %s", self.spec.name, self.error)


@contextlib.asynccontextmanager
async def _owning(client: Any, transport: Any) -> Any:
    async with client, transport as streams:
        yield streams


def _describe(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    message = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _result_value(result: mcp_types.CallToolResult, where: str) -> Any:
    texts = [block.text for block in result.content if isinstance(block, mcp_types.TextContent)]
    if result.isError:
        raise ToolFailed(f"{where} failed: {' '.join(texts) or 'no reason given'}")
    if result.structuredContent is not None:
        return result.structuredContent
    return "\n".join(texts)


class McpServers:
    """Every configured server's connection, started and stopped as the configuration changes."""

    def __init__(self, guard: Guard, *, refresh_s: float = 60.0, connect_timeout_s: float = 10.0) -> None:
        self._guard = guard
        self._refresh_s = refresh_s
        self._connect_timeout = connect_timeout_s
        self._connections: dict[tuple[str, str], McpConnection] = {}

    async def add(self, spec: McpServerSpec, *, wait_s: float = 0.0) -> McpConnection:
        await self.remove(spec.key)
        connection = McpConnection(spec, self._guard, refresh_s=self._refresh_s, connect_timeout_s=self._connect_timeout)
        self._connections[spec.key] = connection
        connection.start()
        if wait_s:
            await connection.wait_ready(wait_s)
        return connection

    async def remove(self, key: tuple[str, str]) -> None:
        connection = self._connections.pop(key, None)
        if connection is not None:
            await connection.stop()

    def visible_to(self, user_id: str) -> list[McpConnection]:
        return [c for (owner, _), c in sorted(self._connections.items()) if owner in (user_id, GLOBAL_OWNER)]

    def connection(self, owner: str, name: str) -> McpConnection | None:
        return self._connections.get((owner, name))

    async def call(self, spec: ToolSpec, arguments: Mapping[str, Any], timeout_s: float) -> Any:
        connection = self.connection(spec.owner, spec.server)
        if connection is None:
            raise ToolFailed(f"the MCP server '{spec.server}' is no longer configured")
        return await connection.call(spec.remote_name, arguments, timeout_s)

    async def close(self) -> None:
        for key in list(self._connections):
            await self.remove(key)
