"""MCP: tools of configured MCP servers (stdio and streamable HTTP, real servers of the official
SDK) listed and called; a failing server fails alone; and Lumina as an MCP server, over HTTP at
``/mcp`` and over stdio with ``lumina mcp``."""

from __future__ import annotations

import json
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from lumina_core.testing import settings_env

pytestmark = pytest.mark.timeout(300)


async def add_server(host: Any, auth: dict[str, str], **body: Any) -> httpx.Response:
    return await host.client.post("/router/mcp-servers", json={"wait_s": 20, **body}, headers=auth)


async def call(host: Any, headers: dict[str, str], name: str, **arguments: Any) -> dict[str, Any]:
    response = await host.client.post(f"/router/tools/{name}/call", json={"arguments": arguments}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_stdio_mcp_servers_tools_are_listed_and_called(router_host: Any, kit: Any) -> None:
    async with router_host() as host:
        admin, bob = await kit.sign_up(host, "admin"), await kit.sign_up(host, "bob")
        added = await add_server(host, admin, name="calc", command=kit.calc_mcp, scope="global")
        assert added.status_code == 201, added.text
        assert added.json()["status"] == "ready" and set(added.json()["tools"]) == {"add", "shout", "broken"}
        listed = {t["name"]: t for t in (await host.client.get("/router/tools", headers=bob)).json()["items"]}
        assert listed["calc__add"]["kind"] == "mcp" and listed["calc__add"]["input_schema"]["required"] == ["a", "b"]
        assert (await call(host, bob, "calc__add", a=2, b=3))["result"] == {"result": 5.0}
        failed = await call(host, bob, "calc__broken")
        assert failed["status"] == "error" and "broken on purpose" in failed["error"]


async def test_only_admins_may_configure_a_command(router_host: Any, kit: Any) -> None:
    async with router_host() as host:
        await kit.sign_up(host, "admin")
        bob = await kit.sign_up(host, "bob")
        refused = await add_server(host, bob, name="calc", command=kit.calc_mcp)
        assert refused.status_code == 403 and "admins" in refused.json()["error"]["message"]


async def test_an_http_mcp_servers_tools_are_listed_and_called(router_host: Any, kit: Any, http_mcp_server: str) -> None:
    async with router_host() as host:
        await kit.sign_up(host, "admin")
        bob, carol = await kit.sign_up(host, "bob"), await kit.sign_up(host, "carol")
        added = await add_server(host, bob, name="remote", url=http_mcp_server, headers={"X-Token": "t0ps3cret"})
        assert added.status_code == 201 and added.json()["status"] == "ready", added.text
        assert "t0ps3cret" not in added.text
        assert (await call(host, bob, "remote__shout", text="hello"))["result"] == {"result": "HELLO"}
        servers = (await host.client.get("/router/mcp-servers", headers=bob)).json()["items"]
        assert [(s["name"], s["secret_headers"]) for s in servers] == [("remote", ["X-Token"])]
        assert (await host.client.get("/router/mcp-servers", headers=carol)).json()["items"] == []
        assert (await host.client.delete("/router/mcp-servers/remote", headers=carol)).status_code == 404
        assert (await host.client.delete("/router/mcp-servers/remote", headers=bob)).status_code == 204
        names = {t["name"] for t in (await host.client.get("/router/tools", headers=bob)).json()["items"]}
        assert not any(n.startswith("remote__") for n in names)


async def test_a_private_mcp_url_is_refused_by_default(router_host: Any, kit: Any, http_mcp_server: str) -> None:
    async with router_host(allow="") as host:
        alice = await kit.sign_up(host, "alice")
        for url in (http_mcp_server, "http://169.254.169.254/mcp", "http://10.1.1.1/mcp"):
            response = await add_server(host, alice, name="x", url=url)
            assert response.status_code == 403, response.text


async def test_a_failing_mcp_server_fails_alone(router_host: Any, kit: Any, http_mcp_server: str) -> None:
    async with router_host() as host:
        admin = await kit.sign_up(host, "admin")
        dies = await add_server(host, admin, name="dies", command=[sys.executable, "-c", "import sys; sys.exit(3)"])
        silent = await add_server(host, admin, name="silent", url="http://127.0.0.1:9/mcp", wait_s=5)
        good = await add_server(host, admin, name="remote", url=http_mcp_server)
        assert (dies.json()["status"], silent.json()["status"], good.json()["status"]) == ("failed", "failed", "ready")
        assert dies.json()["error"] and silent.json()["error"]
        assert (await call(host, admin, "remote__add", a=1, b=1))["result"] == {"result": 2.0}
        assert (await host.client.get("/health/live")).status_code == 200


@asynccontextmanager
async def lumina_mcp_session(host: Any, headers: dict[str, str]) -> Any:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=host.app), headers=headers, timeout=60)
    async with http, streamable_http_client("http://lumina.test/mcp", http_client=http) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


async def test_an_mcp_client_lists_and_calls_lumina_tools_over_http(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host(plugins=("memory",)) as host:
        alice, bob = await kit.sign_up(host, "alice"), await kit.sign_up(host, "bob")
        await host.client.post("/router/tools", json=kit.weather_tool(tool_server), headers=alice)
        await host.client.post("/memory/memories", json={"text": "Alice's bike is a green Gazelle"}, headers=alice)
        async with lumina_mcp_session(host, alice) as session:
            names = {t.name for t in (await session.list_tools()).tools}
            assert {"memory_search", "knowledge_search", "weather"} <= names
            weather = await session.call_tool("weather", {"city": "Oslo"})
            assert not weather.isError and weather.structuredContent["forecast"] == "sunny"
            memories = await session.call_tool("memory_search", {"query": "what bike does Alice ride"})
            assert not memories.isError and "Gazelle" in memories.content[0].text
            missing = await session.call_tool("nope", {})
            assert missing.isError
        async with lumina_mcp_session(host, bob) as session:
            assert "weather" not in {t.name for t in (await session.list_tools()).tools}
            memories = await session.call_tool("memory_search", {"query": "what bike does Alice ride"})
            assert "Gazelle" not in memories.content[0].text
        assert (await host.client.post("/mcp", json={})).status_code == 401


async def test_lumina_mcp_serves_lumina_tools_over_stdio(tmp_path: Path) -> None:
    env = settings_env(tmp_path, {"load_plugins": "router-tools,memory"})
    command = [sys.executable, "-c", "from lumina_cli.main import cli; cli()", "mcp"]
    parameters = StdioServerParameters(command=command[0], args=command[1:], env={**os.environ, **env})
    async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        names = {t.name for t in (await session.list_tools()).tools}
        assert {"memory_search", "knowledge_search"} <= names
        found = await session.call_tool("memory_search", {"query": "anything"})
        assert not found.isError and json.loads(found.content[0].text)["items"] == []
