"""A planning cycle's rules: claims, budgets, water marks, backoff, and the gaps it finds itself."""

from __future__ import annotations

import asyncio

import pytest

UNKNOWN = ["Who directed the film Actrius?", "Who created aikido?"]
EMBEDDED_MODEL = "smollm2-135m-instruct.q4_1"


@pytest.fixture
def goal_file(tmp_path):
    def write(text: str):
        path = tmp_path / "goals.yml"
        path.write_text(text, "utf-8")
        return str(path)

    return write


async def test_two_cycles_at_once_plan_each_gap_once(loop_host, loop_client):
    async with loop_host() as host:
        api = loop_client(host)
        for question in UNKNOWN:
            await api.ask(question)
        first, second = await asyncio.gather(api.plan(), api.plan())

        planned = [p["gap_id"] for p in first["planned"] + second["planned"]]
        assert sorted(planned) == sorted(g["id"] for g in await api.gaps())
        assert [d["action"] for d in await api.decisions()].count("planned") == 2


async def test_an_exhausted_budget_stops_planning_and_says_so(loop_host, loop_client, goal_file):
    goals = goal_file("budget: {pages_per_hour: 3}\ngoals: []\n")
    async with loop_host(goal_file=goals) as host:
        api = loop_client(host)
        for question in UNKNOWN:
            await api.ask(question)
        summary = await api.plan()

        assert len(summary["planned"]) == 1
        assert summary["stopped_because"].startswith("budget exhausted: the planner's 3 pages per hour, 3 asked")
        exhausted = [d for d in await api.decisions() if d["action"] == "budget_exhausted"]
        assert exhausted and "planning stops until" in exhausted[0]["reason"]
        assert len(await api.gaps(state="open")) == 1
        status = (await host.client.get("/planner/status")).json()
        assert status["budget"] == {"pages_per_hour": 3, "pages_asked_last_hour": 3, "pages_left": 0,
                                    "llm_spend_per_day": None, "llm_spent_today": 0.0}


async def test_the_llm_spend_budget_stops_planning_once_paid_models_cost_that_much(loop_host, loop_client, goal_file):
    goals = goal_file("budget: {llm_spend_per_day: 0.01}\ngoals: []\n")
    priced = {"llm_prices": {EMBEDDED_MODEL: [5000.0, 5000.0]}}  # priced as a paid model: half a cent a token
    async with loop_host(goal_file=goals, settings=priced) as host:
        api = loop_client(host)
        await api.ask(UNKNOWN[0])
        assert (await api.plan())["planned"]  # nothing spent yet
        await api.ask(UNKNOWN[1])
        reply = await host.client.post("/v1/chat/completions", json={
            "model": EMBEDDED_MODEL, "messages": [{"role": "user", "content": "hello there"}], "max_tokens": 4})
        assert reply.status_code == 200, reply.text

        budget = (await host.client.get("/planner/status")).json()["budget"]
        assert budget["llm_spend_per_day"] == 0.01 and budget["llm_spent_today"] > 0.01
        summary = await api.plan()
        assert summary["planned"] == [] and summary["stopped_because"].startswith("budget exhausted: $")
        assert "paid models today" in summary["stopped_because"] and len(await api.gaps(state="open")) == 1


async def test_the_queue_is_filled_up_to_its_high_water_mark(loop_host, loop_client):
    async with loop_host(high_water=1, low_water=1) as host:
        api = loop_client(host)
        for question in UNKNOWN:
            await api.ask(question)
        summary = await api.plan()
        assert len(summary["planned"]) == 1 and "high water mark 1" in summary["stopped_because"]


async def test_nothing_is_planned_while_the_queue_is_at_its_low_water_mark(loop_host, loop_client, wiki_server):
    async with loop_host(high_water=1, low_water=1) as host:
        api = loop_client(host)
        for question in UNKNOWN:
            await api.ask(question)
        wiki_server.behaviour.article_delay_s = 2.0  # the first crawl stays in the queue a while
        await api.plan()
        summary = await api.plan()
        wiki_server.behaviour.article_delay_s = 0.0

        assert summary["planned"] == [] and "low water mark 1" in summary["stopped_because"]
        assert (await api.decisions())[0]["action"] == "waited"


async def test_a_wiki_that_keeps_refusing_stops_the_cycle_and_costs_the_gap_no_attempt(
        loop_host, loop_client, wiki_server):
    async with loop_host() as host:
        api = loop_client(host)
        await api.ask("Who created aikido?")
        wiki_server.refuse_next(10, status=503, retry_after=0)
        summary = await api.plan()

        assert summary["planned"] == [] and "the wiki's search is not answering" in summary["stopped_because"]
        (gap,) = await api.gaps()
        assert gap["state"] == "open" and gap["attempts"] == 0
        assert (await api.decisions())[0]["action"] == "wiki_unavailable"


