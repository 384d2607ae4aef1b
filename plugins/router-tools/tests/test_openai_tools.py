"""The official ``openai`` client's tool calling against ``/v1``, and Ollama's ``tools`` on
``/api/chat``: the router picks among the client's tools, the client runs them (here through
``/router/tools/{name}/call``) and sends the results back as ``tool`` messages."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

pytestmark = pytest.mark.timeout(900)


def client_for(host: Any, headers: dict[str, str]) -> openai.AsyncOpenAI:
    transport = httpx.ASGITransport(app=host.app)
    http = httpx.AsyncClient(transport=transport, base_url="http://lumina.test/v1")
    token = headers["Authorization"].removeprefix("Bearer ")
    return openai.AsyncOpenAI(base_url="http://lumina.test/v1", api_key=token, http_client=http, max_retries=0)


async def openai_tools(host: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    """The user's registered tools, in OpenAI's shape (what an agent would hand the client)."""
    listed = (await host.client.get("/router/tools", headers=headers)).json()["items"]
    return [{"type": "function", "function": {"name": t["name"], "description": t["description"],
                                              "parameters": t["input_schema"]}} for t in listed if t["kind"] == "http"]


async def weather_user(host: Any, kit: Any, tool_server: Any) -> tuple[dict[str, str], openai.AsyncOpenAI, str, list[Any]]:
    """Alice with the weather tool: her auth, her openai client, the model, her tools for OpenAI."""
    alice = await kit.sign_up(host, "alice")
    await host.client.post("/router/tools", json=kit.weather_tool(tool_server), headers=alice)
    client = client_for(host, alice)
    return alice, client, (await client.models.list()).data[0].id, await openai_tools(host, alice)


async def test_the_openai_client_calls_a_registered_tool_and_gets_an_answer_that_used_it(
    router_host: Any, kit: Any, tool_server: Any
) -> None:
    async with router_host() as host:
        alice, client, model, tools = await weather_user(host, kit, tool_server)
        messages: list[dict[str, Any]] = [{"role": "user", "content": "What is the weather forecast in Paris?"}]

        first = await client.chat.completions.create(model=model, messages=messages, tools=tools)
        choice = first.choices[0]
        assert choice.finish_reason == "tool_calls"
        [call] = choice.message.tool_calls
        assert call.function.name == "weather" and json.loads(call.function.arguments) == {"city": "Paris"}

        ran = (await host.client.post(f"/router/tools/{call.function.name}/call",
                                      json={"arguments": json.loads(call.function.arguments)}, headers=alice)).json()
        messages += [choice.message.model_dump(exclude_none=True),
                     {"role": "tool", "tool_call_id": call.id, "content": json.dumps(ran["result"])}]
        second = await client.chat.completions.create(model=model, messages=messages, tools=tools, max_tokens=24)
        assert second.choices[0].finish_reason in ("stop", "length")
        assert second.choices[0].message.content and not second.choices[0].message.tool_calls


async def test_tool_calls_stream_and_tool_choice_is_obeyed(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        _, client, model, tools = await weather_user(host, kit, tool_server)
        forced = {"type": "function", "function": {"name": "weather"}}
        stream = await client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Oslo, please"}], tools=tools, tool_choice=forced,
            stream=True)
        chunks = [chunk async for chunk in stream]
        deltas = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
        assert [d.function.name for d in deltas] == ["weather"]
        assert "city" in json.loads(deltas[0].function.arguments)
        assert chunks[-1].choices[0].finish_reason == "tool_calls"

        none = await client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Weather in Oslo?"}], tools=tools, tool_choice="none",
            max_tokens=8)
        assert none.choices[0].message.tool_calls is None and none.choices[0].finish_reason in ("stop", "length")


async def test_bad_tools_are_refused_in_openais_envelope(router_host: Any, kit: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        client = client_for(host, alice)
        model = (await client.models.list()).data[0].id
        bad = [{"type": "function", "function": {"name": "x", "parameters": {"type": "object", "properties": {"a": {"type": 5}}}}}]
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}], tools=bad,
                                                 tool_choice="required")
        assert caught.value.body["param"] == "tools[0].function.parameters.properties.a.type"
        unknown = {"type": "function", "function": {"name": "nope"}}
        with pytest.raises(openai.BadRequestError):
            await client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}], tools=bad,
                                                 tool_choice=unknown)


async def test_ollamas_tools_on_api_chat(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        await host.client.post("/router/tools", json=kit.weather_tool(tool_server), headers=alice)
        tools = await openai_tools(host, alice)
        model = (await host.client.get("/api/tags", headers=alice)).json()["models"][0]["name"]
        body = {"model": model, "stream": False, "tools": tools,
                "messages": [{"role": "user", "content": "What is the weather forecast in Paris?"}]}
        reply = (await host.client.post("/api/chat", json=body, headers=alice)).json()
        [call] = reply["message"]["tool_calls"]
        assert call["function"] == {"name": "weather", "arguments": {"city": "Paris"}} and reply["done"]
        body["messages"] += [reply["message"], {"role": "tool", "content": '{"forecast": "sunny"}', "tool_name": "weather"}]
        body["options"] = {"num_predict": 16}
        answer = (await host.client.post("/api/chat", json=body, headers=alice)).json()
        assert answer["message"]["content"] and "tool_calls" not in answer["message"]
