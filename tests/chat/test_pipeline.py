"""The chat pipeline: context hooks, token budget, after-turn hooks (issue 3)."""

from __future__ import annotations

import asyncio

import pytest

from lumina_core.chat.budget import assemble
from lumina_core.contract import ChatRequest, ContextBlock, Message
from lumina_core.services.llm import ContextTooLong


async def _words(text: str) -> int:
    return len(text.split())


def _request(text: str, **extra) -> ChatRequest:
    return ChatRequest(messages=(Message("user", text),), user_id="tester", **extra)


@pytest.fixture
def chat_host(lumina_host, fixture_plugins):
    return lumina_host(plugins=["chat-helper"], plugins_dir=fixture_plugins)


async def test_plugin_context_reaches_the_model_within_the_budget(chat_host) -> None:
    async with chat_host as host:
        chat = host.kernel.services.get("chat")
        prepared = await chat.prepare(_request("Hello"), max_tokens=8)
        reply = await chat.reply_of(prepared)
    assert [m.role for m in prepared.messages] == ["system", "user", "assistant", "user"]
    assert "Ada" in prepared.messages[0].content
    assert [b.source for b in reply.context] == ["persona", "memory", "memory"]
    assert reply.budget.dropped == ("encyclopedia",)
    assert reply.budget.context_tokens > 0 and reply.budget.free_tokens >= 0
    assert reply.usage.prompt_tokens > reply.budget.message_tokens


async def test_after_chat_turn_gets_the_finished_turn_without_delaying_it(chat_host) -> None:
    from lumina_core.chat.pipeline import CHAT_TOKENS

    counted = CHAT_TOKENS.labels("smollm2-135m-instruct.q4_1", "completion")._value.get()
    async with chat_host as host:
        helper = host.kernel.get("chat-helper").plugin
        helper.TURNS.clear()
        helper.TURN_SEEN.clear()
        chunks = [c async for c in host.kernel.services.get("chat").stream(_request("Hi", thread_id="t1"), max_tokens=4)]
        await asyncio.wait_for(helper.TURN_SEEN.wait(), 5)
    turn = helper.TURNS[-1]
    assert turn.reply == "".join(c.text for c in chunks)
    assert turn.request.thread_id == "t1" and turn.usage == chunks[-1].usage
    assert [b.source for b in turn.context] == ["persona", "memory", "memory"]
    assert CHAT_TOKENS.labels(turn.model, "completion")._value.get() == counted + turn.usage.completion_tokens


async def test_openai_responses_carry_the_budget(chat_host) -> None:
    async with chat_host as host:
        model = (await host.client.get("/v1/models")).json()["data"][0]["id"]
        body = {"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
        lumina = (await host.client.post("/v1/chat/completions", json=body)).json()["lumina"]
    assert lumina["budget"]["reply_tokens"] == 4 and lumina["budget"]["dropped"] == ["encyclopedia"]
    assert [c["source"] for c in lumina["context"]] == ["persona", "memory", "memory"]


async def test_blocks_are_kept_by_priority_and_replayed_in_their_order() -> None:
    blocks = [
        ContextBlock("low", "one two three four", priority=10),
        ContextBlock("high", "five six", priority=90),
        ContextBlock("turn", "seven", priority=50, role="assistant"),
    ]
    system = Message("system", "Be kind.")
    assembled = await assemble(
        [system, Message("user", "hello")], blocks, count=_words,
        context_window=34, max_tokens=10, default_reply_tokens=100,
    )
    assert [b.source for b in assembled.blocks] == ["high", "turn"]
    assert assembled.budget.dropped == ("low",)
    assert assembled.messages == (
        Message("system", "Be kind.\n\nfive six"), Message("assistant", "seven"), Message("user", "hello"),
    )


async def test_without_max_tokens_the_reply_gets_what_is_left() -> None:
    assembled = await assemble(
        [Message("user", "a b c")], [], count=_words, context_window=20, max_tokens=None, default_reply_tokens=100
    )
    assert assembled.budget.reply_tokens == 20 - (3 + 4)


@pytest.mark.parametrize("max_tokens", [None, 50])
async def test_messages_that_cannot_fit_are_refused(max_tokens: int | None) -> None:
    with pytest.raises(ContextTooLong) as caught:
        await assemble([Message("user", "word " * 40)], [], count=_words, context_window=44,
                       max_tokens=max_tokens, default_reply_tokens=10)
    assert caught.value.status == 400 and "44" in caught.value.message


async def test_an_empty_conversation_is_refused(lumina_host) -> None:
    async with lumina_host(plugins=[]) as host:
        with pytest.raises(Exception) as caught:
            await host.kernel.services.get("chat").prepare(ChatRequest(messages=(), user_id="tester"))
    assert caught.value.field == "messages"
