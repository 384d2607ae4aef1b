"""A real host with the knowledge, crawler and scratch-pad plugins, sign-in required, and helpers
to act as different users and to crawl articles of the shared enwiki excerpt into it."""

from __future__ import annotations

import asyncio
import bz2
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import iterparse

import pytest

from lumina_core.testing import Host, HostFactory, free_port, sign_up

PLUGINS = ["knowledge", "crawler", "scratch-pad"]
EXCERPT = Path(__file__).resolve().parents[3] / "tests" / "data" / "wiki" / "enwiki-excerpt-2016.xml.bz2"
ARTICLES = ("Allan Dwan", "Aardvark")
_NS = "{http://www.mediawiki.org/xml/export-0.10/}"

PadHost = Callable[..., AbstractAsyncContextManager[Host]]


@pytest.fixture
def pad_host(lumina_host: HostFactory) -> PadHost:
    """``async with pad_host(ttl_s=..., **settings) as host``: the three plugins started, sign-in
    required; the scratch-pad's settings by keyword (``ttl_s``, ``redis_url`` ...), the host's in
    ``host``, the crawler's in ``crawler`` (its wiki is a closed port unless given)."""

    @asynccontextmanager
    async def start(host: dict[str, Any] | None = None, crawler: dict[str, Any] | None = None,
                    **config: Any) -> AsyncIterator[Host]:
        plugin_config = {"scratch-pad": {k: v for k, v in config.items() if v is not None},
                         "crawler": {"wiki_api": f"http://127.0.0.1:{free_port()}/w/api.php", **(crawler or {})}}
        async with lumina_host(plugins=PLUGINS, require_auth=True, plugin_config=plugin_config,
                               **(host or {})) as running:
            for plugin in PLUGINS:
                assert running.state(plugin) == "started", running.kernel.get(plugin).error
            yield running

    return start


@pytest.fixture(scope="session")
def wikitext() -> dict[str, dict[str, Any]]:
    """The excerpt's pages named in :data:`ARTICLES`, as ``POST /crawler/pages`` takes them."""
    found: dict[str, dict[str, Any]] = {}
    with bz2.open(EXCERPT) as stream:
        for _event, element in iterparse(stream):
            if element.tag == _NS + "page" and element.findtext(_NS + "title") in ARTICLES:
                title = element.findtext(_NS + "title")
                found[title] = {"title": title, "wikitext": element.findtext(f"{_NS}revision/{_NS}text"),
                                "revision_id": int(element.findtext(f"{_NS}revision/{_NS}id"))}
                if len(found) == len(ARTICLES):
                    break
            if element.tag == _NS + "page":
                element.clear()
    return found


async def crawl(host: Host, headers: dict[str, str], page: dict[str, Any]) -> str:
    """Ingest one page through the crawler's route, as a crawl would; return its node id."""
    response = await host.client.post("/crawler/pages", json={"pages": [page]}, headers=headers)
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert item["status"] == "added", item
    return item["id"]


async def eventually(probe: Callable[[], Any], *, timeout: float = 120.0, every: float = 0.2) -> Any:
    """Poll the coroutine ``probe()`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := await probe():
            return found
        await asyncio.sleep(every)
    raise AssertionError(f"nothing came within {timeout:g} s")


async def reflection_notes(host: Host, admin: dict[str, str], article_id: str, *, timeout: float = 120.0) -> list[dict]:
    """The notes reflection wrote on an article, once its task has written them."""

    async def notes() -> list[dict]:
        response = await host.client.get(f"/scratchpad/reflection:{article_id}", headers=admin)
        return response.json()["items"] if response.status_code == 200 else []

    return await eventually(notes, timeout=timeout)


class Kit:
    """The helpers above, handed to tests as a fixture (test folders are not importable)."""

    sign_up = staticmethod(sign_up)
    crawl = staticmethod(crawl)
    eventually = staticmethod(eventually)
    reflection_notes = staticmethod(reflection_notes)


@pytest.fixture
def kit() -> Kit:
    return Kit()