async def test_a_gap_the_wiki_has_nothing_for_is_retried_with_backoff_then_given_up(loop_host, loop_client):
    async with loop_host(max_attempts=2) as host:
        api = loop_client(host)
        await api.ask("What does the xyzzyplugh frobnicate?")
        await api.plan()
        (gap,) = await api.gaps()
        assert gap["state"] == "open" and gap["attempts"] == 1 and gap["retry_at"]
        await api.plan()
        (gap,) = await api.gaps()

        assert gap["state"] == "given_up" and gap["attempts"] == 2
        assert "found no page for" in gap["history"][-1]["reason"]
        assert [d["action"] for d in await api.decisions()] == ["given_up", "retry_later"]


async def test_a_gap_waits_for_its_backoff_before_it_is_planned_again(loop_host, loop_client):
    async with loop_host(backoff_minutes=10) as host:
        api = loop_client(host)
        await api.ask("What does the xyzzyplugh frobnicate?")
        await api.plan()
        summary = await api.plan()
        assert summary["planned"] == [] and summary["stopped_because"] == "no open gap left to plan"
        (gap,) = await api.gaps()
        assert "retrying in 10 min" in gap["history"][-1]["reason"]


async def test_goal_topics_weak_regions_and_stale_articles_become_gaps(loop_host, loop_client, goal_file, wiki_data):
    goals = goal_file("budget: {pages_per_hour: 0}\n"
                      "goals:\n  - {name: martial-arts, priority: 0.9, topics: [Aikido]}\n")
    config = {"crawler": {"recrawl_days": 0}}
    async with loop_host(config, goal_file=goals, detect=["goal_topics", "weak_region", "stale"]) as host:
        api = loop_client(host)
        pages = [{"title": t, "wikitext": wiki_data.pages[t].text} for t in ("Apollo 8", "Apollo 11")]
        assert (await host.client.post("/crawler/pages", json={"pages": pages})).status_code == 200
        summary = await api.plan()

        found = {g["source"]: g for g in await api.gaps()}
        assert found["unmatched_term"]["topic"] == "Aikido" and "martial-arts" in found["unmatched_term"]["reason"]
        assert "fetched articles link to it" in found["weak_region"]["reason"]
        assert found["stale"]["topic"] in ("Apollo 8", "Apollo 11")
        assert all(g["user_id"] is None for g in found.values())
        assert summary["detected"] >= 3 and summary["stopped_because"].startswith("budget exhausted")
        again = await api.plan()
        assert again["detected"] == 0  # seen again, not recorded again


async def test_a_gap_close_to_a_goal_takes_its_priority(loop_host, loop_client, goal_file):
    goals = goal_file("default_priority: 0.1\n"
                      "goals:\n  - {name: film, priority: 1.0, topics: [film director], crawl: {hops: 0, max_nodes: 2}}\n")
    async with loop_host(goal_file=goals, high_water=1, low_water=1) as host:
        api = loop_client(host)
        for question in UNKNOWN:
            await api.ask(question)
        summary = await api.plan()
        (planned,) = summary["planned"]
        assert planned["topic"] == "Who directed the film Actrius?"
        decision = next(d for d in await api.decisions() if d["action"] == "planned")
        assert "goal 'film'" in decision["reason"] and decision["detail"]["max_nodes"] == 2


async def test_names_asked_about_in_chat_that_the_graph_lacks_become_the_users_gaps(loop_host, loop_client):
    async with loop_host() as host:
        api = loop_client(host)
        message = "Say hello. Explain who Morihei Ueshiba was."  # the requests' verbs are not names
        response = await host.client.post("/chat", json={"message": message, "max_tokens": 4})
        assert response.status_code == 200, response.text
        for _ in range(100):
            gaps = await api.gaps()
            if gaps:
                break
            await asyncio.sleep(0.05)
        assert [(g["topic"], g["source"]) for g in gaps] == [("Morihei Ueshiba", "unmatched_term")]
        assert message in gaps[0]["evidence"]
        assert gaps[0]["user_id"] == "local"


async def test_a_gap_whose_best_page_is_being_crawled_waits_on_that_crawl(loop_host, loop_client, wiki_server):
    async with loop_host() as host:
        api = loop_client(host)
        for question in ("Who created aikido?", "Who founded aikido?"):
            await api.ask(question)
        wiki_server.behaviour.article_delay_s = 1.0  # the first crawl is still running when the second gap is planned
        first, second = (await api.plan())["planned"]
        wiki_server.behaviour.article_delay_s = 0.0

        assert second["task_id"] == first["task_id"] and second.get("joined") and not first.get("joined")
        for planned in (first, second):
            assert (await api.settled(planned["gap_id"]))["state"] == "filled"
        fetched = [r.params["titles"].split("|") for r in wiki_server.article_requests()]
        assert sum("Aikido" in titles for titles in fetched) == 1, fetched
        joined = next(d for d in await api.decisions() if d["detail"].get("joined"))
        assert joined["gap_id"] == second["gap_id"] and f"joined crawl {first['task_id']}" in joined["reason"]
