"""The mem0-style memory API: add, search, get, update, delete, history, delete-all; scopes and filters."""

from __future__ import annotations

from typing import Any


async def test_add_get_update_history_delete(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        c, me = host.client, await kit.sign_up(host, "ada")
        added = await c.post("/memory/memories", json={"text": "Likes green tea", "brain_id": "home", "metadata": {"topic": "food"}}, headers=me)
        assert added.status_code == 201
        memory = added.json()
        assert (memory["text"], memory["brain_id"], memory["kind"], memory["metadata"]) == ("Likes green tea", "home", "memory", {"topic": "food"})
        assert (await c.get(f"/memory/memories/{memory['id']}", headers=me)).json() == memory
        changed = (await c.put(f"/memory/memories/{memory['id']}", json={"text": "Likes oolong tea"}, headers=me)).json()
        assert changed["text"] == "Likes oolong tea" and changed["metadata"] == {"topic": "food"}
        assert (await c.delete(f"/memory/memories/{memory['id']}", headers=me)).status_code == 204
        assert (await c.get(f"/memory/memories/{memory['id']}", headers=me)).status_code == 404
        history = (await c.get(f"/memory/memories/{memory['id']}/history", headers=me)).json()["items"]
        assert [(h["event"], h["old_text"], h["new_text"]) for h in history] == [
            ("add", None, "Likes green tea"),
            ("update", "Likes green tea", "Likes oolong tea"),
            ("delete", "Likes oolong tea", None),
        ]


async def test_search_is_scoped_by_brain_agent_metadata_and_time(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        c, me = host.client, await kit.sign_up(host, "ada")
        for text, brain, agent, topic in [
            ("The quarterly report is due on Friday", "work", "planner", "deadlines"),
            ("The dentist appointment is on Friday", "personal", None, "health"),
            ("The team offsite is in March", "work", "social", "events"),
        ]:
            body = {"text": text, "brain_id": brain, "agent_id": agent, "metadata": {"topic": topic}}
            assert (await c.post("/memory/memories", json=body, headers=me)).status_code == 201

        async def found(**query: Any) -> list[str]:
            response = await c.post("/memory/search", json={"query": "what happens on Friday?", **query}, headers=me)
            assert response.status_code == 200, response.text
            return [h["text"] for h in response.json()["items"]]

        assert len(await found()) == 3
        assert await found(brain_id="personal") == ["The dentist appointment is on Friday"]
        assert await found(brain_id="work", agent_id="social") == ["The team offsite is in March"]
        assert await found(metadata={"topic": "deadlines"}) == ["The quarterly report is due on Friday"]
        assert await found(since=kit.days_ago(-1)) == []
        assert len(await found(since=kit.days_ago(1), until=kit.days_ago(-1))) == 3
        listed = (await c.get("/memory/memories?brain_id=work&limit=1", headers=me)).json()
        assert len(listed["items"]) == 1 and listed["next_cursor"]
        rest = (await c.get(f"/memory/memories?brain_id=work&cursor={listed['next_cursor']}", headers=me)).json()
        assert len(rest["items"]) == 1 and rest["next_cursor"] is None


async def test_delete_all_of_one_brain_keeps_the_others(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        c, me = host.client, await kit.sign_up(host, "ada")
        for brain in ("work", "work", "personal"):
            await c.post("/memory/memories", json={"text": f"a {brain} fact", "brain_id": brain}, headers=me)
        assert (await c.delete("/memory/memories?brain_id=work", headers=me)).json() == {"deleted": 2}
        assert [m["brain_id"] for m in (await c.get("/memory/memories", headers=me)).json()["items"]] == ["personal"]


async def test_clear_forgets_turns_memories_and_persona(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        c, headers = host.client, await kit.sign_up(host, "ada")
        me = await kit.user_id(host, headers)
        await c.post("/memory/memories", json={"text": "a fact"}, headers=headers)
        await kit.finish_turn(host, me, "I am a pilot.", "Great.")
        assert (await c.post(f"/memory/clear/{me}", headers=headers)).json() == {"user_id": me, "deleted": 2}
        stats = (await c.get(f"/memory/stats/{me}", headers=headers)).json()
        assert (stats["turns"], stats["memories"], stats["persona_facts"]) == (0, 0, {})


async def test_bad_input_gets_a_clear_4xx(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        c, me = host.client, await kit.sign_up(host, "ada")
        cases = [
            (c.post("/memory/memories", json={"text": ""}, headers=me), 422, "text"),
            (c.post("/memory/memories", json={"text": "   "}, headers=me), 422, "text"),
            (c.post("/memory/memories", json={"text": 5}, headers=me), 422, "text"),
            (c.post("/memory/search", json={"query": "x", "since": "last tuesday"}, headers=me), 422, "since"),
            (c.post("/memory/search", json={"query": "x", "limit": 0}, headers=me), 422, "limit"),
            (c.get("/memory/memories?kind=other", headers=me), 422, "kind"),
            (c.get("/memory/memories/not-a-uuid", headers=me), 404, None),
            (c.put("/memory/memories/8d7f0a2e-0000-4000-8000-000000000000", json={"text": "x"}, headers=me), 404, None),
            (c.get("/memory/memories?cursor=nope", headers=me), 422, "cursor"),
        ]
        for call, status, field in cases:
            response = await call
            assert response.status_code == status, (response.request.url, response.text)
            error = response.json()["error"]
            assert error["message"]
            if field:
                assert field in error.get("field", ""), error


async def test_health_and_dashboard_endpoints(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        c, headers = host.client, await kit.sign_up(host, "ada")
        me = await kit.user_id(host, headers)
        await c.post("/memory/memories", json={"text": "a fact", "brain_id": "work"}, headers=headers)
        await c.post("/threads/", json={"brain_id": "work"}, headers=headers)
        await kit.memory_context(host, me, "hello")
        health = (await c.get("/memory/health", headers=headers)).json()
        assert (health["status"], health["vector_backend"], health["dimensions"]) == ("ok", "qdrant-edge", 384)
        assert (await c.get("/memory/overview", headers=headers)).json()["items"] == [
            {"brain_id": "work", "memories": 1, "turns": 0, "threads": 1}
        ]
        latency = (await c.get("/memory/latency", headers=headers)).json()
        assert latency["recalls"] == 1 and latency["value"] > 0
        panels = {p.endpoint for p in host.kernel.get("memory").manifest.panels}
        assert panels == {"/memory/overview", "/memory/latency"}
