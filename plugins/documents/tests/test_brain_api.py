"""The Brain API (/ingest, /query, /brains), brain passages cited in chat, chats kept in a brain."""

from __future__ import annotations

from typing import Any

from lumina_core.contract import ChatRequest, ChatTurn, Message, Usage


async def documents_context(host: Any, user_id: str, said: str, brain: str = "default") -> list[Any]:
    request = ChatRequest(messages=(Message("user", said),), user_id=user_id, brain_id=brain)
    outcomes = await host.kernel.call_each("chat_context", request=request)
    return [b for o in outcomes if o.plugin == "documents" for b in o.value]


async def user_id(host: Any, headers: dict[str, str]) -> str:
    return (await host.client.get("/auth/me", headers=headers)).json()["id"]


async def test_a_note_is_searchable_as_soon_as_ingest_answers(documents_host, kit):
    async with documents_host() as host:
        alice = await kit.sign_up(host, "alice")
        body = {"brain_id": "work", "content": "The release freeze starts on the ninth of June.",
                "metadata": {"title": "Release plan", "project": "falcon"}}
        response = await host.client.post("/ingest", headers=alice, json=body)
        assert response.status_code == 201, response.text
        note = response.json()
        assert (note["state"], note["kind"], note["name"], note["passages"]) == ("ready", "note", "Release plan", 1)
        assert note["metadata"]["project"] == "falcon"
        (hit,) = await kit.query(host, alice, "When does the release freeze start?", brain="work", n=5)
        assert "ninth of June" in hit["text"] and hit["source"]["kind"] == "note"
        assert await kit.query(host, alice, "When does the release freeze start?", brain="home") == []
        again = (await host.client.post("/ingest", headers=alice, json=body)).json()
        assert again["id"] == note["id"] and again["duplicate"] is True


async def test_query_returns_at_most_n_results_best_first(documents_host, kit):
    async with documents_host() as host:
        alice = await kit.sign_up(host, "alice")
        for fact in ("Oslo is cold in winter.", "Lisbon is warm in winter.", "Oslo has long summer days."):
            await host.client.post("/ingest", headers=alice, json={"content": fact})
        hits = await kit.query(host, alice, "Is Oslo cold in winter?", n=2)
        assert len(hits) == 2 and hits[0]["text"] == "Oslo is cold in winter."
        assert hits[0]["score"] >= hits[1]["score"]
        bad = await host.client.post("/query", headers=alice, json={"question": "x", "n_results": 0})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "n_results"


async def test_chat_context_cites_the_page_a_fact_is_on(documents_host, kit):
    async with documents_host() as host:
        alice = await kit.sign_up(host, "alice")
        (pdf,) = (await kit.upload(host, alice, ("heron.pdf", kit.make_pdf(kit.manual_pages)))).json()["items"]
        await kit.until_final(host, alice, pdf["id"])
        (block,) = [b for b in await documents_context(host, await user_id(host, alice),
                                                       "What capacity does the Heron water tank have?")][:1]
        assert block.source == "documents" and block.priority > 60
        assert block.metadata["page"] == 2 and block.metadata["file_id"] == pdf["id"]
        assert "one point eight litres" in block.text and block.text.startswith(f"[{block.cite_id}] heron.pdf, page 2:")
        cite = (await host.client.get(f"/documents/passages/{block.cite_id}", headers=alice)).json()
        assert cite["source"]["page"] == 2 and "one point eight litres" in cite["text"]
        assert await documents_context(host, await user_id(host, alice), "Who won the 1930 World Cup?") == []


async def test_a_brain_set_to_auto_save_keeps_each_chat_turn(documents_host, kit):
    async with documents_host() as host:
        alice = await kit.sign_up(host, "alice")
        me = await user_id(host, alice)
        brain = (await host.client.put("/brains/diary", headers=alice, json={"auto_save": True})).json()
        assert brain["auto_save"] is True and brain["id"] == "diary"
        for brain_id in ("diary", "default"):
            request = ChatRequest(messages=(Message("user", "My bike's lock code is 9021."),), user_id=me,
                                  brain_id=brain_id)
            turn = ChatTurn(request=request, reply="Noted: 9021.", model="test", usage=Usage(), latency_ms=1.0,
                            turn_id=f"t-{brain_id}", created_at="2026-12-02T10:00:00Z")
            await host.kernel.call_each("after_chat_turn", turn=turn)
        (hit,) = await kit.query(host, alice, "What is the lock code of my bike?", brain="diary")
        assert "9021" in hit["text"] and hit["source"]["kind"] == "chat"
        assert await kit.query(host, alice, "What is the lock code of my bike?", brain="default") == []
        brains = (await host.client.get("/brains", headers=alice)).json()["items"]
        assert [(b["id"], b["files"], b["auto_save"]) for b in brains] == [("diary", 1, True)]
        assert brains[0]["pending_dense"] in (0, 1)  # the note's dense vector may still be on its way


async def test_deleting_a_brain_deletes_its_files_and_passages(documents_host, kit):
    async with documents_host() as host:
        alice = await kit.sign_up(host, "alice")
        await host.client.post("/ingest", headers=alice, json={"brain_id": "old", "content": "Pin is 1234."})
        assert (await host.client.delete("/brains/old", headers=alice)).status_code == 204
        assert await kit.query(host, alice, "pin", brain="old") == []
        assert (await host.client.get("/files", headers=alice)).json()["items"] == []
        assert (await host.client.delete("/brains/old", headers=alice)).status_code == 404
