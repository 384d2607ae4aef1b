"""The gap loop closed: a question about a missing article becomes a gap, a planning cycle
crawls the article from the wiki, and the same question is then answered with a cite of it."""

from __future__ import annotations

import json

import httpx
import pytest

from lumina_core.testing import LuminaProcess

#: Crawling, indexing and judging on two cores shared with the rest of the suite.
pytestmark = pytest.mark.timeout(300)

KNOWN = ["Aardvark", "Aardwolf"]  # what the knowledge base knew before


async def ingest(host, wiki_data, titles: list[str]) -> None:
    """Index articles of the excerpt the way `lumina knowledge ingest` does (POST /crawler/pages)."""
    pages = [{"title": t, "wikitext": wiki_data.pages[t].text, "revision_id": wiki_data.pages[t].revision_id}
             for t in titles]
    response = await host.client.post("/crawler/pages", json={"pages": pages})
    assert response.status_code == 200, response.text


async def test_a_question_about_a_missing_article_is_crawled_and_then_answered_with_its_cite(
        loop_host, wiki_data, loop_client):
    async with loop_host() as host:
        api = loop_client(host)
        await ingest(host, wiki_data, KNOWN)
        first = await api.ask("Who created aikido?")
        assert first["method"] == "unknown"
        (gap,) = await api.gaps(state="open")
        assert gap["topic"] == "Who created aikido?" and gap["source"] == "question"

        summary = await api.plan()
        (planned,) = summary["planned"]
        assert planned["gap_id"] == gap["id"] and planned["titles"][0] == "Aikido"
        filled = await api.settled(gap["id"])

        assert filled["state"] == "filled", filled["history"]
        assert [h["state"] for h in filled["history"]] == ["open", "planned", "crawling", "filled"]
        assert all(h["reason"] for h in filled["history"])
        again = await api.ask("Who created aikido?")
        assert "Ueshiba" in again["answer"] and again["sources"][0]["title"] == "Aikido"
        assert set(again["cite_ids"]) & set(filled["filled_by"])
        cited = (await host.client.get(f"/knowledge/passages/{filled['filled_by'][0]}")).json()
        assert cited["title"] == "Aikido"
        actions = [d["action"] for d in await api.decisions()]
        assert actions[:2] == ["filled", "planned"]  # newest first


async def test_every_decision_is_in_the_log_with_its_reason_and_the_status_feeds_the_dashboard(
        loop_host, loop_client):
    async with loop_host() as host:
        api = loop_client(host)
        await api.ask("Who directed the film Actrius?")
        await api.plan()
        (gap,) = await api.gaps()
        await api.settled(gap["id"])

        (filled, planned) = await api.decisions()
        assert planned["action"] == "planned" and "Actrius" in planned["reason"] and planned["detail"]["task_id"]
        assert filled["action"] == "filled" and filled["gap_id"] == gap["id"]
        status = (await host.client.get("/planner/status")).json()
        assert status["last_cycle"]["summary"]["planned"][0]["gap_id"] == gap["id"]
        assert status["queue_depth"] == 0 and status["gaps"]["filled"] == 1
        assert status["budget"]["pages_asked_last_hour"] == planned["detail"]["max_nodes"]
        assert status["next_cycle_at"].endswith("Z")
        page = (await host.client.get("/planner/logs", params={"limit": "1"})).json()
        assert page["items"] == [filled] and page["next_cursor"]
        rest = (await host.client.get("/planner/logs", params={"limit": "1", "cursor": page["next_cursor"]})).json()
        assert rest["items"] == [planned] and rest["next_cursor"] is None


def test_the_log_streams_decisions_as_server_sent_events_resuming_after_an_id(tmp_path, wiki_server):
    config = {"plugin_config__crawler__wiki_api": wiki_server.api_url, "plugin_config__crawler__rate_limit": 50,
              "plugin_config__planner__detect": "[]", "load_plugins": "knowledge,crawler,planner"}
    server = LuminaProcess.serve(tmp_path / "data", tmp_path / "server.log", **config)
    try:
        httpx.post(f"{server.url}/masterchat/chat", json={"message": "Who directed the film Actrius?"}, timeout=60)
        assert httpx.post(f"{server.url}/masterchat/plan", timeout=60).status_code == 200
        headers = {"Accept": "text/event-stream", "Last-Event-ID": "0"}
        seen: list[dict] = []
        with httpx.stream("GET", f"{server.url}/planner/logs", headers=headers, timeout=120) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line.startswith("data:"):
                    seen.append(json.loads(line.removeprefix("data:")))
                    if seen[-1]["action"] == "filled":
                        break
        assert [(d["id"], d["action"]) for d in seen] == [("1", "planned"), ("2", "filled")]
    finally:
        server.stop()
