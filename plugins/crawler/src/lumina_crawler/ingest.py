"""One page in: wikitext cleaned, the graph updated, the article handed to the knowledge index.

Both sources (the API crawl and the dump) end here, so a page is treated the same wherever it
came from. Redirects become ``redirects_to`` links; disambiguation pages are kept as graph
nodes whose links are ``may_refer_to`` candidates, never indexed as articles; a page whose clean
text has the fingerprint of another article is recorded as a duplicate and not indexed twice.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from lumina_crawler.graph import GraphStore, Node, node_id
from lumina_crawler.wikitext import ParsedPage, normalise_title, parse_page

log = logging.getLogger("lumina.crawler.ingest")

Publish = Callable[[str, Mapping[str, Any]], Awaitable[None]]
Status = Literal["added", "replaced", "unchanged", "duplicate", "disambiguation", "redirect", "missing", "skipped"]


@dataclass(frozen=True)
class SourcePage:
    """A page as any source delivers it (an API answer, a dump ``<page>``)."""

    title: str
    wikitext: str = ""
    revision_id: int | None = None
    timestamp: str = ""
    url: str = ""
    namespace: int = 0
    redirect_to: str | None = None
    missing: bool = False
    disambiguation: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SourcePage:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    """What happened to one page, and the links a crawl may follow from it."""

    node_id: str
    title: str
    status: Status
    links: tuple[str, ...] = ()
    passages: int = 0
    new_node: bool = False


class Ingestor:
    """Turns pages into graph nodes and indexed articles.

    ``dense_now=False`` (crawl tasks) hands articles over as soon as they are searchable by their
    words, the index adding their dense vectors a moment later; bulk ingest keeps the default and
    so waits for the embedder, which paces it.
    """

    def __init__(self, graph: GraphStore, knowledge: Any, publish: Publish, *, wiki_url: str = "",
                 dense_now: bool = True) -> None:
        self.graph = graph
        self.knowledge = knowledge
        self._publish = publish
        self._wiki_url = wiki_url.rstrip("/")
        self._dense_now = dense_now

    async def ingest(self, page: SourcePage) -> Outcome:
        title = normalise_title(page.title)
        if page.namespace != 0:
            return Outcome(node_id(title), title, "skipped")
        if page.missing:
            return await self._record(Node(node_id(title), title, "missing", fetched_at=time.time()), "missing")
        if page.redirect_to:
            return await self._redirect(title, normalise_title(page.redirect_to), page)
        parsed = parse_page(title, page.wikitext)
        if page.disambiguation or parsed.is_disambiguation:
            return await self._disambiguation(parsed, page)
        return await self._article(parsed, page)

    async def _article(self, parsed: ParsedPage, page: SourcePage) -> Outcome:
        fingerprint = _fingerprint(parsed.text)
        node = self._node(parsed, page, "article", fingerprint)
        twin = self.graph.with_fingerprint(fingerprint, other_than=node.id)
        if twin is not None:
            log.info("'%s' has the same text as '%s': recorded, not indexed twice", node.title, twin.title)
            new = self.graph.put(node)
            self.graph.replace_links(node.id, [twin.title], "redirects_to")
            return await self._announce(Outcome(node.id, node.title, "duplicate", new_node=new), node)
        result = await self.knowledge.index_article(self._article_document(parsed, node), dense_now=self._dense_now)
        new = self.graph.put(node)
        self.graph.replace_links(node.id, parsed.links, "links_to")
        outcome = Outcome(node.id, node.title, result["status"], parsed.links, int(result["passages"]), new)
        return await self._announce(outcome, node)

    async def _disambiguation(self, parsed: ParsedPage, page: SourcePage) -> Outcome:
        node = self._node(parsed, page, "disambiguation", _fingerprint(parsed.text))
        new = self.graph.put(node)
        self.graph.replace_links(node.id, parsed.links, "may_refer_to")
        return await self._announce(Outcome(node.id, node.title, "disambiguation", parsed.links, new_node=new), node)

    async def _redirect(self, title: str, target: str, page: SourcePage) -> Outcome:
        node = Node(node_id(title), title, "redirect", revision=page.revision_id, fetched_at=time.time(),
                    url=page.url or self._url(title))
        return await self._record(node, "redirect", links=(target,))

    async def _record(self, node: Node, status: Status, links: tuple[str, ...] = ()) -> Outcome:
        new = self.graph.put(node)
        if links:
            self.graph.replace_links(node.id, links, "redirects_to")
        return await self._announce(Outcome(node.id, node.title, status, links, new_node=new), node)

    async def _announce(self, outcome: Outcome, node: Node) -> Outcome:
        if outcome.new_node:
            await self._publish("graph.node_added", {**node.to_dict(), "status": outcome.status})
        return outcome

    def _node(self, parsed: ParsedPage, page: SourcePage, kind: Literal["article", "disambiguation"],
              fingerprint: str) -> Node:
        return Node(
            id=node_id(parsed.title),
            title=parsed.title,
            kind=kind,
            summary=parsed.summary,
            fingerprint=fingerprint,
            revision=page.revision_id,
            fetched_at=time.time(),
            url=page.url or self._url(parsed.title),
        )

    def _article_document(self, parsed: ParsedPage, node: Node) -> dict[str, Any]:
        """The article as the knowledge service takes it (plain data: plugins share no types)."""
        return {
            "id": node.id,
            "title": node.title,
            "url": node.url,
            "revision": node.revision,
            "source": "wiki",
            "sections": [{"path": list(s.path), "text": s.text} for s in parsed.sections],
        }

    def _url(self, title: str) -> str:
        return f"{self._wiki_url}/{title.replace(' ', '_')}" if self._wiki_url else ""


def _fingerprint(text: str) -> str:
    """The clean text's digest, whitespace-insensitive: equal articles have equal fingerprints."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:32]
