"""A real host with the router-tools plugin (sign-in required, 127.0.0.1 allow-listed for the
test servers), a real HTTP tool server, real MCP servers, and helpers to act as users."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from lumina_core.testing import Host, HostFactory, free_port, wait_for_http

SERVERS = Path(__file__).parent / "servers"
sys.path.insert(0, str(SERVERS))

from tool_http import ToolServer  # noqa: E402

RouterHost = Callable[..., AbstractAsyncContextManager[Host]]
CALC_MCP = [sys.executable, str(SERVERS / "calc_mcp.py")]


@pytest.fixture
def tool_server() -> Iterator[ToolServer]:
    with ToolServer() as server:
        yield server


@pytest.fixture
def router_host(lumina_host: HostFactory, monkeypatch: pytest.MonkeyPatch) -> RouterHost:
    """``async with router_host() as host``: router-tools started, sign-in required, and only
    127.0.0.1 allow-listed (``allow=""`` for the default, which refuses it)."""

    @asynccontextmanager
    async def start(allow: str = "127.0.0.1", plugins: tuple[str, ...] = (), config: dict[str, Any] | None = None,
                    **settings: Any) -> AsyncIterator[Host]:
        monkeypatch.setenv("LUMINA_TOOLS_ALLOW", allow)
        # the machine's cores are shared: the router model gets time enough to answer in tests
        plugin_config = {"router-tools": {"router_timeout_s": 300, "reply_tokens": 24, **(config or {})}}
        async with lumina_host(plugins=["router-tools", *plugins], plugin_config=plugin_config,
                               **{"require_auth": True, "llm_timeout": 600, **settings}) as host:
            assert host.state("router-tools") == "started", host.kernel.get("router-tools").error
            yield host

    return start


@pytest.fixture
def http_mcp_server() -> Iterator[str]:
    """The calc MCP server over streamable HTTP, in its own process: its URL."""
    port = free_port()
    process = subprocess.Popen([*CALC_MCP, "--http", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/mcp", alive=lambda: process.poll() is None)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(10)


class Kit:
    """Helpers handed to tests as a fixture (test folders are not importable)."""

    calc_mcp = CALC_MCP

    @staticmethod
    async def sign_up(host: Host, name: str) -> dict[str, str]:
        """Register ``name`` (the first account of a host is its admin) and return its auth header."""
        body = {"username": name, "password": "a long password"}
        await host.client.post("/auth/register", json=body)
        token = (await host.client.post("/auth/login", json=body)).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    @staticmethod
    def weather_tool(server: ToolServer, **changes: Any) -> dict[str, Any]:
        return {
            "name": "weather", "description": "Current weather forecast and temperature for a city.",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                             "required": ["city"]},
            "callback_url": server.url("/weather"), "headers": {"X-Api-Key": "s3cret-weather-key"}, **changes,
        }


@pytest.fixture
def kit() -> Kit:
    return Kit()
