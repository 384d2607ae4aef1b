"""Recall: the thread's last turns as history, similar past turns within the window, the persona."""

from __future__ import annotations

from typing import Any


def sources(blocks: list[Any], source: str) -> list[Any]:
    return [b for b in blocks if b.source == source]


async def test_recall_brings_back_similar_turns_within_the_window_and_not_outside(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        me = await kit.user_id(host, await kit.sign_up(host, "ada"))
        await kit.finish_turn(host, me, "My dog is called Rex.", "Rex is a fine name.", age_days=2)
        await kit.finish_turn(host, me, "My old dog was called Bello.", "A classic name.", age_days=20)
        await kit.finish_turn(host, me, "I enjoy baking sourdough bread.", "Lovely hobby.", age_days=1)
        recalled = sources(await kit.memory_context(host, me, "What is my dog called?"), "memory.recall")
        texts = [b.text for b in recalled]
        assert len(recalled) == 2  # RECALL_TOP_K=3, but only two turns are inside 14 days
        assert "Rex" in texts[0] and not any("Bello" in t for t in texts)
        assert recalled[0].cite_id and recalled[0].metadata["score"] > recalled[1].metadata["score"]


async def test_the_window_and_top_k_come_from_the_plugin_settings(memory_host: Any, kit: Any) -> None:
    config = {"memory": {"recall_max_days": 30, "recall_top_k": 1}}
    async with memory_host(plugin_config=config) as host:
        me = await kit.user_id(host, await kit.sign_up(host, "ada"))
        await kit.finish_turn(host, me, "My old dog was called Bello.", "A classic name.", age_days=20)
        await kit.finish_turn(host, me, "I enjoy baking sourdough bread.", "Lovely hobby.", age_days=1)
        [only] = sources(await kit.memory_context(host, me, "What was my dog called?"), "memory.recall")
        assert "Bello" in only.text


async def test_history_is_the_last_turns_of_the_thread_in_order(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        me = await kit.user_id(host, await kit.sign_up(host, "ada"))
        for n in range(6):
            await kit.finish_turn(host, me, f"question {n}", f"answer {n}", thread="t-1", age_days=(6 - n) / 1000)
        await kit.finish_turn(host, me, "elsewhere", "other thread", thread="t-2")
        history = sources(await kit.memory_context(host, me, "next question", thread="t-1"), "memory.history")
        assert [(b.role, b.text) for b in history] == [
            (role, f"{word} {n}") for n in range(2, 6) for role, word in (("user", "question"), ("assistant", "answer"))
        ]
        assert history[-1].priority > history[0].priority  # under a tight budget the oldest go first


async def test_no_history_is_added_when_the_client_sends_its_own(memory_host: Any, kit: Any) -> None:
    from lumina_core.contract import ChatRequest, Message

    async with memory_host() as host:
        me = await kit.user_id(host, await kit.sign_up(host, "ada"))
        await kit.finish_turn(host, me, "question", "answer", thread="t-1")
        request = ChatRequest(
            messages=(Message("user", "question"), Message("assistant", "answer"), Message("user", "and?")),
            user_id=me, thread_id="t-1",
        )
        [outcome] = [o for o in await host.kernel.call_each("chat_context", request=request) if o.plugin == "memory"]
        assert not sources(list(outcome.value), "memory.history")


async def test_the_persona_keeps_what_the_user_says_about_themselves(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        me = await kit.user_id(host, await kit.sign_up(host, "ada"))
        await kit.finish_turn(host, me, "Hi! I work as a nurse in Leeds. What's the weather?", "Sunny.")
        await kit.finish_turn(host, me, "I prefer short answers.", "Sure.")
        [persona] = sources(await kit.memory_context(host, me, "hello"), "memory.persona")
        assert "I work as a nurse in Leeds" in persona.text and "I prefer short answers" in persona.text
        assert "weather" not in persona.text
        assert not sources(await kit.memory_context(host, me, "hello", brain="work"), "memory.persona")


async def test_a_replayed_turn_is_stored_once(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        headers = await kit.sign_up(host, "ada")
        me = await kit.user_id(host, headers)
        for _ in range(2):
            await kit.finish_turn(host, me, "hello", "hi", turn_id="turn-1")
        assert (await host.client.get(f"/memory/stats/{me}", headers=headers)).json()["turns"] == 1


async def test_recall_works_with_the_embedding_cache_in_redis(memory_host: Any, kit: Any, redis_backend: dict[str, Any]) -> None:
    import redis

    async with memory_host(**redis_backend) as host:
        me = await kit.user_id(host, await kit.sign_up(host, "ada"))
        await kit.finish_turn(host, me, "My dog is called Rex.", "Rex is a fine name.")
        [recalled] = sources(await kit.memory_context(host, me, "What is my dog called?"), "memory.recall")
        assert "Rex" in recalled.text
    client = redis.Redis.from_url(redis_backend["redis_url"])
    try:
        assert list(client.scan_iter(match=f"{redis_backend['redis_prefix']}:emb*", count=1000))
    finally:
        client.close()
