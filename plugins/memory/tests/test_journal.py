"""The journal and restarts: nothing is lost, and a rebuild from the journal gives the same answers."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


async def test_every_turn_is_journalled_by_day(memory_host: Any, kit: Any, lumina_data_dir: Path) -> None:
    async with memory_host() as host:
        me = await kit.user_id(host, await kit.sign_up(host, "ada"))
        await kit.finish_turn(host, me, "I like tea.", "Noted.", brain="home", thread="t-1")
    today = datetime.now(UTC)
    journal = lumina_data_dir / "graphs" / "chat" / f"{today:%Y}" / f"{today:%m}" / f"{today:%d}" / "turns.ndjson"
    [entry] = [json.loads(line) for line in journal.read_text().splitlines()]
    assert {k: entry[k] for k in ("op", "user_id", "brain_id", "thread_id", "user_text", "assistant_text")} == {
        "op": "turn", "user_id": me, "brain_id": "home", "thread_id": "t-1", "user_text": "I like tea.", "assistant_text": "Noted.",
    }
    assert entry["ts"] > 0 and entry["model"] == "test"


async def test_a_restart_keeps_threads_messages_memories_and_turns(memory_host: Any, kit: Any) -> None:
    async with memory_host() as host:
        headers = await kit.sign_up(host, "ada")
        me = await kit.user_id(host, headers)
        thread = (await host.client.post("/threads/", json={"title": "plans", "system_prompt": "Be brief."}, headers=headers)).json()
        await kit.finish_turn(host, me, "We fly on Monday.", "Have a good trip.", thread=thread["id"])
        memory = (await host.client.post("/memory/memories", json={"text": "Passport expires in May"}, headers=headers)).json()
    async with memory_host() as host:
        headers = await kit.sign_up(host, "ada")
        assert (await host.client.get(f"/threads/{thread['id']}", headers=headers)).json()["system_prompt"] == "Be brief."
        messages = (await host.client.get(f"/threads/{thread['id']}/messages", headers=headers)).json()["items"]
        assert [m["content"] for m in messages] == ["We fly on Monday.", "Have a good trip."]
        assert (await host.client.get(f"/memory/memories/{memory['id']}", headers=headers)).json()["text"] == "Passport expires in May"
        recalled = await kit.memory_context(host, me, "When do we fly?")
        assert any("Monday" in b.text for b in recalled if b.source == "memory.recall")


async def test_rebuild_from_the_journal_gives_the_same_search_results(memory_host: Any, kit: Any, lumina_data_dir: Path) -> None:
    queries = ["what do I drink?", "where do I travel?", "pets"]

    async def answers(host: Any, headers: dict[str, str]) -> list[list[tuple[str, str, float]]]:
        found = []
        for query in queries:
            items = (await host.client.post("/memory/search", json={"query": query}, headers=headers)).json()["items"]
            found.append([(i["id"], i["text"], round(i["score"], 4)) for i in items])
        return found

    async with memory_host() as host:
        headers = await kit.sign_up(host, "ada")
        me = await kit.user_id(host, headers)
        for n, (said, reply) in enumerate([("I drink green tea.", "Nice."), ("We travel to Porto.", "Lovely city."),
                                           ("My cat sleeps all day.", "Cats do.")]):
            await kit.finish_turn(host, me, said, reply, age_days=n)
        kept = (await host.client.post("/memory/memories", json={"text": "Allergic to cats"}, headers=headers)).json()
        await host.client.put(f"/memory/memories/{kept['id']}", json={"text": "Allergic to dogs"}, headers=headers)
        dropped = (await host.client.post("/memory/memories", json={"text": "Drinks coffee"}, headers=headers)).json()
        await host.client.delete(f"/memory/memories/{dropped['id']}", headers=headers)
        before = await answers(host, headers)

    shutil.rmtree(lumina_data_dir / "vectors")  # as after a crash or a move to another backend
    lumina = Path(sys.executable).parent / "lumina"
    process = await asyncio.create_subprocess_exec(
        str(lumina), "memory", "rebuild", env={**os.environ, "LUMINA_DATA_DIR": str(lumina_data_dir)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output = (await process.communicate())[0].decode()
    assert process.returncode == 0, output
    assert "rebuilt the memory index from 7 journal entries" in output

    async with memory_host() as host:
        headers = await kit.sign_up(host, "ada")
        assert await answers(host, headers) == before
        texts = {t for answer in before for _, t, _ in answer}
        assert "Drinks coffee" not in texts and "Allergic to dogs" in texts
