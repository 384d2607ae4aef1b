"""Two users on one server never see, change or delete each other's data, through any endpoint."""

from __future__ import annotations

from typing import Any


async def test_user_b_cannot_reach_user_a_memories_threads_or_stats(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        c = host.client
        a, b = await kit.sign_up(host, "alice"), await kit.sign_up(host, "bob")
        a_id = await kit.user_id(host, a)
        memory = (await c.post("/memory/memories", json={"text": "Alice's door code is 4711"}, headers=a)).json()
        thread = (await c.post("/threads/", json={"title": "alice's plans"}, headers=a)).json()
        await kit.finish_turn(host, a_id, "My secret project is Falcon.", "Noted.", thread=thread["id"])
        m, t = memory["id"], thread["id"]

        forbidden_reads = [
            c.get(f"/memory/memories/{m}", headers=b),
            c.get(f"/memory/memories/{m}/history", headers=b),
            c.get(f"/memory/stats/{a_id}", headers=b),
            c.get(f"/threads/user/{a_id}", headers=b),
            c.get(f"/threads/{t}", headers=b),
            c.get(f"/threads/{t}/messages", headers=b),
        ]
        forbidden_writes = [
            c.put(f"/memory/memories/{m}", json={"text": "hacked"}, headers=b),
            c.delete(f"/memory/memories/{m}", headers=b),
            c.post(f"/memory/clear/{a_id}", headers=b),
            c.post(f"/threads/{t}/chat", json={"message": "hi"}, headers=b),
            c.post(f"/threads/{t}/chat/stream", json={"message": "hi"}, headers=b),
            c.delete(f"/threads/{t}", headers=b),
        ]
        for call in forbidden_reads + forbidden_writes:
            response = await call
            assert response.status_code == 404, (response.request.method, response.request.url, response.text)
            assert "Falcon" not in response.text and "4711" not in response.text

        claims = [
            c.post("/memory/memories", json={"text": "x", "user_id": a_id}, headers=b),
            c.post("/memory/search", json={"query": "door code", "user_id": a_id}, headers=b),
            c.post("/memory/chat", json={"message": "hi", "user_id": a_id}, headers=b),
            c.post("/memory/chat/stream", json={"message": "hi", "user_id": a_id}, headers=b),
            c.post("/threads/", json={"title": "x", "user_id": a_id}, headers=b),
        ]
        for call in claims:
            response = await call
            assert response.status_code == 403, (response.request.url, response.text)

        listed = (await c.get("/memory/memories", headers=b)).json()["items"]
        found = (await c.post("/memory/search", json={"query": "door code secret project"}, headers=b)).json()["items"]
        threads = (await c.get(f"/threads/user/{await kit.user_id(host, b)}", headers=b)).json()["items"]
        overview = (await c.get("/memory/overview", headers=b)).json()["items"]
        assert listed == found == threads == overview == []
        await c.delete("/memory/memories", headers=b)

        assert (await c.get(f"/memory/memories/{m}", headers=a)).json()["text"] == "Alice's door code is 4711"
        assert (await c.get(f"/threads/{t}", headers=a)).status_code == 200
        stats = (await c.get(f"/memory/stats/{a_id}", headers=a)).json()
        assert (stats["memories"], stats["turns"], stats["threads"]) == (1, 1, 1)


async def test_recall_never_crosses_users_or_brains(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        a = await kit.user_id(host, await kit.sign_up(host, "alice"))
        b = await kit.user_id(host, await kit.sign_up(host, "bob"))
        await kit.finish_turn(host, a, "My favourite colour is teal.", "Teal it is.", brain="personal")
        assert not [x for x in await kit.memory_context(host, b, "What is my favourite colour?", brain="personal") if x.source == "memory.recall"]
        assert not [x for x in await kit.memory_context(host, a, "What is my favourite colour?", brain="work") if x.source == "memory.recall"]
        assert [x for x in await kit.memory_context(host, a, "What is my favourite colour?", brain="personal") if x.source == "memory.recall"]


async def test_every_memory_route_needs_sign_in(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        for method, path in [("GET", "/memory/memories"), ("POST", "/memory/search"), ("GET", "/threads/user/x"),
                             ("GET", "/memory/stats/x"), ("POST", "/memory/chat"), ("GET", "/memory/health")]:
            response = await host.client.request(method, path, json={})
            assert response.status_code == 401, (method, path, response.text)
