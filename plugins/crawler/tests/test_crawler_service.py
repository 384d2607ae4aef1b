"""The ``crawler`` service planners use: the graph's stale articles and weak regions, nodes by
title, and the wiki's own search through the same polite client as crawls."""

from __future__ import annotations

import pytest

from lumina_core.errors import Unavailable

PLUGINS = ["knowledge", "crawler"]


def config(wiki_server, **crawler) -> dict:
    return {"crawler": {"wiki_api": wiki_server.api_url, "rate_limit": 50, "contact": "tests@lumina.invalid", **crawler}}


async def ingest(host, wiki_data, *titles: str) -> None:
    pages = [{"title": t, "wikitext": wiki_data.pages[t].text} for t in titles]
    assert (await host.client.post("/crawler/pages", json={"pages": pages})).status_code == 200


async def test_the_wiki_search_finds_titles_by_their_words_best_first(lumina_host, wiki_server):
    async with lumina_host(plugins=PLUGINS, plugin_config=config(wiki_server)) as host:
        service = host.kernel.services.get("crawler")
        assert (await service.search_wiki("aikido", 3))[0] == "Aikido"
        assert await service.search_wiki("xyzzyplugh frobnicate") == []
        searches = [r for r in wiki_server.requests if r.params.get("list") == "search"]
        assert searches[0].headers["User-Agent"].startswith("Lumina-crawler/")


async def test_a_wiki_that_keeps_refusing_searches_is_unavailable_not_a_crash(lumina_host, wiki_server):
    async with lumina_host(plugins=PLUGINS, plugin_config=config(wiki_server)) as host:
        wiki_server.refuse_next(10, status=503, retry_after=0)
        with pytest.raises(Unavailable, match="the wiki's search is not answering"):
            await host.kernel.services.get("crawler").search_wiki("aikido")


async def test_nodes_stale_articles_and_weakly_linked_pages_as_plain_data(lumina_host, wiki_server, wiki_data):
    async with lumina_host(plugins=PLUGINS, plugin_config=config(wiki_server, recrawl_days=0)) as host:
        await ingest(host, wiki_data, "Apollo 8", "Apollo 11")
        service = host.kernel.services.get("crawler")

        assert service.node("Apollo 8")["kind"] == "article" and service.node("apollo_8")["title"] == "Apollo 8"
        assert service.node("Xyzzyplugh") is None
        assert {n["title"] for n in service.stale()} == {"Apollo 8", "Apollo 11"}
        wanted = service.wanted(min_links=2)
        assert wanted and all(w["in_links"] >= 2 for w in wanted)
        assert all(service.node(w["title"])["kind"] == "candidate" for w in wanted)
        assert [w["in_links"] for w in wanted] == sorted((w["in_links"] for w in wanted), reverse=True)
