"""Progressive indexing: searchable by words at once, dense vectors a moment later, none lost."""

from __future__ import annotations

import copy

from lumina_knowledge.chunking import CUT_VERSION


async def dense_titles(host, query: str) -> list[str]:
    response = await host.client.post("/knowledge/search", json={"query": query, "k": 3, "mode": "dense"})
    return [hit["title"] for hit in response.json()["hits"]]


async def pending(host) -> int:
    return (await host.client.get("/knowledge/stats")).json()["pending_dense"]


async def test_an_article_is_searchable_by_its_words_before_its_dense_vectors_exist(lumina_host, articles):
    apollo, _ = articles
    async with lumina_host(plugins=["knowledge"]) as host:
        index = host.kernel.services.get("knowledge").index
        await index.backfill.stop()  # hold the dense vectors back, to look at the moment between

        assert await index.index_article(apollo, dense_now=False) == {"status": "added", "passages": 2}

        hits = (await host.client.post("/knowledge/search", json={"query": "Who commanded Apollo 8?"})).json()["hits"]
        assert hits[0]["title"] == "Apollo 8" and "Frank Borman" in hits[0]["text"]
        assert await pending(host) == 2
        assert await dense_titles(host, "Who commanded Apollo 8?") == []

        index.backfill.start()
        await index.backfill.drained()
        assert await pending(host) == 0
        assert (await dense_titles(host, "Who commanded Apollo 8?"))[0] == "Apollo 8"


async def test_dense_vectors_left_pending_by_a_stop_are_completed_after_a_restart(lumina_host, articles):
    async with lumina_host(plugins=["knowledge"]) as host:
        index = host.kernel.services.get("knowledge").index
        await index.backfill.stop()
        await index.index_article(articles[1], dense_now=False)
        assert await pending(host) == 1

    async with lumina_host(plugins=["knowledge"]) as host:
        await host.kernel.services.get("knowledge").index.backfill.drained()
        assert await pending(host) == 0
        assert await dense_titles(host, "an African mammal that eats termites") == ["Aardvark"]


async def test_a_revised_article_keeps_the_dense_vectors_of_its_unchanged_passages(lumina_host, articles):
    apollo, _ = articles
    async with lumina_host(plugins=["knowledge"]) as host:
        index = host.kernel.services.get("knowledge").index
        await index.index_article(apollo)
        await index.backfill.stop()
        revised = copy.deepcopy(apollo)
        revised["sections"][1]["text"] += " Borman later flew on no other mission."

        assert await index.index_article(revised, dense_now=False) == {"status": "replaced", "passages": 2}
        assert await pending(host) == 1  # only the crew passage changed


async def test_an_article_indexed_under_an_older_cut_is_cut_again_keeping_the_vectors_of_equal_passages(
    lumina_host, articles, monkeypatch
):
    apollo, _ = articles
    async with lumina_host(plugins=["knowledge"]) as host:
        index = host.kernel.services.get("knowledge").index
        await index.index_article(apollo)
        await index.backfill.stop()
        monkeypatch.setattr("lumina_knowledge.index.CUT_VERSION", CUT_VERSION + 1)

        assert await index.index_article(apollo, dense_now=False) == {"status": "replaced", "passages": 2}
        assert await pending(host) == 0  # the same text came out: the vectors were kept


async def test_a_dense_vector_is_written_only_to_the_text_it_was_computed_from(lumina_host, articles):
    apollo, _ = articles
    async with lumina_host(plugins=["knowledge"]) as host:
        index = host.kernel.services.get("knowledge").index
        await index.backfill.stop()
        await index.index_article(apollo, dense_now=False)
        read, _ = await index.vectors.scroll(index.collection, limit=2)
        vectors = await index.embedder.embed([r.payload["text"] for r in read])
        revised = copy.deepcopy(apollo)
        revised["sections"][1]["text"] += " Borman later flew on no other mission."
        await index.index_article(revised, dense_now=False)  # replaced while the old texts were embedded

        await index.backfill.write(read, vectors)
        assert await pending(host) == 1  # the unchanged passage has its vector, the revised one waits

        await index.backfill.fill_once()
        assert await pending(host) == 0
