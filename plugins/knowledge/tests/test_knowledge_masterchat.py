"""MasterChat wiki_qa: answers from passages with cite ids that resolve, or a recorded gap."""

from __future__ import annotations

import json


async def ask(host, message: str) -> dict:
    response = await host.client.post("/masterchat/chat", json={"message": message, "mode": "wiki_qa"})
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_answer_states_the_fact_and_cites_passages_that_resolve(knowledge_host):
    body = await ask(knowledge_host, "Who was the commander of Apollo 8?")
    assert "Borman" in body["answer"] and body["confidence"] >= 0.45
    assert body["method"] in ("phrased", "extractive")
    assert body["cite_ids"] and {s["id"] for s in body["sources"]} == set(body["cite_ids"])
    for cite_id in body["cite_ids"]:
        passage = await knowledge_host.client.get(f"/knowledge/passages/{cite_id}")
        assert passage.status_code == 200
    assert any("Frank Borman" in e for e in body["evidence"])
    assert body["sources"][0] == {"id": body["cite_ids"][0], "title": "Apollo 8",
                                  "url": "https://en.wikipedia.org/wiki/Apollo_8"}


async def test_an_unknown_topic_is_a_gap_not_a_guess(knowledge_host):
    gaps_seen: list[dict] = []

    async def on_gap(event):
        gaps_seen.append(event)

    knowledge_host.kernel.services.get("events").subscribe("knowledge.gap_recorded", on_gap, owner="test")
    body = await ask(knowledge_host, "What is the boiling point of liquid nitrogen?")
    assert body["answer"].startswith("I don't know") and body["cite_ids"] == [] and body["method"] == "unknown"
    await ask(knowledge_host, "what is the boiling point of liquid  nitrogen?")

    gaps = (await knowledge_host.client.get("/knowledge/gaps")).json()
    assert [g["topic"] for g in gaps["items"]] == ["What is the boiling point of liquid nitrogen?"]
    assert gaps["items"][0]["hits"] == 2 and gaps["next_cursor"] is None
    assert gaps_seen and gaps_seen[0]["payload"]["topic"].startswith("What is the boiling point")


async def test_a_question_sharing_a_passages_words_but_not_its_meaning_is_a_gap(knowledge_host):
    body = await ask(knowledge_host, "Which termites splashed down in the Pacific Ocean?")
    assert body["answer"].startswith("I don't know") and body["method"] == "unknown"
    (gap,) = (await knowledge_host.client.get("/knowledge/gaps")).json()["items"]
    assert "not its meaning" in gap["reason"]


async def test_a_sentence_saying_it_is_read_with_its_title_before_its_meaning_is_judged(knowledge_host):
    # "A nocturnal feeder, it subsists on ants and termites, ..." alone is 0.16 from the question
    body = await ask(knowledge_host, "What does the aardvark subsist on?")
    assert body["method"] != "unknown" and "ants and termites" in body["answer"]


async def stream(host, message: str) -> list[tuple[str, dict]]:
    """The (event, data) pairs of a streamed wiki_qa answer."""
    async with host.client.stream("POST", "/masterchat/chat/stream", json={"message": message}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = []
        kind = None
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((kind, json.loads(line.split(":", 1)[1])))
    return events


async def test_the_stream_sends_context_tokens_and_a_checked_answer(knowledge_host):
    events = await stream(knowledge_host, "What does the aardvark eat?")
    kinds = [k for k, _ in events]
    assert kinds[0] == "context" and kinds[-1] == "done" and kinds.count("done") == 1
    done = events[-1][1]
    assert "termites" in done["answer"] or "termites" in " ".join(done["evidence"])
    assert done["cite_ids"] == events[0][1]["cite_ids"]


async def test_a_phrase_cut_off_by_the_token_limit_gives_way_to_the_evidence_sentence(knowledge_host, monkeypatch):
    # The evidence has 23 words, so the model phrases it; cut at 8 tokens the phrase reads "The
    # aardvark uses its claws", which the check alone would accept.
    monkeypatch.setattr("lumina_knowledge.answer.ANSWER_TOKENS", 8)
    body = await ask(knowledge_host, "How does the aardvark dig out termites?")
    (_, done) = (await stream(knowledge_host, "How does the aardvark dig out termites?"))[-1]
    for answer in (body, done):
        assert answer["method"] == "extractive" and answer["answer"] == answer["evidence"][0]
        assert "sharp claws and powerful legs" in answer["answer"]


async def test_only_wiki_qa_is_served_here(knowledge_host):
    response = await knowledge_host.client.post("/masterchat/chat", json={"message": "hi", "mode": "poetry"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "mode"


LUANDA = {
    "id": "angola",
    "title": "Angola",
    "url": "https://en.wikipedia.org/wiki/Angola",
    "revision": 3,
    "source": "test",
    "sections": [
        {"path": ["History", "Portuguese colonization"], "text": (
            "During Portugal's separatist war against Spain, the Dutch occupied Luanda as \"Fort Aardenburgh\" "
            "from 1640 to 1648. A fleet under Salvador de Sá retook Luanda for Portugal in 1648; reconquest of "
            "the rest of the territory was completed by 1650.")},
    ],
}


async def test_sentences_that_score_alike_are_reread_by_the_model(knowledge_host, monkeypatch):
    # By words and embedding, the Dutch occupation sentence wins (it has "Dutch", "Portugal", "1648");
    # the model finds the question far likelier after the sentence saying who retook Luanda.
    await knowledge_host.kernel.services.get("knowledge").index_article(LUANDA)
    question = "Who took Luanda back from the Dutch for Portugal in 1648?"
    monkeypatch.setattr("lumina_knowledge.answer.REREAD_MARGIN", -1.0)
    unread = await ask(knowledge_host, question)
    monkeypatch.undo()
    body = await ask(knowledge_host, question)
    assert "Salvador de Sá" not in unread["answer"]
    assert "Salvador de Sá" in body["answer"] and body["evidence"][0].startswith("A fleet under Salvador")

