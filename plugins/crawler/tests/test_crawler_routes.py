"""The crawler's routes: pages in, graph out, and clear 4xx answers for bad requests."""

from __future__ import annotations

PLUGINS = ["knowledge", "crawler"]
REDIRECT = {"title": "AynRand", "redirect_to": "Ayn Rand", "revision_id": 1}
DISAMBIGUATION = {"title": "Ada", "wikitext": "'''Ada''' may refer to:\n* [[Ada Lovelace]]\n* [[Ada (programming language)]]\n{{Disambiguation}}"}
TALK = {"title": "Talk:Ada", "namespace": 1, "wikitext": "A discussion."}


async def test_posted_pages_become_graph_nodes_with_their_links(lumina_host):
    async with lumina_host(plugins=PLUGINS) as host:
        response = await host.client.post("/crawler/pages", json={"pages": [REDIRECT, DISAMBIGUATION, TALK]})
        assert response.status_code == 200
        assert response.json()["counts"] == {"redirect": 1, "disambiguation": 1, "skipped": 1}
        redirect = (await host.client.get("/graph/nodes/AynRand")).json()
        target = (await host.client.get(f"/graph/neighbors/{redirect['id']}")).json()
        assert redirect["kind"] == "redirect"
        assert [(n["title"], n["kind"]) for n in target["nodes"]] == [("Ayn Rand", "candidate")]
        assert target["links"][0]["relation"] == "redirects_to"
        stats = (await host.client.get("/graph/stats")).json()
        assert stats["nodes_by_kind"] == {"candidate": 3, "disambiguation": 1, "redirect": 1}
        assert stats["links_by_relation"] == {"may_refer_to": 2, "redirects_to": 1}


async def test_bad_requests_get_the_error_envelope(lumina_host):
    async with lumina_host(plugins=PLUGINS) as host:
        empty = await host.client.post("/crawler/pages", json={"pages": []})
        unknown = await host.client.get("/graph/nodes/Never heard of it")
        too_deep = await host.client.get("/graph/neighbors/x", params={"depth": 9})
        assert empty.status_code == 422 and empty.json()["error"]["field"] == "pages"
        assert unknown.status_code == 404 and "crawl it first" in unknown.json()["error"]["message"]
        assert too_deep.status_code == 422 and too_deep.json()["error"]["field"] == "query.depth"


async def test_a_page_with_the_same_text_as_another_is_a_duplicate_not_indexed_twice(lumina_host):
    text = "'''Aardvark''' is a burrowing mammal of Africa. It eats ants and termites at night."
    pages = [{"title": "Aardvark", "wikitext": text}, {"title": "Orycteropus afer", "wikitext": text}]
    async with lumina_host(plugins=PLUGINS) as host:
        response = await host.client.post("/crawler/pages", json={"pages": pages})
        assert [i["status"] for i in response.json()["items"]] == ["added", "duplicate"]
        assert (await host.client.get("/knowledge/stats")).json()["articles"] == 1
        twin = (await host.client.get("/graph/nodes/Orycteropus afer")).json()
        around = (await host.client.get(f"/graph/neighbors/{twin['id']}")).json()
        assert [n["title"] for n in around["nodes"]] == ["Aardvark"]
