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
    """The wiki's own log: no second of it holds more than RATE requests (with unshared budgets,
    all 30 would arrive within one)."""
    times = sorted(r.at for r in wiki_server.requests)
    assert len(times) == requests
    busiest = max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))
    assert busiest <= RATE, busiest


async def test_workers_on_machines_sharing_a_redis_share_one_rate(wiki_server, tmp_path, redis_backend):
    config = {"crawler": {"wiki_api": wiki_server.api_url, "rate_limit": RATE}}
    async with AsyncExitStack() as stack:
        hosts = [
            await stack.enter_async_context(running_host(host_settings(
                tmp_path / machine, PLUGINS, plugin_config=config, **redis_backend)))
            for machine in ("machine-a", "machine-b")  # no data folder in common
        ]
        await crawl_requests(hosts, per_host=15)
    assert_paced(wiki_server, 30)


async def test_without_redis_the_servers_workers_share_one_schedule(lumina_host, wiki_server):
    config = {"crawler": {"wiki_api": wiki_server.api_url, "rate_limit": RATE}}
    async with lumina_host(plugins=PLUGINS, plugin_config=config, redis_url=None) as host:
        await crawl_requests([host, host], per_host=15)  # two task workers of one server
    assert_paced(wiki_server, 30)
