"""Fixtures of the knowledge plugin's tests: a host with the plugin and a few small articles."""

from __future__ import annotations

import pytest

APOLLO = {
    "id": "apollo-8",
    "title": "Apollo 8",
    "url": "https://en.wikipedia.org/wiki/Apollo_8",
    "revision": 1,
    "source": "test",
    "sections": [
        {"path": [], "text": (
            "Apollo 8 was the first crewed spacecraft to leave low Earth orbit and reach the Moon. "
            "It was launched on December 21, 1968. The crew orbited the Moon ten times. "
            "The astronauts returned to Earth on December 27, 1968, when their spacecraft splashed down "
            "in the northern Pacific Ocean.")},
        {"path": ["Crew"], "text": (
            "The commander of Apollo 8 was Frank Borman. James Lovell was the command module pilot and "
            "William Anders was the lunar module pilot. Michael Collins was replaced on the crew in July 1968 "
            "after suffering a cervical disc herniation that required surgery.")},
    ],
}
AARDVARK = {
    "id": "aardvark",
    "title": "Aardvark",
    "url": "https://en.wikipedia.org/wiki/Aardvark",
    "revision": 7,
    "source": "test",
    "sections": [
        {"path": [], "text": (
            "The aardvark is a medium-sized, burrowing, nocturnal mammal native to Africa. "
            "It is the only living species of the order Tubulidentata. A nocturnal feeder, it subsists on "
            "ants and termites, which it digs out of their hills using its sharp claws and powerful legs.")},
    ],
}


@pytest.fixture
def articles() -> list[dict]:
    return [APOLLO, AARDVARK]


@pytest.fixture
async def knowledge_host(lumina_host, articles):
    """A started host with the knowledge plugin and two small articles indexed."""
    async with lumina_host(plugins=["knowledge"]) as host:
        service = host.kernel.services.get("knowledge")
        for article in articles:
            await service.index_article(article)
        yield host
