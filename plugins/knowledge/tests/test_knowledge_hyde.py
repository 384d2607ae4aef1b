"""Query rewriting for wiki_qa (HyDE): a guessed answer searched by meaning beside the question.

The search route takes the guess as ``hypothesis`` (the search itself never calls the model: it
has a 50 ms budget); wiki_qa makes the guess with the model when its ``hyde`` setting is on, and
says in its answer what it searched with.
"""

from __future__ import annotations

import pytest

BAIKAL = {
    "id": "lake-baikal",
    "title": "Lake Baikal",
    "url": "https://en.wikipedia.org/wiki/Lake_Baikal",
    "revision": 1,
    "source": "test",
    "sections": [
        {"path": [], "text": (
            "Lake Baikal is a rift lake in southern Siberia, the deepest lake on Earth. "
            "It holds about a fifth of the world's unfrozen fresh surface water.")},
        {"path": ["Wildlife"], "text": (
            "The Baikal seal, or nerpa, is found only here. Its ancestors probably swam in from the Arctic Ocean.")},
    ],
}
#: Names neither the lake nor the seal, and shares no word with either passage.
QUESTION = "Which animal exists nowhere else?"


@pytest.fixture
def articles(articles) -> list[dict]:
    return [*articles, BAIKAL]


async def titles(host, query: str, hypothesis: str = "") -> list[str]:
    response = await host.client.post("/knowledge/search", json={"query": query, "k": 3, "hypothesis": hypothesis})
    assert response.status_code == 200, response.text
    return [hit["title"] for hit in response.json()["hits"]]


async def test_a_guessed_answer_brings_in_the_article_the_question_does_not_name(knowledge_host):
    # Alone, the question is as close to the aardvark (a mammal "native to Africa") as to the lake's lead.
    assert await titles(knowledge_host, QUESTION) == ["Lake Baikal", "Aardvark", "Lake Baikal"]
    guessed = await titles(knowledge_host, QUESTION, hypothesis="The Baikal seal, found only in Lake Baikal.")
    assert guessed == ["Lake Baikal", "Lake Baikal", "Aardvark"]


async def test_a_blank_guess_searches_with_the_question_alone(knowledge_host):
    assert await titles(knowledge_host, QUESTION, hypothesis="   ") == await titles(knowledge_host, QUESTION)


async def test_a_guess_too_long_is_refused_naming_the_field(knowledge_host):
    response = await knowledge_host.client.post("/knowledge/search", json={"query": QUESTION, "hypothesis": "x" * 2001})
    assert response.status_code == 422
    assert "hypothesis" in str(response.json()["error"])


async def test_wiki_qa_searches_with_no_guess_by_default(knowledge_host):
    answer = (await knowledge_host.client.post("/masterchat/chat", json={"message": "What does the aardvark eat?"})).json()
    assert answer["hypothesis"] == "" and answer["sources"][0]["title"] == "Aardvark"


async def test_wiki_qa_with_hyde_searches_with_the_models_guess_and_shows_it(lumina_host):
    async with lumina_host(plugins=["knowledge"], plugin_config={"knowledge": {"hyde": True}}) as host:
        service = host.kernel.services.get("knowledge")
        await service.index_article(BAIKAL)
        answer = (await host.client.post("/masterchat/chat", json={"message": "Which seal lives in Siberia?"})).json()
        assert answer["hypothesis"].strip(), answer  # the embedded model's guess, whatever it is
        hits = (await host.client.post("/knowledge/search", json={
            "query": "Which seal lives in Siberia?", "k": 1, "hypothesis": answer["hypothesis"]})).json()["hits"]
        assert answer["cite_ids"] and hits[0]["id"] in answer["cite_ids"]
