"""Knowledge gaps: what is not known yet, one gap per topic, ranked, with states and reasons."""

from __future__ import annotations

import pytest
from lumina_knowledge.gaps import GapStore

from lumina_core.errors import ValidationFailed
from lumina_core.testing import sign_up


@pytest.fixture
def store(tmp_path):
    gaps = GapStore(tmp_path / "gaps.sqlite")
    yield gaps
    gaps.close()


def test_the_same_topic_twice_is_one_gap_with_two_hits_and_all_its_evidence(store):
    store.record("Who is the president of Mars?", user_id="ann", reason="no passage matches", confidence=0.1)
    gap = store.record("who is the  president of mars?", user_id="ann", reason="no passage matches",
                       confidence=0.2, evidence=["Mars"])
    assert gap["hits"] == 2 and gap["topic"] == "Who is the president of Mars?"
    assert gap["evidence"] == ["Who is the president of Mars?", "Mars"]
    assert gap["score"] == 0.9 and gap["confidence"] == 0.2 and gap["state"] == "open"
    assert store.count(user_id="ann") == 1


def test_gaps_are_ranked_by_how_badly_and_how_often_they_are_not_known(store):
    store.record("rarely asked", user_id="ann", reason="r", score=0.9)
    for _ in range(4):
        store.record("often asked", user_id="ann", reason="r", score=0.5)
    assert [g["topic"] for g in store.ranked(user_id="ann")] == ["often asked", "rarely asked"]


def test_a_user_sees_their_own_gaps_and_the_systems_but_not_another_users(store):
    store.record("mine", user_id="ann", reason="r")
    store.record("theirs", user_id="bob", reason="r")
    store.record("Apollo 8", user_id="", reason="stale", source="stale")
    assert {g["topic"] for g in store.ranked(user_id="ann")} == {"mine", "Apollo 8"}
    assert store.ranked(user_id="ann", state="filled") == []
    assert len(store.ranked()) == 3


def test_a_state_change_keeps_its_reason_and_a_claim_only_wins_once(store):
    gap = store.record("topic", user_id="ann", reason="asked")
    claimed = store.move(gap["id"], "planned", "chosen", expect=["open"])
    assert claimed["state"] == "planned"
    assert store.move(gap["id"], "planned", "chosen again", expect=["open"]) is None
    filled = store.move(gap["id"], "filled", "answered by Aikido", filled_by=["p1"])
    assert [(h["state"], h["reason"]) for h in filled["history"]] == [
        ("open", "asked"), ("planned", "chosen"), ("filled", "answered by Aikido")]
    assert filled["filled_by"] == ["p1"]


def test_a_filled_gap_declined_again_opens_again_and_a_given_up_one_stays(store):
    filled = store.record("filled topic", user_id="ann", reason="r")
    store.move(filled["id"], "filled", "found")
    assert store.record("filled topic", user_id="ann", reason="declined again")["state"] == "open"
    low = store.record("answered weakly", user_id="ann", reason="r")
    store.move(low["id"], "filled", "found")
    assert store.record("answered weakly", user_id="ann", reason="weak", source="low_confidence")["state"] == "filled"
    given_up = store.record("hopeless", user_id="ann", reason="r")
    store.move(given_up["id"], "given_up", "nothing found")
    again = store.record("hopeless", user_id="ann", reason="declined again")
    assert again["state"] == "given_up" and again["hits"] == 2


def test_unknown_sources_and_states_are_refused_with_the_field(store):
    with pytest.raises(ValidationFailed, match="unknown gap source 'rumour'"):
        store.record("topic", user_id="ann", reason="r", source="rumour")
    gap = store.record("topic", user_id="ann", reason="r")
    with pytest.raises(ValidationFailed, match="unknown gap state 'done'"):
        store.move(gap["id"], "done", "r")


def test_gaps_recorded_before_gaps_had_states_are_kept(tmp_path):
    import sqlite3

    path = tmp_path / "gaps.sqlite"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE gaps (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, question TEXT NOT NULL, "
                "normalised TEXT NOT NULL, confidence REAL NOT NULL, reason TEXT NOT NULL, asked INTEGER NOT NULL, "
                "created_at REAL NOT NULL, last_asked_at REAL NOT NULL, UNIQUE (user_id, normalised))")
    old.execute("INSERT INTO gaps VALUES ('g1', 'ann', 'Why?', 'why?', 0.25, 'no passage matches', 3, 1.0, 2.0)")
    old.commit()
    old.close()
    store = GapStore(path)
    (gap,) = store.ranked(user_id="ann")
    store.close()
    assert (gap["id"], gap["topic"], gap["hits"], gap["score"], gap["state"]) == ("g1", "Why?", 3, 0.75, "open")


# --- through HTTP --------------------------------------------------------------------------


async def test_a_low_confidence_answer_is_given_and_its_question_noted_as_a_gap(knowledge_host, monkeypatch):
    from lumina_knowledge import answer

    monkeypatch.setattr(answer, "LOW_CONFIDENCE", 1.01)  # every answer counts as weak here
    response = await knowledge_host.client.post("/masterchat/chat", json={"message": "Who was the commander of Apollo 8?"})
    assert "Borman" in response.json()["answer"]
    (gap,) = (await knowledge_host.client.get("/knowledge/gaps")).json()["items"]
    assert gap["source"] == "low_confidence" and "Apollo 8" in gap["reason"]


async def test_gaps_are_listed_by_state_and_a_bad_state_is_a_422(knowledge_host):
    await knowledge_host.client.post("/masterchat/chat", json={"message": "What is the boiling point of liquid nitrogen?"})
    open_gaps = (await knowledge_host.client.get("/knowledge/gaps", params={"state": "open"})).json()
    assert len(open_gaps["items"]) == 1
    assert (await knowledge_host.client.get("/knowledge/gaps", params={"state": "filled"})).json()["items"] == []
    response = await knowledge_host.client.get("/knowledge/gaps", params={"state": "done"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "query.state"


async def test_a_users_gaps_are_theirs_to_see_and_dismiss_and_nobody_elses(lumina_host):
    question = {"message": "What is the boiling point of liquid nitrogen?"}
    async with lumina_host(plugins=["knowledge"], require_auth=True) as host:
        admin, alice, bob = [await sign_up(host, name) for name in ("admin", "alice", "bob")]
        await host.client.post("/masterchat/chat", json=question, headers=alice)
        (gap,) = (await host.client.get("/knowledge/gaps", headers=alice)).json()["items"]

        assert (await host.client.get("/knowledge/gaps", headers=bob)).json()["items"] == []
        response = await host.client.delete(f"/knowledge/gaps/{gap['id']}", headers=bob)
        assert response.status_code == 404 and response.json()["error"]["type"] == "not_found"
        assert (await host.client.delete(f"/knowledge/gaps/{gap['id']}", headers=alice)).status_code == 204
        assert (await host.client.get("/knowledge/gaps", headers=alice)).json()["items"] == []
        await host.client.post("/masterchat/chat", json=question, headers=bob)
        (theirs,) = (await host.client.get("/knowledge/gaps", headers=bob)).json()["items"]
        assert (await host.client.delete(f"/knowledge/gaps/{theirs['id']}", headers=admin)).status_code == 204
