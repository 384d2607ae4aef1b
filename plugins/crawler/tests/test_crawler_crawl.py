"""Crawl tasks from a local MediaWiki server through the real host: graph, index, events, resume."""

from __future__ import annotations

import asyncio
import time

import pytest
from lumina_crawler import plugin as crawler_plugin
from lumina_crawler.crawl import CrawlRequest

PLUGINS = ["knowledge", "crawler"]


def crawler_config(wiki_server) -> dict:
    return {"crawler": {"wiki_api": wiki_server.api_url, "rate_limit": 50, "contact": "tests@lumina.invalid"}}


async def finished(host, task_id: str, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = (await host.client.get(f"/tasks/{task_id}")).json()
        if record["state"] in ("succeeded", "failed"):
            return record
        await asyncio.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish in {timeout} s: {record}")


async def test_a_crawl_task_fills_the_graph_and_the_index(lumina_host, wiki_server):
    async with lumina_host(plugins=PLUGINS, plugin_config=crawler_config(wiki_server)) as host:
        added: list[dict] = []

        async def on_node(event):
            added.append(event)

        host.kernel.services.get("events").subscribe("graph.node_added", on_node, owner="test")
        response = await host.client.post("/tasks", json={"crawl": ["Allan_Dwan"], "hops": 1, "max_nodes": 6})
        assert response.status_code == 202
        record = await finished(host, response.json()["id"])

        assert record["state"] == "succeeded", record["error"]
        assert record["progress"] == 1.0 and record["result"]["visited"] == 6
        assert record["result"]["titles"][0] == "Allan Dwan"
        node = (await host.client.get("/graph/nodes/Allan Dwan")).json()
        assert node["kind"] == "article" and node["revision"] and "Canadian-born" in node["summary"]
        assert node["url"] == "https://en.wikipedia.org/wiki/Allan_Dwan"
        around = (await host.client.get(f"/graph/neighbors/{node['id']}", params={"depth": 1})).json()
        assert len(around["links"]) >= 5 and {l["relation"] for l in around["links"]} == {"links_to"}
        stats = (await host.client.get("/graph/stats")).json()
        assert stats["nodes_by_kind"]["article"] + stats["nodes_by_kind"].get("missing", 0) >= 6
        await asyncio.sleep(0.2)
        assert {e["payload"]["title"] for e in added} >= set(record["result"]["titles"])
        assert all(e["type"] == "graph.node_added" and e["source"] == "crawler" for e in added)
        hits = (await host.client.post("/knowledge/search", json={"query": "Where was Allan Dwan born?", "k": 3})).json()["hits"]
        assert hits[0]["title"] == "Allan Dwan" and "Toronto" in hits[0]["text"]


async def test_a_crawled_article_is_searchable_by_its_words_at_once_and_by_meaning_once_embedded(lumina_host, wiki_server):
    async with lumina_host(plugins=PLUGINS, plugin_config=crawler_config(wiki_server)) as host:
        response = await host.client.post("/tasks", json={"crawl": ["Allan_Dwan"], "hops": 0, "max_nodes": 1})
        await finished(host, response.json()["id"])
        hits = (await host.client.post("/knowledge/search", json={"query": "Allan Dwan film director", "k": 1})).json()["hits"]
        assert hits[0]["title"] == "Allan Dwan"

        await host.kernel.services.get("knowledge").index.backfill.drained()
        assert (await host.client.get("/knowledge/stats")).json()["pending_dense"] == 0
        query = {"query": "a Canadian-born pioneer of American cinema", "k": 1, "mode": "dense"}
        assert (await host.client.post("/knowledge/search", json=query)).json()["hits"][0]["title"] == "Allan Dwan"


async def test_missing_and_disambiguation_pages_are_recorded_not_indexed(lumina_host, wiki_server):
    async with lumina_host(plugins=PLUGINS, plugin_config=crawler_config(wiki_server)) as host:
        task = {"crawl": ["Aa River", "Page that never existed"], "hops": 0, "max_nodes": 5}
        record = await finished(host, (await host.client.post("/tasks", json=task)).json()["id"])

        assert record["result"]["statuses"] == {"disambiguation": 1, "missing": 1}
        assert record["result"]["missing"] == ["Page that never existed"]
        river = (await host.client.get("/graph/nodes/Aa River")).json()
        assert river["kind"] == "disambiguation"
        around = (await host.client.get(f"/graph/neighbors/{river['id']}")).json()
        assert {l["relation"] for l in around["links"]} == {"may_refer_to"} and len(around["nodes"]) >= 2
        assert (await host.client.get("/graph/nodes/Page that never existed")).json()["kind"] == "missing"
        assert (await host.client.get("/knowledge/stats")).json()["passages"] == 0


async def test_a_bad_crawl_task_fails_with_a_reason(lumina_host, wiki_server):
    async with lumina_host(plugins=PLUGINS, plugin_config=crawler_config(wiki_server)) as host:
        record = await finished(host, (await host.client.post("/tasks", json={"crawl": [], "hops": 9})).json()["id"])
        assert record["state"] == "failed" and "seed titles" in record["error"]


async def test_a_crawl_killed_midway_resumes_without_fetching_pages_again(lumina_host, wiki_server):
    async with lumina_host(plugins=PLUGINS, plugin_config=crawler_config(wiki_server)) as host:
        ctx = host.kernel.get("crawler").context
        request = CrawlRequest(("Allan Dwan",), hops=1, max_nodes=12)
        progress_seen: list[float] = []

        async def progress(done: float, note: str) -> None:
            progress_seen.append(done)

        worker = asyncio.create_task(crawler_plugin.crawler(ctx).run("crawl-resume", request, progress))
        while not progress_seen:
            await asyncio.sleep(0.01)
        worker.cancel()  # the worker dies after its first batch
        with pytest.raises(asyncio.CancelledError):
            await worker
        fetched_before = [r.params["titles"] for r in wiki_server.article_requests()]

        result = await crawler_plugin.crawler(ctx).run("crawl-resume", request, progress)

        assert result["visited"] == 12
        fetched_after = [r.params["titles"] for r in wiki_server.article_requests()][len(fetched_before):]
        assert "Allan Dwan" in fetched_before[0] and not any("Allan Dwan" in t.split("|") for t in fetched_after)


async def test_a_stale_article_is_refreshed_by_revision_id(lumina_host, wiki_server):
    config = crawler_config(wiki_server)
    config["crawler"]["recrawl_days"] = 0  # every copy is stale at once
    async with lumina_host(plugins=PLUGINS, plugin_config=config) as host:
        async def crawl() -> dict:
            task = {"crawl": ["Allan Dwan"], "hops": 0, "max_nodes": 1}
            return (await finished(host, (await host.client.post("/tasks", json=task)).json()["id"]))["result"]

        assert (await crawl())["statuses"] == {"added": 1}
        first = (await host.client.get("/graph/nodes/Allan Dwan")).json()
        assert (await crawl())["statuses"] == {"unchanged": 1}
        assert (await host.client.get("/graph/nodes/Allan Dwan")).json()["revision"] == first["revision"]

        page = wiki_server.data.pages["Allan Dwan"]
        lead, rest = page.text.split("\n==", 1)
        wiki_server.edit("Allan Dwan", lead + "\nDwan also directed a film about lighthouse keepers.\n\n==" + rest)
        assert (await crawl())["statuses"] == {"replaced": 1}
        assert (await host.client.get("/graph/nodes/Allan Dwan")).json()["revision"] == first["revision"] + 1
        hits = (await host.client.post("/knowledge/search", json={"query": "lighthouse keepers film", "k": 1})).json()
        assert "lighthouse keepers" in hits["hits"][0]["text"]
