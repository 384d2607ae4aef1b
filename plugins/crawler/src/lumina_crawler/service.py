"""The ``crawler`` service other plugins reach with ``ctx.service("crawler")`` (``service:crawler``).

What the graph knows and what the wiki holds, as plain data (plugins share no types): a planner
asks which articles are stale, which pages many articles link to but nobody fetched (the edge
of the known region), whether a term names a node, and what the wiki's search finds for a topic.
Wiki searches go through the same polite, rate-limited client as crawls, so a planner's searches
count against ``CRAWL_RATE_LIMIT`` too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lumina_core.errors import Unavailable
from lumina_crawler.crawl import DAY
from lumina_crawler.graph import GraphStore
from lumina_crawler.mediawiki import MediaWikiClient, MediaWikiError
from lumina_crawler.wikitext import normalise_title

MAX_SEARCH_RESULTS = 20


class CrawlerService:
    def __init__(self, graph: Callable[[], GraphStore], client: Callable[[], MediaWikiClient],
                 recrawl_days: Callable[[], float]) -> None:
        self._graph, self._client, self._recrawl_days = graph, client, recrawl_days

    def node(self, title_or_id: str) -> dict[str, Any] | None:
        """The graph node with this id or title (``kind``: article, candidate, ...), or None."""
        node = self._graph().get(title_or_id) or self._graph().get(normalise_title(title_or_id))
        return node.to_dict() if node is not None else None

    def stale(self, limit: int = 100) -> list[dict[str, Any]]:
        """Fetched articles older than RECRAWL_DAYS, oldest first."""
        return [n.to_dict() for n in self._graph().stale_articles(self._recrawl_days() * DAY, limit=limit)]

    def wanted(self, *, min_links: int = 2, limit: int = 20) -> list[dict[str, Any]]:
        """Pages at least ``min_links`` fetched pages link to that nobody fetched, most linked first,
        each with its ``in_links`` count: where the known region is weakly linked to the rest."""
        return self._graph().wanted(min_links=min_links, limit=limit)

    def stats(self) -> dict[str, Any]:
        return self._graph().stats()

    async def search_wiki(self, query: str, limit: int = 5) -> list[str]:
        """Article titles the wiki's own search (``list=search``) finds for ``query``, best first;
        :class:`~lumina_core.errors.Unavailable` when the wiki keeps refusing."""
        params = {"list": "search", "srsearch": query, "srlimit": str(min(limit, MAX_SEARCH_RESULTS)),
                  "srnamespace": "0", "srprop": ""}
        try:
            answer = await self._client().request({"action": "query", **params})
        except MediaWikiError as exc:
            raise Unavailable(f"the wiki's search is not answering: {exc}") from None
        return [hit["title"] for hit in answer.get("query", {}).get("search", [])]
