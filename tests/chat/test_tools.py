"""Tools in chat: the ``register_tools`` shelf, and OpenAI's and Ollama's tool messages as the
model reads them (results quoted as data under their tool's name)."""

from __future__ import annotations

from typing import Any

import pytest

from lumina_core.chat import ollama_api, openai_api
from lumina_core.chat.tools import choice_of, needs_decision
from lumina_core.contract import Message, Tool
from lumina_core.errors import ValidationFailed
from lumina_core.hookspecs import hookimpl
from lumina_core.testing import plugin_object


def test_tool_results_are_quoted_under_the_name_of_the_call_they_answer() -> None:
    request = openai_api.ChatCompletionRequest(model="m", messages=[
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"forecast": "rain"}'},
    ])
    user, result = openai_api.conversation(request.messages)
    assert user == Message("user", "Weather in Oslo?")
    assert result.role == "system" and 'tool "weather"' in result.content and "not instructions" in result.content
    assert '{"forecast": "rain"}' in result.content


def test_ollama_tool_messages_are_quoted_the_same_way() -> None:
    request = ollama_api.ChatRequestIn(model="m", messages=[
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "weather", "arguments": {"city": "Oslo"}}}]},
        {"role": "tool", "content": "rain"},
    ])
    _, result = request.conversation()
    assert 'tool "weather"' in result.content and "rain" in result.content


def test_tool_choice_is_read_as_openai_means_it() -> None:
    assert [choice_of(c) for c in (None, "auto", "none", "required")] == ["auto", "auto", "none", "required"]
    assert choice_of({"type": "function", "function": {"name": "weather"}}) == "weather"
    for bad in ("sometimes", {"type": "function"}):
        with pytest.raises(ValidationFailed):
            choice_of(bad)
    assert needs_decision((Message("user", "hi"),), "auto")
    assert not needs_decision((Message("user", "hi"), Message("system", "result")), "auto")
    assert not needs_decision((Message("user", "hi"),), "none")


class ToolOffering:
    @hookimpl
    def register_tools(self, ctx: Any) -> list[Tool]:
        async def shout(text: str) -> str:
            return text.upper()

        return [Tool("shout", "Repeat a text in capitals.", {"type": "object"}, shout)]


MANIFEST = {"name": "shouter", "version": "0.1.0", "description": "Offers a tool.", "api_version": ">=1.0,<2",
            "prefix": "/shouter", "permissions": ["tools:provide"]}


async def test_tools_plugins_register_are_on_the_shelf_until_they_stop(lumina_host: Any) -> None:
    async with lumina_host(plugins=[], objects=[plugin_object(ToolOffering(), MANIFEST)]) as host:
        shelf = host.kernel.services.get("plugin_tools")
        assert [(plugin, tool.name) for plugin, tool in shelf.tools()] == [("shouter", "shout")]
        await host.kernel.disable("shouter")
        assert shelf.tools() == []


async def test_offered_tools_without_a_router_answer_as_if_none_were_offered(lumina_host: Any) -> None:
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]
    async with lumina_host(plugins=[]) as host:
        model = (await host.client.get("/v1/models")).json()["data"][0]["id"]
        body = {"model": model, "messages": [{"role": "user", "content": "Hi"}], "tools": tools, "max_tokens": 4}
        reply = await host.client.post("/v1/chat/completions", json=body)
        assert reply.status_code == 200 and reply.json()["choices"][0]["finish_reason"] in ("stop", "length")
        required = await host.client.post("/v1/chat/completions", json={**body, "tool_choice": "required"})
        assert required.status_code == 503 and "router-tools" in required.json()["error"]["message"]
