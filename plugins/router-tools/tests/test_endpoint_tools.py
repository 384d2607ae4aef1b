"""Endpoints plugins mark as tools in their manifests (``tool:``), against a real ``lumina serve``
over TCP: listed by the API and Lumina's MCP server, callable through both and through the
router, each call acting as its caller, so one user never sees another's data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from lumina_core.testing import LuminaProcess

pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LuminaProcess]:
    process = LuminaProcess.serve(
        tmp_path / "data", tmp_path / "server.log", load_plugins="router-tools,memory", require_auth=True,
        llm_timeout=600, plugin_config=json.dumps({"router-tools": {"reply_tokens": 8, "router_timeout_s": 300}}),
    )
    try:
        yield process
    finally:
        process.stop()


async def sign_up(http: httpx.AsyncClient, name: str) -> dict[str, str]:
    body = {"username": name, "password": "a long password"}
    await http.post("/auth/register", json=body)
    return {"Authorization": f"Bearer {(await http.post('/auth/login', json=body)).json()['access_token']}"}


@asynccontextmanager
async def mcp_session(url: str, headers: dict[str, str]) -> AsyncIterator[ClientSession]:
    async with httpx.AsyncClient(headers=headers, timeout=120) as http:
        async with streamable_http_client(f"{url}/mcp", http_client=http) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


async def test_a_marked_endpoint_is_a_tool_over_http_mcp_and_the_router(server: LuminaProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=600) as http:
        alice, bob = await sign_up(http, "alice"), await sign_up(http, "bob")
        added = await http.post("/memory/memories", json={"text": "Alice's bike is a green Gazelle"}, headers=alice)
        memory_id = added.json()["id"]
        listed = {t["name"]: t for t in (await http.get("/router/tools", headers=bob)).json()["items"]}
        assert listed["memory_search"]["kind"] == "endpoint" and listed["memory_get"]["plugin"] == "memory"

        async def call(headers: dict[str, str], name: str, **arguments: Any) -> dict[str, Any]:
            response = await http.post(f"/router/tools/{name}/call", json={"arguments": arguments}, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()

        found = await call(alice, "memory_search", query="what bike does Alice ride")
        assert found["status"] == "ok" and "Gazelle" in json.dumps(found["result"])
        assert "Gazelle" not in json.dumps((await call(bob, "memory_search", query="what bike does Alice ride"))["result"])
        assert (await call(alice, "memory_get", memory_id=memory_id))["result"]["text"] == "Alice's bike is a green Gazelle"
        refused = await call(bob, "memory_get", memory_id=memory_id)
        assert refused["status"] == "error" and "404" in refused["error"]
        assert (await call(alice, "memory_search"))["status"] == "invalid"  # query is required by its schema

        chat = await http.post("/router/chat", headers=alice, json={
            "message": "Search my memories: which bike do I ride?", "tool_choice": "memory_search"})
        assert chat.status_code == 200, chat.text
        [invoked] = chat.json()["tools_invoked"] or [chat.json()["router_decision"]]
        assert invoked["name"] == "memory_search" and invoked["status"] == "ok"

    async with mcp_session(server.url, alice) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert {"memory_search", "memory_get"} <= set(tools) and tools["memory_search"].inputSchema["required"] == ["query"]
        result = await session.call_tool("memory_search", {"query": "what bike does Alice ride"})
        assert not result.isError and "Gazelle" in result.content[0].text
    async with mcp_session(server.url, bob) as session:
        result = await session.call_tool("memory_search", {"query": "what bike does Alice ride"})
        assert not result.isError and "Gazelle" not in result.content[0].text
        assert (await session.call_tool("memory_get", {"memory_id": memory_id})).isError
