"""The MediaWiki client against a real local api.php built from the enwiki excerpt.

The first tests pin the test server to the recorded en.wikipedia.org answers, so what the client
is tested against is shaped like the real thing.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
from lumina_crawler.mediawiki import MediaWikiClient, MediaWikiError, Politeness
from lumina_crawler.ratelimit import CrawlPace

from lumina_core.services.limits import build_limiter

RECORDED = Path(__file__).resolve().parents[3] / "tests" / "data" / "wiki" / "api"
USER_AGENT = "Lumina-crawler-tests/0.1 (contact: tests@lumina.invalid)"


def recorded(name: str) -> dict:
    return json.loads((RECORDED / name).read_text())


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


def client_for(server, http: httpx.AsyncClient, *, rate: float = 1000.0, retries: int = 5,
               rate_limits=None) -> MediaWikiClient:
    pace = CrawlPace(rate_limits or build_limiter(None, "tests"), rate)
    politeness = Politeness(user_agent=USER_AGENT, max_retries=retries, backoff_s=0.05)
    return MediaWikiClient(http, server.api_url, politeness, pace)


# --- the test server answers like Wikipedia ----------------------------------------------------


async def test_server_normalises_and_flags_missing_pages_like_wikipedia(wiki_server, http):
    real = recorded("info-missing-page.json")["query"]
    ours = (await http.get(wiki_server.api_url, params={
        "action": "query", "format": "json", "prop": "info", "titles": "NonExistentPage_WikiAPI_Test_12345"
    })).json()["query"]
    assert ours["normalized"] == real["normalized"]
    assert list(ours["pages"]) == ["-1"]
    assert {"ns", "title", "missing"} <= set(ours["pages"]["-1"])
    assert ours["pages"]["-1"]["missing"] == real["pages"]["-1"]["missing"] == ""


async def test_server_continues_links_in_the_recorded_shape(wiki_server, http):
    real = recorded("links-python-part1.json")
    ours = (await http.get(wiki_server.api_url, params={
        "action": "query", "format": "json", "prop": "links", "titles": "Apollo_8", "pllimit": "max"
    })).json()
    assert set(ours["continue"]) == set(real["continue"]) == {"plcontinue", "continue"}
    page_id, namespace, title = ours["continue"]["plcontinue"].split("|", 2)
    assert page_id == str(next(iter(ours["query"]["pages"].values()))["pageid"])
    assert namespace == "0" and " " not in title
    assert "batchcomplete" not in ours and "batchcomplete" in recorded("links-python-part2.json")


# --- the client --------------------------------------------------------------------------------


async def test_pages_are_normalised_resolved_and_flagged(wiki_server, http):
    client = client_for(wiki_server, http)
    apollo, rand, nowhere, alien = await client.pages(["apollo_8", "AynRand", "No such page here", "Alien"])

    assert (apollo.title, apollo.missing, apollo.redirected_from) == ("Apollo 8", False, None)
    assert apollo.revision_id and "Borman" in apollo.wikitext
    assert apollo.url == "https://en.wikipedia.org/wiki/Apollo_8"
    assert (rand.title, rand.redirected_from) == ("Ayn Rand", "AynRand")
    assert nowhere.missing and nowhere.title == "No such page here"
    assert alien.disambiguation and not apollo.disambiguation


async def test_links_follow_continuation_to_the_end(wiki_server, http):
    client = client_for(wiki_server, http)
    links = await client.links("Apollo 8")
    expected = wiki_server.data.links(wiki_server.data.pages["Apollo 8"])
    assert links == expected and len(links) > wiki_server.behaviour.links_per_batch
    batches = [r for r in wiki_server.requests if r.params.get("prop") == "links"]
    assert len(batches) == -(-len(expected) // wiki_server.behaviour.links_per_batch)


async def test_every_request_carries_the_user_agent_and_maxlag(wiki_server, http):
    await client_for(wiki_server, http).pages(["Apollo 11"])
    request = wiki_server.requests[-1]
    assert request.headers["User-Agent"] == USER_AGENT
    assert request.params["maxlag"] == "5" and request.params["format"] == "json"


async def test_429_is_retried_after_the_servers_retry_after(wiki_server, http):
    wiki_server.refuse_next(1, status=429, retry_after=1)
    (page,) = await client_for(wiki_server, http).pages(["Apollo 11"])
    first, second = wiki_server.requests[-2:]
    assert page.title == "Apollo 11" and not page.missing
    assert second.at - first.at >= 0.95


async def test_503_then_maxlag_are_waited_out(wiki_server, http):
    wiki_server.refuse_next(1, status=503, retry_after=0)
    wiki_server.behaviour.lag_s = 8.0
    asyncio.get_running_loop().call_later(0.3, setattr, wiki_server.behaviour, "lag_s", 0.0)
    (page,) = await client_for(wiki_server, http).pages(["Astronaut"])
    assert page.title == "Astronaut" and "Astronaut" in page.wikitext
    assert len(wiki_server.requests) >= 3


async def test_a_wiki_that_keeps_refusing_is_reported_not_retried_forever(wiki_server, http):
    wiki_server.refuse_next(3, status=503, retry_after=0)
    with pytest.raises(MediaWikiError, match="kept refusing .*HTTP 503.* after 3 attempts"):
        await client_for(wiki_server, http, retries=2).pages(["Astronaut"])


async def test_the_rate_limit_holds_across_clients_sharing_the_rate_limits_service(wiki_server, http):
    rate = 20.0
    rate_limits = build_limiter(None, "tests")
    workers = [client_for(wiki_server, http, rate=rate, rate_limits=rate_limits) for _ in range(3)]
    started = time.monotonic()
    await asyncio.gather(*(w.request({"action": "query", "titles": "A"}) for w in workers for _ in range(4)))
    times = sorted(r.at for r in wiki_server.requests)
    assert len(times) == 12
    assert times[-1] - times[0] >= (12 - 1) / rate * 0.8  # slots are exact; arrival jitters
    assert time.monotonic() - started < 5
