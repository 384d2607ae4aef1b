"""The dream cycle: the day's weak answers re-read, missing topics proposed, stale articles recrawled."""

from __future__ import annotations

from lumina_core.testing import free_port

NO_MODEL = {"llm_providers": "ollama", "ollama_url": f"http://127.0.0.1:{free_port()}"}
UNKNOWN = "Who built the Zorbatron engine?"


async def test_the_dream_proposes_the_missing_topic_of_a_weak_answer_and_recrawls_stale_articles(
        pad_host, kit, wikitext) -> None:
    async with pad_host(host=NO_MODEL, crawler={"recrawl_days": 0}) as host:
        admin = await kit.sign_up(host, "admin")
        await kit.crawl(host, admin, wikitext["Aardvark"])
        knowledge = host.kernel.services.get("knowledge")
        await knowledge.record_gap(UNKNOWN, user_id="someone", source="question", reason="declined: no passage")
        await knowledge.record_gap("Where is the aardvark native to?", user_id="someone", source="question",
                                   reason="declined before Aardvark was crawled")

        report = (await host.client.post("/scratchpad/dream", headers=admin)).json()

        assert report["answers_read"] == 2 and report["answerable_now"] == 1
        assert report["gaps_proposed"] == ["What is Zorbatron?"]
        proposed = knowledge.find_gap("What is Zorbatron?", user_id="")
        assert proposed["source"] == "reflection" and proposed["evidence"] == [UNKNOWN]
        dreamt = (await host.client.get(f"/scratchpad/dream:{report['ran_at'][:10]}", headers=admin)).json()["items"]
        assert [(n["kind"], n["text"], n["origin"]) for n in dreamt] == [
            ("open_question", "What is Zorbatron?", "dream")]
        stats = (await host.client.get("/scratchpad/stats", headers=admin)).json()
        assert stats["last_dream_at"] == report["ran_at"] and stats["last_dream_gaps_proposed"] == 1
        assert report["recrawl"]["titles"] == ["Aardvark"]
        task = (await host.client.get(f"/tasks/{report['recrawl']['task_id']}", headers=admin)).json()
        assert task["kind"] == "crawl" and task["task"] == {"crawl": ["Aardvark"], "hops": 0, "max_nodes": 1}


async def test_the_dream_is_for_admins(pad_host, kit) -> None:
    async with pad_host(host=NO_MODEL) as host:
        await kit.sign_up(host, "admin")
        bob = await kit.sign_up(host, "bob")
        refused = await host.client.post("/scratchpad/dream", headers=bob)
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "permission_denied"


async def test_with_nothing_to_dream_about_the_report_says_so(pad_host, kit) -> None:
    async with pad_host(host=NO_MODEL) as host:
        admin = await kit.sign_up(host, "admin")
        report = (await host.client.post("/scratchpad/dream", headers=admin)).json()
        assert report["answers_read"] == 0 and report["gaps_proposed"] == []
        assert report["recrawl"] == {"task_id": None, "titles": []}
