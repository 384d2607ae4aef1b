"""The knowledge index through HTTP: search, cite ids, re-ingestion, errors."""

from __future__ import annotations

import copy

import pytest


async def search(host, query: str, k: int = 3, mode: str = "hybrid") -> list[dict]:
    response = await host.client.post("/knowledge/search", json={"query": query, "k": k, "mode": mode})
    assert response.status_code == 200, response.text
    return response.json()["hits"]


async def test_search_finds_the_passage_and_its_cite_id_resolves(knowledge_host):
    (hit, *_) = await search(knowledge_host, "Who was the commander of Apollo 8?")
    assert hit["title"] == "Apollo 8" and hit["section"] == "Crew" and "Frank Borman" in hit["text"]
    assert set(hit) == {"id", "title", "section", "score", "text", "url"}
    passage = (await knowledge_host.client.get(f"/knowledge/passages/{hit['id']}")).json()
    assert passage["text"] == hit["text"] and passage["url"] == "https://en.wikipedia.org/wiki/Apollo_8"


@pytest.mark.parametrize("mode", ["bm25", "dense", "rrf", "hybrid"])
async def test_every_retrieval_mode_ranks_the_right_article_first(knowledge_host, mode):
    hits = await search(knowledge_host, "What does the aardvark eat?", mode=mode)
    assert hits[0]["title"] == "Aardvark"


async def test_reindexing_an_unchanged_article_changes_nothing(knowledge_host, articles):
    service = knowledge_host.kernel.services.get("knowledge")
    before = (await knowledge_host.client.get("/knowledge/stats")).json()
    assert await service.index_article(articles[0]) == {"status": "unchanged", "passages": 2}
    assert (await knowledge_host.client.get("/knowledge/stats")).json() == before


async def test_a_changed_article_replaces_its_passages(knowledge_host, articles):
    service = knowledge_host.kernel.services.get("knowledge")
    (old,) = await search(knowledge_host, "Who was the commander of Apollo 8?", k=1)
    revised = copy.deepcopy(articles[0])
    revised["revision"] = 2
    revised["sections"] = revised["sections"][:1]
    assert await service.index_article(revised) == {"status": "replaced", "passages": 1}
    assert (await knowledge_host.client.get(f"/knowledge/passages/{old['id']}")).status_code == 404
    assert (await knowledge_host.client.get("/knowledge/stats")).json()["passages"] == 2


async def test_bad_searches_are_refused_in_the_error_envelope(knowledge_host):
    empty = await knowledge_host.client.post("/knowledge/search", json={"query": "  ", "k": 3})
    too_many = await knowledge_host.client.post("/knowledge/search", json={"query": "moon", "k": 500})
    unknown = await knowledge_host.client.get("/knowledge/passages/not-a-cite-id")
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "query"
    assert too_many.status_code == 422 and too_many.json()["error"]["field"] == "k"
    assert unknown.status_code == 404 and "cite id" in unknown.json()["error"]["message"]


async def test_chat_context_offers_relevant_passages_with_cite_ids_and_nothing_off_topic(knowledge_host):
    from lumina_core.contract import ChatRequest, Message

    def request(text: str) -> ChatRequest:
        return ChatRequest(messages=(Message("user", text),), user_id="local")

    (on_topic,) = await knowledge_host.kernel.call_each("chat_context", request=request("Who commanded Apollo 8?"))
    blocks = list(on_topic.value)
    assert blocks and blocks[0].cite_id and "Frank Borman" in blocks[0].text
    assert blocks[0].text.startswith(f"[{blocks[0].cite_id}] Apollo 8")
    (off_topic,) = await knowledge_host.kernel.call_each("chat_context", request=request("Tell me a joke about cats"))
    assert list(off_topic.value) == []
