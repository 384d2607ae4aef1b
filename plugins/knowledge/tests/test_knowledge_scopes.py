"""Scopes: an owner's passages in a collection and statistics of their own, with their metadata."""

from __future__ import annotations

import pytest

from lumina_core.errors import ValidationFailed

NOTE = {
    "id": "file-1",
    "title": "Garden notes",
    "metadata": {"file_id": "file-1", "brain_id": "home"},
    "sections": [
        {"path": ["Page 1"], "metadata": {"page": 1}, "text": "The tomatoes were planted on the third of May."},
        {"path": ["Page 2"], "metadata": {"page": 2}, "text": "The quince tree flowers late and needs a sheltered wall."},
    ],
}


async def test_a_scope_finds_only_its_own_passages_and_the_shared_index_never_sees_them(knowledge_host):
    service = knowledge_host.kernel.services.get("knowledge")
    mine, other = await service.scope("docs_alice_home"), await service.scope("docs_bob_home")
    assert (await mine.index_article(NOTE))["passages"] == 2

    (hit, *_) = await mine.search("When were the tomatoes planted?", k=2)
    assert hit["title"] == "Garden notes" and "third of May" in hit["text"]
    assert hit["metadata"] == {"file_id": "file-1", "brain_id": "home", "page": 1}
    assert hit["article_id"] == "file-1" and 0 < hit["evidence"] <= 1
    assert await other.search("When were the tomatoes planted?") == []
    assert all(h["title"] != "Garden notes" for h in await service.search("tomatoes planted quince", k=5))
    assert await service.passage(hit["id"]) is None and await other.passage(hit["id"]) is None
    assert (await mine.passage(hit["id"]))["metadata"]["page"] == 1
    assert (await mine.stats())["passages"] == 2 and (await other.stats())["passages"] == 0


async def test_removing_an_article_takes_its_passages_out_of_the_scope_at_once(knowledge_host):
    scope = await knowledge_host.kernel.services.get("knowledge").scope("docs_alice_home")
    await scope.index_article(NOTE)
    assert await scope.remove_article("file-1") == 2
    assert await scope.search("tomatoes planted", mode="bm25") == []
    assert (await scope.stats())["articles"] == 0


async def test_a_changed_page_number_alone_reindexes_the_article(knowledge_host):
    scope = await knowledge_host.kernel.services.get("knowledge").scope("docs_alice_home")
    await scope.index_article(NOTE)
    moved = {**NOTE, "sections": [{**NOTE["sections"][0], "metadata": {"page": 7}}]}
    assert (await scope.index_article(moved))["status"] == "replaced"
    (hit,) = await scope.search("tomatoes", k=1, mode="bm25")
    assert hit["metadata"]["page"] == 7


async def test_a_dropped_scope_starts_empty_again(knowledge_host):
    service = knowledge_host.kernel.services.get("knowledge")
    await (await service.scope("docs_alice_home")).index_article(NOTE)
    await service.drop_scope("docs_alice_home")
    assert await (await service.scope("docs_alice_home")).search("tomatoes", mode="bm25") == []


@pytest.mark.parametrize("name", ["", "Docs", "docs/../x", "_x", "d" * 81])
async def test_scope_names_are_checked(knowledge_host, name):
    with pytest.raises(ValidationFailed):
        await knowledge_host.kernel.services.get("knowledge").scope(name)


@pytest.mark.parametrize("metadata", [["page", 1], {"page": object()}])
async def test_metadata_must_be_an_object_of_json_values(knowledge_host, metadata):
    service = knowledge_host.kernel.services.get("knowledge")
    with pytest.raises(ValidationFailed) as caught:
        await service.index_article({**NOTE, "metadata": metadata})
    assert caught.value.field == "metadata"
