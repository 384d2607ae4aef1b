"""wiki_qa answers whose every cite resolves become silver samples, told apart from gold ones."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

QUESTION = "When did the Apollo 8 astronauts splash down?"


async def _wiki_answer(host: Any, kit: Any) -> dict[str, Any]:
    await host.kernel.services.get("knowledge").index_article(kit.apollo_8)
    answered = await host.client.post("/masterchat/chat", json={"message": QUESTION})
    assert answered.status_code == 200 and answered.json()["cite_ids"], answered.text
    return answered.json()


def _silver(answer: dict[str, Any]) -> dict[str, Any]:
    return {"question": QUESTION, "answer": answer["answer"], "cite_ids": answer["cite_ids"]}


async def test_an_answered_wiki_question_becomes_a_silver_sample_beside_the_gold_ones(trainer_host: Any, kit: Any,
                                                                                       lumina_data_dir: Path) -> None:
    async with trainer_host(plugins=["knowledge"]) as host:
        answer = await _wiki_answer(host, kit)
        kept = await host.client.post("/trainer/silver", json=_silver(answer))
        again = await host.client.post("/trainer/silver", json=_silver(answer))
        me = await kit.user_id(host)
        await kit.finish_turn(host, me, QUESTION, "In 1969.", turn_id="gold")
        await host.client.post("/trainer/feedback", json={"turn_id": "gold", "rating": 1, "correction": answer["answer"]})
        await kit.finish_turn(host, me, "Who wrote Dune?", "Asimov.", turn_id="other")
        await host.client.post("/trainer/feedback", json={"turn_id": "other", "rating": 1, "correction": "Frank Herbert."})
        status = (await host.client.get("/trainer/status")).json()
        built = (await host.client.post("/trainer/datasets", json={})).json()
        assert kept.status_code == 201 and kept.json()["sample"] == "silver", kept.text
        assert again.status_code == 201 and status["samples"]["silver"] == 1
        # the silver answer equals the correction of the same question: the gold line is the one kept
        assert built["counts"] == {"correction": 2}, built
        await kit.finish_turn(host, me, "Who painted Guernica?", "Dalí.", turn_id="third")
        await host.client.post("/trainer/feedback", json={"turn_id": "third", "rating": 1, "correction": "Picasso."})
        await host.client.post("/trainer/feedback", json={"turn_id": "gold", "rating": 1, "correction": "December 1968."})
        rebuilt = (await host.client.post("/trainer/datasets", json={})).json()
    assert rebuilt["counts"] == {"correction": 3, "silver": 1}, rebuilt
    lines = [json.loads(line) for line in next(lumina_data_dir.rglob("v2.jsonl")).read_text().splitlines()]
    [silver] = [line for line in lines if line["source"] == "silver"]
    assert silver["messages"] == [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": answer["answer"]}]


async def test_an_answer_whose_cite_does_not_resolve_is_not_a_sample(trainer_host: Any, kit: Any) -> None:
    async with trainer_host(plugins=["knowledge"]) as host:
        answer = await _wiki_answer(host, kit)
        made_up = await host.client.post("/trainer/silver", json={**_silver(answer), "cite_ids": ["no-such-passage"]})
        uncited = await host.client.post("/trainer/silver", json={**_silver(answer), "cite_ids": []})
        await host.kernel.services.get("knowledge").remove_article(kit.apollo_8["id"])
        gone = await host.client.post("/trainer/silver", json=_silver(answer))
        status = (await host.client.get("/trainer/status")).json()
    for refused in (made_up, uncited, gone):
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "cite_ids", refused.text
    assert "does not resolve" in gone.json()["error"]["message"]
    assert status["samples"]["silver"] == 0


async def test_a_confident_wiki_answer_becomes_a_silver_sample_by_itself(trainer_host: Any, kit: Any) -> None:
    async with trainer_host(plugins=["knowledge"]) as host:
        answer = await _wiki_answer(host, kit)  # nothing sent to /trainer/silver
        declined = (await host.client.post("/masterchat/chat", json={"message": "Who painted Guernica?"})).json()
        for _ in range(100):  # the trainer hears knowledge.answered on the bus
            status = (await host.client.get("/trainer/status")).json()
            if status["samples"]["silver"]:
                break
            await asyncio.sleep(0.05)
        built = (await host.client.post("/trainer/datasets", json={})).json()
    assert answer["confidence"] >= 0.5 and declined["method"] == "unknown"
    assert status["samples"]["silver"] == 1 and built["counts"] == {"silver": 1}, (status, built)
