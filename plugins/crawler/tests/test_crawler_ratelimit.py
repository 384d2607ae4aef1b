"""CRAWL_RATE_LIMIT across workers, through the core's rate_limits service: Redis when configured,
else the server's memory (where every crawl task of that server runs)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from lumina_crawler import plugin as crawler_plugin

from lumina_core.testing import host_settings, running_host

PLUGINS = ["knowledge", "crawler"]
RATE = 20.0


async def crawl_requests(hosts, per_host: int) -> None:
    """``per_host`` API requests from each host's crawler, all at once."""
    clients = [crawler_plugin.crawler(host.kernel.get("crawler").context).client for host in hosts]
    await asyncio.gather(*(client.request({"action": "query", "titles": "A"}) for client in clients for _ in range(per_host)))


def assert_paced(wiki_server, requests: int) -> None:
    times = sorted(r.at for r in wiki_server.requests)
    assert len(times) == requests
    # Slots are exact, arrival jitters on a loaded machine; unshared budgets would take half the time.
    assert times[-1] - times[0] >= (requests - 1) / RATE * 0.7


async def test_workers_on_machines_sharing_a_redis_share_one_rate(wiki_server, tmp_path, redis_backend):
    config = {"crawler": {"wiki_api": wiki_server.api_url, "rate_limit": RATE}}
    async with AsyncExitStack() as stack:
        hosts = [
            await stack.enter_async_context(running_host(host_settings(
                tmp_path / machine, PLUGINS, plugin_config=config, **redis_backend)))
            for machine in ("machine-a", "machine-b")  # no data folder in common
        ]
        await crawl_requests(hosts, per_host=10)
    assert_paced(wiki_server, 20)


async def test_without_redis_the_servers_workers_share_one_schedule(lumina_host, wiki_server):
    config = {"crawler": {"wiki_api": wiki_server.api_url, "rate_limit": RATE}}
    async with lumina_host(plugins=PLUGINS, plugin_config=config, redis_url=None) as host:
        await crawl_requests([host, host], per_host=6)  # two task workers of one server
    assert_paced(wiki_server, 12)
