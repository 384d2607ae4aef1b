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


async def test_vectors_another_embedder_made_are_embedded_again_when_the_embedder_changes(
        lumina_host, articles, tmp_path):
    from lumina_core.services.model_files import MINILM_ONNX, MINILM_TOKENIZER
    from lumina_core.services.vectors import Point

    async with lumina_host(plugins=["knowledge"]) as host:
        index = host.kernel.services.get("knowledge").index
        for article in articles:
            await index.index_article(article)
        assert (await host.client.get("/knowledge/stats")).json()["dense_model"] == "all-minilm-l6-v2"
        records, _ = await index.vectors.scroll(index.collection, limit=10)
        # what another model's vectors look like to this one: unrelated to the text
        await index.vectors.update_vectors(index.collection, [Point(r.id, {"dense": [1.0] + [0.0] * 383}) for r in records])
        assert await dense_titles(host, "an African mammal that eats termites") != ["Aardvark"]

    folder = tmp_path / "minilm-renamed"  # the same weights under another model id
    folder.mkdir()
    (folder / "model.onnx").symlink_to(MINILM_ONNX.locate())
    (folder / "tokenizer.json").symlink_to(MINILM_TOKENIZER.locate())
    async with lumina_host(plugins=["knowledge"], embedder_model=folder) as host:
        await host.kernel.services.get("knowledge").index.renewed()
        stats = (await host.client.get("/knowledge/stats")).json()
        assert (stats["embedder"], stats["dense_model"]) == ("minilm-renamed", "minilm-renamed")
        assert (await dense_titles(host, "an African mammal that eats termites"))[0] == "Aardvark"
        assert (await dense_titles(host, "Who commanded Apollo 8?"))[0] == "Apollo 8"
