"""Tool calls are bounded (time, size), retried when the failure is transient, run in parallel,
fail alone, and are logged and counted."""

from __future__ import annotations

import logging
import time
from typing import Any

from lumina_core.contract import ToolCall


async def call(host: Any, headers: dict[str, str], name: str, **arguments: Any) -> dict[str, Any]:
    response = await host.client.post(f"/router/tools/{name}/call", json={"arguments": arguments}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_http_tool_gets_its_arguments_and_secret_headers(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        await host.client.post("/router/tools", json=kit.weather_tool(tool_server), headers=alice)
        result = await call(host, alice, "weather", city="Oslo")
        assert result["status"] == "ok" and result["result"] == {"city": "Oslo", "forecast": "sunny", "temperature_c": 21}
        sent = tool_server.received[-1]
        assert sent["body"] == {"city": "Oslo"} and sent["headers"]["X-Api-Key"] == "s3cret-weather-key"


async def test_get_tools_take_their_arguments_as_query_parameters(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        await host.client.post("/router/tools", json=kit.weather_tool(tool_server, method="GET"), headers=alice)
        assert (await call(host, alice, "weather", city="Lima"))["result"]["city"] == "Lima"
        assert tool_server.received[-1]["query"] == {"city": ["Lima"]}


async def test_arguments_that_do_not_fit_the_schema_are_not_sent(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        await host.client.post("/router/tools", json=kit.weather_tool(tool_server), headers=alice)
        result = await call(host, alice, "weather", town="Oslo")
        assert result["status"] == "invalid" and "city" in result["error"]
        assert tool_server.received == []


async def test_a_hanging_tool_times_out(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host(config={"timeout_s": 0.5}) as host:
        alice = await kit.sign_up(host, "alice")
        await host.client.post("/router/tools", json=kit.weather_tool(tool_server, name="slow",
                                                                       callback_url=tool_server.url("/hang")), headers=alice)
        started = time.monotonic()
        result = await call(host, alice, "slow", city="Oslo")
        assert result["status"] == "timeout" and "0.5 s" in result["error"]
        assert time.monotonic() - started < 3


async def test_an_answer_over_the_size_cap_is_refused(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        await host.client.post("/router/tools", json=kit.weather_tool(tool_server, name="huge",
                                                                       callback_url=tool_server.url("/huge")), headers=alice)
        result = await call(host, alice, "huge", city="Oslo")
        assert result["status"] == "error" and "cap" in result["error"]


async def test_transient_failures_are_retried_then_reported(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        await host.client.post("/router/tools", json=kit.weather_tool(tool_server, name="flaky",
                                                                       callback_url=tool_server.url("/flaky")), headers=alice)
        tool_server.failures_left = 1
        assert (await call(host, alice, "flaky", city="Oslo"))["result"] == {"ok": True}
        tool_server.failures_left = 5
        failed = await call(host, alice, "flaky", city="Oslo")
        assert failed["status"] == "error" and "2 tries" in failed["error"]


async def test_independent_calls_run_in_parallel_and_fail_alone(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host(config={"timeout_s": 1.0}) as host:
        alice = await kit.sign_up(host, "alice")
        for name, path in (("weather", "/weather"), ("slow", "/hang"), ("slower", "/hang"), ("huge", "/huge")):
            tool = kit.weather_tool(tool_server, name=name, callback_url=tool_server.url(path))
            assert (await host.client.post("/router/tools", json=tool, headers=alice)).status_code == 201
        service = host.kernel.services.get("tool_router")
        user_id = (await host.client.get("/auth/me", headers=alice)).json()["id"]
        calls = [ToolCall(f"c{i}", name, {"city": "Oslo"}) for i, name in enumerate(["slow", "slower", "weather", "huge", "nope"])]
        started = time.monotonic()
        results = await service.run(calls, service.tools_for(user_id), user_id=user_id)
        assert time.monotonic() - started < 1.9  # two 1 s timeouts side by side, not one after the other
        assert [r.status for r in results] == ["timeout", "timeout", "ok", "error", "invalid"]


async def test_every_call_is_logged_and_counted(router_host: Any, kit: Any, tool_server: Any, caplog: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        await host.client.post("/router/tools", json=kit.weather_tool(tool_server), headers=alice)
        with caplog.at_level(logging.INFO, logger="lumina.router_tools.calls"):
            await call(host, alice, "weather", city="Oslo")
            await call(host, alice, "weather", town="Oslo")
        user_id = (await host.client.get("/auth/me", headers=alice)).json()["id"]
        lines = [r.getMessage() for r in caplog.records if r.name == "lumina.router_tools.calls"]
        assert any(f"user={user_id} tool=weather kind=http status=ok" in line and "duration_ms=" in line for line in lines)
        assert any("status=invalid" in line for line in lines)
        metrics = (await host.client.get("/metrics", headers=alice)).text
        assert 'lumina_router_tool_calls_total{kind="http",status="ok"}' in metrics
        assert "lumina_router_tool_call_seconds_bucket" in metrics
