"""Fixtures of the planner's tests: a host with knowledge, crawler and planner, and a local
MediaWiki server serving the whole enwiki excerpt (real HTTP, see ops/mediawiki_server.py)."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ops import mediawiki_server

PLUGINS = ["knowledge", "crawler", "planner"]


@pytest.fixture(scope="session")
def wiki_data():
    return mediawiki_server.WikiData()


@pytest.fixture
def wiki_server(wiki_data) -> Iterator:
    with mediawiki_server.MediaWikiServer(copy.deepcopy(wiki_data)) as server:
        yield server


def loop_config(wiki_server, **planner: Any) -> dict[str, dict[str, Any]]:
    """Plugin config: the crawler on the local wiki, the planner looking only at asked gaps
    unless a test says otherwise, and retrying at once."""
    return {
        "crawler": {"wiki_api": wiki_server.api_url, "rate_limit": 50, "contact": "tests@lumina.invalid"},
        "planner": {"detect": [], "backoff_minutes": 0, **planner},
    }


class LoopClient:
    """What the tests ask of a host over HTTP: wiki_qa, the gaps, the planner's log."""

    def __init__(self, host) -> None:
        self.client = host.client

    async def ask(self, question: str) -> dict:
        response = await self.client.post("/masterchat/chat", json={"message": question})
        assert response.status_code == 200, response.text
        return response.json()

    async def plan(self) -> dict:
        response = await self.client.post("/masterchat/plan")
        assert response.status_code == 200, response.text
        return response.json()

    async def gaps(self, **params: str) -> list[dict]:
        response = await self.client.get("/knowledge/gaps", params={"limit": "500", **params})
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def settled(self, gap_id: str, timeout: float = 60.0) -> dict:
        """The gap once it has left planned/crawling (its crawl ended and was judged)."""
        deadline, gap = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            gap = next((g for g in await self.gaps() if g["id"] == gap_id), None)
            if gap is not None and gap["state"] not in ("planned", "crawling"):
                return gap
            await asyncio.sleep(0.1)
        raise AssertionError(f"gap {gap_id} was not settled within {timeout} s: {gap}")

    async def decisions(self) -> list[dict]:
        response = await self.client.get("/planner/logs", params={"limit": "500"})
        assert response.status_code == 200, response.text
        return response.json()["items"]


@pytest.fixture
def loop_client() -> type[LoopClient]:
    return LoopClient


@pytest.fixture
def loop_host(lumina_host, wiki_server):
    """``async with loop_host(**planner_config) as host``: knowledge, crawler and planner on the
    local wiki (``config`` adds other plugins' sections, ``settings`` the host's own)."""

    def start(config: dict[str, dict[str, Any]] | None = None, settings: dict[str, Any] | None = None, **planner: Any):
        return lumina_host(plugins=PLUGINS, plugin_config={**loop_config(wiki_server, **planner), **(config or {})},
                           **(settings or {}))

    return start
