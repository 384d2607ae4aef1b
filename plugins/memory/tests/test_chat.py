"""Chat with memory and in threads, through the host's chat pipeline on the embedded model."""

from __future__ import annotations

import asyncio
import json
from typing import Any

SHORT = {"max_tokens": 6}


async def wait_for_turns(host: Any, headers: dict[str, str], me: str, count: int) -> None:
    """after_chat_turn runs in the background: wait (bounded) until the turns are stored."""
    for _ in range(100):
        if (await host.client.get(f"/memory/stats/{me}", headers=headers)).json()["turns"] >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} turns were not stored within 5 s")


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for frame in text.replace("\r\n", "\n").split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


async def test_memory_chat_answers_in_the_seeds_shape_and_remembers(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        headers = await kit.sign_up(host, "ada")
        me = await kit.user_id(host, headers)
        first = await host.client.post("/memory/chat", json={"message": "I am a pilot and my plane is red.", **SHORT}, headers=headers)
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["user_id"] == me and body["response"] and body["response_length"] == len(body["response"])
        assert body["persona_included"] is False and body["context_used"] is False and body["processing_time_ms"] > 0
        await wait_for_turns(host, headers, me, 1)
        second = (await host.client.post("/memory/chat", json={"message": "What colour is my plane?", **SHORT}, headers=headers)).json()
        used = {b["source"] for b in second["context_blocks"]}
        assert {"memory.recall", "memory.persona"} <= used
        assert second["context_used"] and second["persona_included"] and second["context_length"] > 0


async def test_memory_chat_streams_context_tokens_and_done(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        headers = await kit.sign_up(host, "ada")
        async with host.client.stream("POST", "/memory/chat/stream", json={"message": "Hello!", **SHORT}, headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = sse_events((await response.aread()).decode())
        kinds = [kind for kind, _ in events]
        assert kinds[0] == "context" and kinds[-1] == "done" and "token" in kinds
        text = "".join(data["text"] for kind, data in events if kind == "token")
        assert events[-1][1]["response_length"] == len(text)


async def test_threads_keep_their_messages_and_replay_them_as_history(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        c, headers = host.client, await kit.sign_up(host, "ada")
        me = await kit.user_id(host, headers)
        created = await c.post("/threads/", json={"title": "trip", "brain_id": "travel", "system_prompt": "Be brief.",
                                                   "initial_message": "We go to Porto in June."}, headers=headers)
        assert created.status_code == 201, created.text
        thread = created.json()
        assert thread["message_count"] == 2 and thread["reply"]["response"]
        reply = (await c.post(f"/threads/{thread['id']}/chat", json={"message": "Where do we go?", **SHORT}, headers=headers)).json()
        assert reply["thread_id"] == thread["id"]
        history = [b for b in reply["context_blocks"] if b["source"] == "memory.history"]
        assert len(history) == 2  # the first exchange, replayed from the thread
        messages = (await c.get(f"/threads/{thread['id']}/messages?limit=3", headers=headers)).json()["items"]
        assert [m["role"] for m in messages] == ["assistant", "user", "assistant"]
        assert messages[1]["content"] == "Where do we go?" and messages[2]["id"] == reply["message_id"]
        listed = (await c.get(f"/threads/user/{me}", headers=headers)).json()["items"]
        assert [(t["id"], t["brain_id"], t["message_count"]) for t in listed] == [(thread["id"], "travel", 4)]
        await wait_for_turns(host, headers, me, 2)
        assert (await c.get(f"/threads/{thread['id']}/messages", headers=headers)).json()["items"].__len__() == 4


async def test_thread_stream_saves_the_exchange(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        c, headers = host.client, await kit.sign_up(host, "ada")
        thread = (await c.post("/threads/", json={}, headers=headers)).json()
        async with c.stream("POST", f"/threads/{thread['id']}/chat/stream", json={"message": "Hi", **SHORT}, headers=headers) as response:
            events = sse_events((await response.aread()).decode())
        done = events[-1]
        assert done[0] == "done" and done[1]["thread_id"] == thread["id"]
        messages = (await c.get(f"/threads/{thread['id']}/messages", headers=headers)).json()["items"]
        assert [m["role"] for m in messages] == ["user", "assistant"] and messages[1]["id"] == done[1]["message_id"]


async def test_deleting_a_thread_removes_it_and_its_messages(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        c, headers = host.client, await kit.sign_up(host, "ada")
        thread = (await c.post("/threads/", json={"title": "x"}, headers=headers)).json()
        assert (await c.delete(f"/threads/{thread['id']}", headers=headers)).status_code == 204
        for call in (c.get(f"/threads/{thread['id']}", headers=headers), c.get(f"/threads/{thread['id']}/messages", headers=headers)):
            assert (await call).status_code == 404


async def test_bad_chat_input_gets_a_clear_4xx(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        c, headers = host.client, await kit.sign_up(host, "ada")
        thread = (await c.post("/threads/", json={}, headers=headers)).json()
        cases = [
            (c.post("/memory/chat", json={"message": ""}, headers=headers), 422),
            (c.post("/memory/chat", json={"message": "  \n"}, headers=headers), 422),
            (c.post("/memory/chat", json={"message": ["hi"]}, headers=headers), 422),
            (c.post("/memory/chat", json={}, headers=headers), 422),
            (c.post(f"/threads/{thread['id']}/chat", json={"message": ""}, headers=headers), 422),
            (c.post("/threads/no-such-thread/chat", json={"message": "hi"}, headers=headers), 404),
            (c.post("/threads/no-such-thread/chat/stream", json={"message": "hi"}, headers=headers), 404),
            (c.get("/threads/no-such-thread/messages?limit=0", headers=headers), 422),
            (c.post("/threads/", json={"title": 7}, headers=headers), 422),
        ]
        for call, status in cases:
            response = await call
            assert response.status_code == status, (response.request.url, response.text)
            assert response.json()["error"]["message"]
