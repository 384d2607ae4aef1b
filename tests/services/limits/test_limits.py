"""Rate limits: 429 with Retry-After and X-RateLimit-*, per caller, per route group, per plugin
action, chat tokens per minute; in memory or shared through Redis by several servers."""

from __future__ import annotations

import httpx
import pytest

from lumina_core.contract import ChatRequest, ChatTurn, Message, Usage
from lumina_core.services.limits import RateLimited
from lumina_core.testing import LuminaProcess


async def test_over_the_default_limit_a_caller_gets_429_with_retry_after(lumina_host, backend):
    async with lumina_host(plugins=[], rate_limit="3/minute", **backend) as host:
        for remaining in (2, 1, 0):
            response = await host.client.get("/plugins")
            assert response.status_code == 200
            assert response.headers["x-ratelimit-limit"] == "3"
            assert response.headers["x-ratelimit-remaining"] == str(remaining)
        refused = await host.client.get("/plugins")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert int(refused.headers["x-ratelimit-reset"]) > 0
        assert refused.json()["error"]["type"] == "rate_limited"
        assert (await host.client.get("/health")).status_code == 200  # health and metrics are exempt


async def test_openai_routes_answer_429_in_openais_envelope(lumina_host, backend):
    async with lumina_host(plugins=[], rate_limit="1/minute", **backend) as host:
        await host.client.get("/v1/models")
        refused = await host.client.get("/v1/models")
        assert refused.status_code == 429 and "retry-after" in refused.headers
        assert "rate limit" in refused.json()["error"]["message"]


async def test_an_endpoint_group_has_its_own_limit(lumina_host, backend):
    async with lumina_host(plugins=[], rate_limit_routes={"/tasks": "1/minute"}, **backend) as host:
        assert (await host.client.get("/tasks")).status_code == 200
        refused = await host.client.get("/tasks")
        assert refused.status_code == 429 and "/tasks" in refused.json()["error"]["message"]
        assert (await host.client.get("/plugins")).status_code == 200


async def test_plugins_limit_their_own_actions(lumina_host, backend):
    async with lumina_host(plugins=[], **backend) as host:
        limits = host.kernel.services.get("rate_limits")
        await limits.acquire("2/minute", "crawl")
        await limits.acquire("2/minute", "crawl")
        with pytest.raises(RateLimited) as refused:
            await limits.acquire("2/minute", "crawl")
        assert refused.value.status == 429 and "Retry-After" in refused.value.headers


async def test_chat_tokens_per_minute_are_spent_after_each_turn(lumina_host, backend):
    async with lumina_host(plugins=[], chat_tokens_per_minute=100, **backend) as host:
        request = ChatRequest(messages=(Message("user", "hi"),), user_id="local")
        turn = ChatTurn(request=request, reply="hello", model="m", usage=Usage(60, 50), latency_ms=5)
        await host.kernel.call_each("after_chat_turn", turn=turn)
        refused = await host.client.post("/v1/chat/completions", json={})
        assert refused.status_code == 429
        assert "chat tokens per minute" in refused.json()["error"]["message"]


def test_two_server_processes_share_one_limit(redis_backend, tmp_path):
    servers = [
        LuminaProcess.serve(tmp_path / f"s{i}", tmp_path / f"s{i}.log", rate_limit="4/minute", **redis_backend)
        for i in range(2)
    ]
    try:
        statuses = [httpx.get(f"{servers[n % 2].url}/plugins", timeout=10).status_code for n in range(5)]
    finally:
        for server in servers:
            server.stop()
    assert statuses == [200, 200, 200, 200, 429]


def test_a_bad_limit_is_reported_by_its_setting(tmp_path):
    from lumina_core.errors import ValidationFailed
    from lumina_core.services.limits import parse_limit

    with pytest.raises(ValidationFailed, match="600/minute"):
        parse_limit("lots")
