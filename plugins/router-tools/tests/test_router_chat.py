"""``POST /router/chat``: an answer that used the chosen tools, with the decision and what was
invoked; the SSE variant streams decision, tool, token and done events; failures are named."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(900)


async def test_an_answer_uses_the_http_tool_the_router_chose(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        await host.client.post("/router/tools", json=kit.weather_tool(tool_server), headers=alice)
        reply = await host.client.post("/router/chat", json={"message": "What is the weather forecast in Paris?"},
                                       headers=alice)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        decision = body["router_decision"]
        assert decision["path"] == "model" and [t["name"] for t in decision["tools"]] == ["weather"]
        assert decision["tools"][0]["arguments"] == {"city": "Paris"} and decision["reasons"]
        [invoked] = body["tools_invoked"]
        assert invoked["status"] == "ok" and "sunny" in invoked["summary"] and invoked["duration_ms"] >= 0
        assert tool_server.received[-1]["body"] == {"city": "Paris"}
        assert body["answer"] and body["usage"]["completion_tokens"] > 0


async def test_a_hanging_tool_times_out_while_the_answer_arrives(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host(config={"timeout_s": 1.0}) as host:
        alice = await kit.sign_up(host, "alice")
        tool = kit.weather_tool(tool_server, callback_url=tool_server.url("/hang"))
        await host.client.post("/router/tools", json=tool, headers=alice)
        body = (await host.client.post("/router/chat", json={"message": "Weather in Oslo?", "tool_choice": "weather"},
                                       headers=alice)).json()
        assert [(t["name"], t["status"]) for t in body["tools_invoked"]] == [("weather", "timeout")]
        assert "The tool weather failed" in body["answer"]


async def test_the_stream_sends_decision_tool_tokens_and_done(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        await host.client.post("/router/tools", json=kit.weather_tool(tool_server), headers=alice)
        request = {"message": "Weather in Rome?", "tool_choice": "weather", "stream": True}
        async with host.client.stream("POST", "/router/chat", json=request, headers=alice) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            text = "".join([part async for part in response.aiter_text()])
        events = [block.split("\n", 1)[0].removeprefix("event: ") for block in text.strip().split("\n\n")]
        assert events[0] == "decision" and events[1] == "tool" and events[-1] == "done"
        assert "token" in events
        done = json.loads(text.strip().split("\n\n")[-1].split("data: ", 1)[1])
        assert done["tools_invoked"][0]["status"] == "ok"


async def test_a_message_no_tool_fits_takes_the_fast_path_to_the_brain(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        await host.client.post("/router/tools", json=kit.weather_tool(tool_server), headers=alice)
        body = (await host.client.post("/router/chat", json={"message": "Tell me a joke", "tools": ["weather"]},
                                       headers=alice)).json()
        assert body["router_decision"]["path"] == "fast" and body["router_decision"]["use_brain"]
        assert body["tools_invoked"] == [] and body["answer"]


async def test_tool_results_are_quoted_as_data_and_cannot_change_tools(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        tool = kit.weather_tool(tool_server, name="notes", callback_url=tool_server.url("/inject"))
        await host.client.post("/router/tools", json=tool, headers=alice)
        body = (await host.client.post("/router/chat", json={"message": "Read my notes", "tool_choice": "notes"},
                                       headers=alice)).json()
        assert body["tools_invoked"][0]["status"] == "ok"
        names = {t["name"] for t in (await host.client.get("/router/tools", headers=alice)).json()["items"]}
        assert "pwn" not in names
