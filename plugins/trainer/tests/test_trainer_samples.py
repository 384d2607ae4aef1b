"""Weak and corrected answers become samples; samples become versioned, deduplicated datasets."""

from __future__ import annotations

from typing import Any


async def test_a_corrected_answer_becomes_a_dataset_line_in_chat_format(trainer_host: Any, kit: Any) -> None:
    async with trainer_host() as host:
        me = await kit.user_id(host)
        await kit.finish_turn(host, me, "Who wrote Dune?", "Isaac Asimov.", turn_id="t1")
        rated = await host.client.post("/trainer/feedback", json={"turn_id": "t1", "rating": 1, "correction": "Frank Herbert."})
        built = await host.client.post("/trainer/datasets", json={})
        assert rated.status_code == 200 and rated.json()["sample"] == "correction"
        assert built.status_code == 201
        dataset = (await host.client.get(f"/trainer/datasets/{built.json()['id']}")).json()
        assert dataset["version"] == 1 and dataset["counts"] == {"correction": 1}
        assert dataset["sample"] == [{"messages": [{"role": "user", "content": "Who wrote Dune?"},
                                                   {"role": "assistant", "content": "Frank Herbert."}]}]


async def test_an_answer_rated_good_is_its_own_target_and_a_weak_one_waits_for_a_correction(trainer_host: Any, kit: Any) -> None:
    async with trainer_host(plugin_config={"trainer": {"min_conf": 0.5}}) as host:
        me = await kit.user_id(host)
        await kit.finish_turn(host, me, "2 + 2?", "4.", turn_id="good")
        await kit.finish_turn(host, me, "Capital of Peru?", "Quito, probably.", turn_id="unsure", confidence=0.2)
        await kit.finish_turn(host, me, "Capital of Chile?", "Lima.", turn_id="bad")
        await host.client.post("/trainer/feedback", json={"turn_id": "good", "rating": 5})
        await host.client.post("/trainer/feedback", json={"turn_id": "bad", "rating": 1})
        status = (await host.client.get("/trainer/status")).json()
        assert status["samples"] == {"turns": 3, "corrections": 0, "endorsed": 1, "silver": 0,
                                     "awaiting_correction": 2}


async def test_a_new_version_only_when_the_samples_changed_and_duplicates_count_once(trainer_host: Any, kit: Any) -> None:
    async with trainer_host() as host:
        me = await kit.user_id(host)
        for turn in ("a", "b"):
            await kit.finish_turn(host, me, "Who painted the Mona Lisa?", "Michelangelo.", turn_id=turn)
            await host.client.post("/trainer/feedback", json={"turn_id": turn, "rating": 1, "correction": "Leonardo da Vinci."})
        first = await host.client.post("/trainer/datasets", json={})
        again = await host.client.post("/trainer/datasets", json={})
        await kit.finish_turn(host, me, "Who painted Guernica?", "Dalí.", turn_id="c")
        await host.client.post("/trainer/feedback", json={"turn_id": "c", "rating": 2, "correction": "Pablo Picasso."})
        second = await host.client.post("/trainer/datasets", json={})
        assert first.json()["examples"] == 1
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        assert second.status_code == 201 and second.json()["version"] == 2 and second.json()["examples"] == 2
        listed = (await host.client.get("/trainer/datasets")).json()
        assert [d["version"] for d in listed["items"]] == [2, 1] and listed["next_cursor"] is None


async def test_turns_older_than_train_max_age_are_left_out(trainer_host: Any, kit: Any) -> None:
    async with trainer_host(plugin_config={"trainer": {"max_age": 7}}) as host:
        me = await kit.user_id(host)
        await kit.finish_turn(host, me, "Old question?", "Old answer.", turn_id="old", age_days=8)
        old = await host.client.post("/trainer/feedback", json={"turn_id": "old", "rating": 1, "correction": "x"})
        empty = await host.client.post("/trainer/datasets", json={})
        assert old.status_code == 404 and "last 7 days (TRAIN_MAX_AGE)" in old.json()["error"]["message"]
        assert empty.status_code == 422 and empty.json()["error"]["field"] == "samples"


async def test_users_see_only_their_own_turns_and_datasets_and_admins_share(trainer_host: Any, kit: Any) -> None:
    async with trainer_host(require_auth=True) as host:
        alice, bob = await kit.sign_up(host, "alice"), await kit.sign_up(host, "bob")
        alice_id = await kit.user_id(host, alice)
        await kit.finish_turn(host, alice_id, "Alice's question?", "Wrong.", turn_id="alice-turn")
        await host.client.post("/trainer/feedback", json={"turn_id": "alice-turn", "rating": 1, "correction": "Right."}, headers=alice)
        dataset = (await host.client.post("/trainer/datasets", json={}, headers=alice)).json()
        theft = await host.client.post("/trainer/feedback", json={"turn_id": "alice-turn", "rating": 5}, headers=bob)
        peek = await host.client.get(f"/trainer/datasets/{dataset['id']}", headers=bob)
        shared = await host.client.post("/trainer/datasets", json={"shared": True}, headers=bob)
        assert theft.status_code == 404 and peek.status_code == 404 and "Right." not in peek.text
        assert (await host.client.get("/trainer/datasets", headers=bob)).json()["items"] == []
        assert shared.status_code == 403


async def test_bad_feedback_gets_the_error_envelope(trainer_host: Any) -> None:
    async with trainer_host() as host:
        out_of_range = await host.client.post("/trainer/feedback", json={"turn_id": "x", "rating": 9})
        unknown = await host.client.post("/trainer/feedback", json={"turn_id": "nope", "rating": 1})
        assert out_of_range.status_code == 422 and out_of_range.json()["error"]["field"] == "rating"
        assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "turn_id"
