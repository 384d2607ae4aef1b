"""Reflection on crawled articles: notes through the embedded model, the fallback, gaps."""

from __future__ import annotations

import time

import pytest
from lumina_scratchpad.reflection import (
    Article,
    checked_fact,
    checked_question,
    chosen_link,
    clean_reply,
    extractive_drafts,
)

from lumina_core.testing import free_port

LEAD = ("Allan Dwan was a Canadian-born American motion picture director, producer and screenwriter. "
        "Born in Toronto, Ontario, he moved to the United States and worked for the Essanay Studios in Chicago.")


async def test_a_crawled_article_gets_at_least_three_notes_from_the_embedded_model(pad_host, kit, wikitext) -> None:
    async with pad_host() as host:
        admin = await kit.sign_up(host, "admin")
        started = time.monotonic()
        article_id = await kit.crawl(host, admin, wikitext["Allan Dwan"])
        notes = await kit.reflection_notes(host, admin, article_id)
        print(f"reflection on Allan Dwan: {time.monotonic() - started:.2f} s after the crawl")

        kinds = {n["kind"] for n in notes}
        assert len(notes) >= 3 and kinds == {"fact", "open_question", "link"}
        assert all(n["sources"] and n["origin"] in ("model", "extract") for n in notes)
        for note in notes:  # each note cites a passage of the article itself
            cited = (await host.client.get(f"/knowledge/passages/{note['sources'][0]}", headers=admin)).json()
            assert cited["title"] == "Allan Dwan"
        stats = (await host.client.get("/scratchpad/stats", headers=admin)).json()
        assert stats["articles_reflected"] == 1 and stats["reflect_ms_mean"] > 0


async def test_without_a_reachable_model_the_notes_come_from_the_article_itself(pad_host, kit, wikitext) -> None:
    nobody_listens = {"llm_providers": "ollama", "ollama_url": f"http://127.0.0.1:{free_port()}"}
    async with pad_host(host=nobody_listens) as host:
        admin = await kit.sign_up(host, "admin")
        article_id = await kit.crawl(host, admin, wikitext["Allan Dwan"])
        notes = await kit.reflection_notes(host, admin, article_id)

        assert len(notes) >= 3 and {n["origin"] for n in notes} == {"extract"}
        assert {n["kind"] for n in notes} == {"fact", "open_question", "link"}
        facts = [n["text"] for n in notes if n["kind"] == "fact"]
        assert facts[0].startswith("Allan Dwan") and "director" in facts[0]


async def test_open_questions_become_candidate_gaps(pad_host, kit, wikitext) -> None:
    async with pad_host() as host:
        admin = await kit.sign_up(host, "admin")
        article_id = await kit.crawl(host, admin, wikitext["Aardvark"])
        notes = await kit.reflection_notes(host, admin, article_id)
        questions = {n["text"] for n in notes if n["kind"] == "open_question"}

        gaps = (await host.client.get("/knowledge/gaps", params={"state": "open", "limit": 500}, headers=admin)).json()
        from_reflection = [g for g in gaps["items"] if g["source"] == "reflection"]
        assert questions and questions == {g["topic"] for g in from_reflection}
        assert all(g["evidence"] == ["Aardvark"] and "reflecting on Aardvark" in g["reason"] for g in from_reflection)


async def test_a_redelivered_reflection_adds_no_notes_and_no_gap_hits(pad_host, kit, wikitext) -> None:
    async with pad_host() as host:
        admin = await kit.sign_up(host, "admin")
        article_id = await kit.crawl(host, admin, wikitext["Aardvark"])
        before = await kit.reflection_notes(host, admin, article_id)
        task = {"reflect": "Aardvark", "article_id": article_id}
        response = await host.client.post("/tasks", json=task, headers=admin)
        record = await kit.eventually(lambda: _finished(host, admin, response.json()["id"]))

        assert record["state"] == "succeeded" and record["result"]["new"] == 0
        after = (await host.client.get(f"/scratchpad/reflection:{article_id}", headers=admin)).json()["items"]
        assert [n["id"] for n in after] == [n["id"] for n in before]


async def _finished(host, headers, task_id):
    record = (await host.client.get(f"/tasks/{task_id}", headers=headers)).json()
    return record if record["state"] in ("succeeded", "failed") else None


# --- the checks each model answer must pass, and the extractive notes -------------------------


@pytest.mark.parametrize(("reply", "expected"), [
    ("Fact: Allan Dwan was born in Toronto, Ontario.", "Allan Dwan was born in Toronto, Ontario."),
    ("The most important fact in this text is that Allan Dwan was born in Toronto.", "Allan Dwan was born in Toronto."),
    ("1. Allan Dwan worked for the Essanay Studios in Chicago",
     "Allan Dwan worked for the Essanay Studios in Chicago."),
    ("Allan Dwan won three Academy Awards for his Hollywood musicals in Paris.", None),  # not in the text
    ("Dwan.", None),  # too short to be a fact
    ("Where was Allan Dwan born?", None),  # a question, not a fact
    ("the crew of Allan Dwan worked for the Essanay Studios in Chicago", None),  # a cut-off clause
    ("Allan Dwan worked for the Essanay Studios, and,.", "Allan Dwan worked for the Essanay Studios, and."),
])
def test_a_fact_must_be_made_of_the_passage_s_own_words(reply, expected) -> None:
    assert checked_fact(clean_reply(reply), LEAD) == expected


@pytest.mark.parametrize(("reply", "expected"), [
    ("Question: Which films did Allan Dwan direct at Essanay?", "Which films did Allan Dwan direct at Essanay?"),
    ("Why did Dwan move to the United States", "Why did Dwan move to the United States?"),
    ("Who was Allan Dwan's first wife?", "Who was Allan Dwan's first wife?"),
    ("The text does not say.", None),
    ("What is the weather like on Mars today?", None),  # not about anything the passage names
    ("Who was Allan Dwan?", None),  # what the article itself is about
])
def test_a_question_must_be_a_question_about_the_article(reply, expected) -> None:
    assert checked_question(clean_reply(reply), LEAD, "Allan Dwan") == expected


@pytest.mark.parametrize(("reply", "expected"), [
    ("Essanay Studios", "Essanay Studios"),
    ("I would read about \"toronto\" first, then Chicago.", "Toronto"),
    ("The most worth reading is Allan Dwan himself.", None),  # not one of the names offered
    ("", None),
])
def test_a_link_is_the_offered_name_the_reply_points_at(reply, expected) -> None:
    assert chosen_link(clean_reply(reply), ["Chicago", "Essanay Studios", "Toronto"]) == expected


def test_the_extractive_notes_are_first_sentences_frequent_names_and_a_name_in_passing() -> None:
    article = Article("a", "Allan Dwan", (
        {"id": "p1", "text": LEAD, "section": ""},
        {"id": "p2", "text": "In Chicago he met Marshall Neilan. Chicago was then a film centre.", "section": "Career"},
    ))
    drafts = extractive_drafts(article)
    assert [d.text for d in drafts["fact"]] == [LEAD.split(". ")[0] + ".", "In Chicago he met Marshall Neilan."]
    assert drafts["link"][0].text == "Chicago" and drafts["link"][0].source == "p1"
    [question] = drafts["open_question"]
    assert question.text.endswith("which the article on Allan Dwan mentions?") and question.source in ("p1", "p2")
