"""Compression: expired notes a passage confirms become citable ``reflection`` passages."""

from __future__ import annotations

import asyncio

from lumina_scratchpad.compression import confirms, sweep
from lumina_scratchpad.journal import Journal
from lumina_scratchpad.notes import Note
from lumina_scratchpad.pads import SYSTEM_OWNER
from lumina_scratchpad.store import build_store

from lumina_core.testing import free_port

NO_MODEL = {"llm_providers": "ollama", "ollama_url": f"http://127.0.0.1:{free_port()}"}  # the extractive notes
PASSAGE = {"id": "p1", "title": "Allan Dwan",
           "text": "Allan Dwan was a Canadian-born American film director, born in Toronto."}


def note(text: str, sources: tuple[str, ...] = ("p1",), kind: str = "fact") -> Note:
    return Note.new(kind, text, sources, ttl_s=-1.0, origin="extract")


def test_a_note_is_confirmed_by_a_cited_passage_that_says_the_same() -> None:
    assert confirms(note("Allan Dwan was born in Toronto."), [PASSAGE]) == PASSAGE


def test_a_passage_the_note_does_not_cite_confirms_nothing() -> None:
    assert confirms(note("Allan Dwan was born in Toronto.", sources=("p2",)), [PASSAGE]) is None


def test_a_cited_passage_that_does_not_say_it_confirms_nothing() -> None:
    assert confirms(note("Allan Dwan retired to a ranch in Montana with three horses."), [PASSAGE]) is None


async def test_a_confirmed_reflection_note_is_folded_into_a_citable_passage(pad_host, kit, wikitext) -> None:
    async with pad_host(host=NO_MODEL, ttl_s=1.0, sweep_cron="* * * * * *") as host:
        admin = await kit.sign_up(host, "admin")
        article_id = await kit.crawl(host, admin, wikitext["Allan Dwan"])
        notes = await kit.reflection_notes(host, admin, article_id)
        facts = [n for n in notes if n["kind"] == "fact"]

        stats = await kit.eventually(lambda: _folded(host, admin, len(facts)), timeout=30)
        assert stats["notes_folded"] == len(facts)
        assert (await host.client.get(f"/scratchpad/reflection:{article_id}", headers=admin)).status_code == 404

        query = {"query": facts[0]["text"], "k": 10}
        hits = (await host.client.post("/knowledge/search", json=query, headers=admin)).json()["hits"]
        folded = next(h for h in hits if h["title"] == "Allan Dwan (reflection)")
        passage = (await host.client.get(f"/knowledge/passages/{folded['id']}", headers=admin)).json()
        assert passage["source"] == "reflection" and passage["text"] == facts[0]["text"]
        assert passage["metadata"]["cites"] == facts[0]["sources"]
        cited = (await host.client.get(f"/knowledge/passages/{passage['metadata']['cites'][0]}", headers=admin)).json()
        assert cited["title"] == "Allan Dwan"


async def _folded(host, headers, at_least: int):
    stats = (await host.client.get("/scratchpad/stats", headers=headers)).json()
    return stats if stats["notes_folded"] >= at_least and stats["expired_notes"] == 0 else None


async def test_users_notes_are_never_folded_only_forgotten(pad_host, kit, wikitext) -> None:
    async with pad_host(host=NO_MODEL, ttl_s=0.5, sweep_cron="* * * * * *") as host:
        ada = await kit.sign_up(host, "ada")
        await kit.crawl(host, ada, wikitext["Allan Dwan"])
        hit = (await host.client.post("/knowledge/search", json={"query": "Allan Dwan director", "k": 1},
                                      headers=ada)).json()["hits"][0]
        mine = {"kind": "fact", "text": hit["text"][:120], "sources": [hit["id"]], "ttl_s": 0.5}
        await host.client.post("/scratchpad/mine/notes", json=mine, headers=ada)

        await kit.eventually(lambda: _swept(host, ada), timeout=30)
        assert (await host.client.get("/scratchpad/mine", headers=ada)).status_code == 404
        search = {"query": mine["text"], "k": 10}
        hits = (await host.client.post("/knowledge/search", json=search, headers=ada)).json()["hits"]
        assert not [h for h in hits if h["title"].endswith("(reflection)") and h["text"] == mine["text"]]


async def _swept(host, headers):
    stats = (await host.client.get("/scratchpad/stats", headers=headers)).json()
    return stats["live_notes"] == 0 and stats["expired_notes"] == 0 or None


async def test_two_sweeps_at_once_fold_a_note_once(pad_host, kit, wikitext, backend, tmp_path) -> None:
    async with pad_host(host=NO_MODEL) as host:
        admin = await kit.sign_up(host, "admin")
        await kit.crawl(host, admin, wikitext["Aardvark"])
        knowledge = host.kernel.services.get("knowledge")
        [hit] = await knowledge.search("Aardvark nocturnal mammal Africa", 1)
        store = build_store(backend["redis_url"], backend.get("redis_prefix", "lumina"))
        journal = Journal(tmp_path / "journal.sqlite")
        try:
            fact = note(hit["text"].split(". ")[0] + ".", sources=(hit["id"],))
            await store.add(SYSTEM_OWNER, "reflection:aardvark", [fact])
            before = (await knowledge.stats())["articles"]
            first, second = await asyncio.gather(sweep(store, knowledge, journal), sweep(store, knowledge, journal))

            assert first["folded"] + second["folded"] >= 1
            assert (await knowledge.stats())["articles"] == before + 1
            assert journal.summary()["notes_folded"] == 1
            assert await store.expired(fact.expires_at + 1, 10) == []
        finally:
            await store.close()
            journal.close()
