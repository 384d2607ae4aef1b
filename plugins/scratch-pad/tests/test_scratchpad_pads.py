"""Pads over HTTP: notes with a TTL, per user, paged; the same on both backends."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis


def store_config(backend: dict[str, Any]) -> dict[str, Any]:
    """The plugin settings that put the pads where the ``backend`` fixture puts the core's services."""
    return {"redis_url": backend["redis_url"], "redis_prefix": backend.get("redis_prefix")}


async def test_a_note_lives_for_its_ttl_then_expires(pad_host, kit, backend) -> None:
    async with pad_host(host=backend, **store_config(backend)) as host:
        ada = await kit.sign_up(host, "ada")
        short = {"kind": "fact", "text": "Toronto is in Ontario.", "sources": ["p-1"], "ttl_s": 1.0}
        lasting = {"kind": "open_question", "text": "Who founded Toronto?"}
        created = (await host.client.post("/scratchpad/task-1/notes", json=short, headers=ada))
        assert created.status_code == 201
        note = created.json()
        assert note["kind"] == "fact" and note["sources"] == ["p-1"] and note["origin"] == "user"
        assert note["created_at"].endswith("Z") and note["expires_at"] > note["created_at"]
        await host.client.post("/scratchpad/task-1/notes", json=lasting, headers=ada)

        pad = (await host.client.get("/scratchpad/task-1", headers=ada)).json()
        assert [n["text"] for n in pad["items"]] == [short["text"], lasting["text"]]
        assert pad["pad"] == "task-1" and pad["next_cursor"] is None

        await asyncio.sleep(1.2)
        pad = (await host.client.get("/scratchpad/task-1", headers=ada)).json()
        assert [n["text"] for n in pad["items"]] == [lasting["text"]]
        stats = (await host.client.get("/scratchpad/stats", headers=ada)).json()
        assert stats["backend"] == ("redis" if backend["redis_url"] else "memory")
        assert stats["live_notes"] == 1 and stats["expired_notes"] in (0, 1)  # 0 once the sweep ran


async def test_a_pad_whose_notes_all_expired_is_gone(pad_host, kit, backend) -> None:
    async with pad_host(host=backend, ttl_s=1.0, **store_config(backend)) as host:
        ada = await kit.sign_up(host, "ada")
        await host.client.post("/scratchpad/chat-7/notes", json={"text": "remember the milk"}, headers=ada)
        assert (await host.client.get("/scratchpad/chat-7", headers=ada)).status_code == 200
        await asyncio.sleep(1.2)
        gone = await host.client.get("/scratchpad/chat-7", headers=ada)
        assert gone.status_code == 404 and gone.json()["error"]["type"] == "not_found"


async def test_pads_are_per_user_and_invisible_to_others(pad_host, kit, backend) -> None:
    async with pad_host(host=backend, **store_config(backend)) as host:
        ada, bob = await kit.sign_up(host, "ada"), await kit.sign_up(host, "bob")
        await host.client.post("/scratchpad/plan/notes", json={"text": "ada's plan"}, headers=ada)

        assert (await host.client.get("/scratchpad/plan", headers=bob)).status_code == 404
        assert (await host.client.delete("/scratchpad/plan", headers=bob)).status_code == 404
        await host.client.post("/scratchpad/plan/notes", json={"text": "bob's plan"}, headers=bob)
        for who, plan in ((ada, "ada's plan"), (bob, "bob's plan")):
            notes = (await host.client.get("/scratchpad/plan", headers=who)).json()["items"]
            assert [n["text"] for n in notes] == [plan]

        assert (await host.client.delete("/scratchpad/plan", headers=ada)).status_code == 204
        assert (await host.client.get("/scratchpad/plan", headers=ada)).status_code == 404
        assert (await host.client.get("/scratchpad/plan", headers=bob)).status_code == 200


async def test_lumina_s_own_pads_are_for_admins_to_read_and_nobody_to_write(pad_host, kit) -> None:
    async with pad_host() as host:
        admin, bob = await kit.sign_up(host, "admin"), await kit.sign_up(host, "bob")
        refused = await host.client.post("/scratchpad/reflection:x/notes", json={"text": "mine now"}, headers=admin)
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "pad"
        assert (await host.client.get("/scratchpad/reflection:x", headers=bob)).status_code == 404
        assert (await host.client.get("/scratchpad/reflection:x", headers=admin)).status_code == 404  # none yet


async def test_a_pad_is_listed_page_by_page(pad_host, kit) -> None:
    async with pad_host() as host:
        ada = await kit.sign_up(host, "ada")
        for i in range(5):
            await host.client.post("/scratchpad/long/notes", json={"text": f"note {i}"}, headers=ada)
        first = (await host.client.get("/scratchpad/long", params={"limit": 2}, headers=ada)).json()
        second = (await host.client.get("/scratchpad/long", params={"limit": 2, "cursor": first["next_cursor"]},
                                        headers=ada)).json()
        assert [n["text"] for n in first["items"] + second["items"]] == [f"note {i}" for i in range(4)]
        assert second["next_cursor"] == "4"


@pytest.mark.parametrize(("pad", "body", "field"), [
    ("bad name!", {"text": "x"}, "pad"),
    ("stats", {"text": "x"}, "pad"),
    ("ok", {"text": ""}, "text"),
    ("ok", {"text": "x", "kind": "rumour"}, "kind"),
    ("ok", {"text": "x", "ttl_s": 0}, "ttl_s"),
])
async def test_a_bad_note_is_refused_with_the_field_to_fix(pad_host, kit, pad, body, field) -> None:
    async with pad_host() as host:
        ada = await kit.sign_up(host, "ada")
        response = await host.client.post(f"/scratchpad/{pad}/notes", json=body, headers=ada)
        assert response.status_code == 422
        assert response.json()["error"]["type"] == "validation_error" and response.json()["error"]["field"] == field


async def test_on_redis_a_pad_is_a_hash_under_the_configured_prefix(pad_host, kit, redis_backend) -> None:
    async with pad_host(host=redis_backend, **store_config(redis_backend)) as host:
        ada = await kit.sign_up(host, "ada")
        await host.client.post("/scratchpad/task-1/notes", json={"text": "in redis"}, headers=ada)
        client = redis.Redis.from_url(redis_backend["redis_url"])
        try:
            [key] = client.scan_iter(match=f"{redis_backend['redis_prefix']}:scratchpad:pad:*")
            assert client.type(key) == b"hash" and client.ttl(key) > 0
        finally:
            client.close()
