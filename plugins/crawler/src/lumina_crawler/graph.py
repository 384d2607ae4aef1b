"""The knowledge graph: pages as nodes, links as edges, in SQLite in the crawler's data folder.

A node exists for every page the crawler has met: fetched articles (with summary, fingerprint,
revision and fetch time), disambiguation pages, missing pages, redirects, and link targets not yet
fetched (``candidate``). Ids are short hashes of the normalised title, so a link can point at a
node before its page is fetched, and every source (API or dump) agrees on them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from lumina_core.storage import SQLiteFile

NodeKind = Literal["article", "disambiguation", "missing", "redirect", "candidate"]
Relation = Literal["links_to", "redirects_to", "may_refer_to"]
MAX_DEPTH = 3
MAX_NEIGHBOURS = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    fingerprint TEXT NOT NULL DEFAULT '',
    revision INTEGER,
    fetched_at REAL,
    url TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS links (
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    relation TEXT NOT NULL,
    PRIMARY KEY (source, target, relation)
);
CREATE INDEX IF NOT EXISTS links_by_target ON links (target);
CREATE INDEX IF NOT EXISTS nodes_by_kind ON nodes (kind);
CREATE INDEX IF NOT EXISTS nodes_by_fingerprint ON nodes (fingerprint);
"""


def node_id(title: str) -> str:
    """The node id of a (normalised) title: stable across runs, sources and processes."""
    return hashlib.blake2b(title.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Node:
    id: str
    title: str
    kind: NodeKind
    summary: str = ""
    fingerprint: str = ""
    revision: int | None = None
    fetched_at: float | None = None
    url: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fetched_at"] = _iso(self.fetched_at)
        return data


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    relation: Relation


class GraphStore:
    """Nodes and links; safe to share between threads and between processes (SQLite WAL)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._sql = SQLiteFile(self.path, _SCHEMA, rows_by_name=True)

    def close(self) -> None:
        self._sql.close()

    # --- writing ---------------------------------------------------------------------------

    def put(self, node: Node) -> bool:
        """Insert or update ``node``; True when it is new: unknown, or only a link target so far."""
        with self._sql.transaction() as db:
            known = db.execute("SELECT kind FROM nodes WHERE id = ?", (node.id,)).fetchone()
            db.execute(
                "INSERT INTO nodes (id, title, kind, summary, fingerprint, revision, fetched_at, url) "
                "VALUES (:id, :title, :kind, :summary, :fingerprint, :revision, :fetched_at, :url) "
                "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, summary = excluded.summary, "
                "fingerprint = excluded.fingerprint, revision = excluded.revision, "
                "fetched_at = excluded.fetched_at, url = excluded.url",
                asdict(node),
            )
            return known is None or known["kind"] == "candidate"

    def link(self, source: str, targets: Iterable[str], relation: Relation) -> list[str]:
        """Link ``source`` to the titles ``targets`` (unknown ones become candidates); return new ids."""
        created: list[str] = []
        with self._sql.transaction() as db:
            for title in dict.fromkeys(targets):
                target = node_id(title)
                inserted = db.execute(
                    "INSERT OR IGNORE INTO nodes (id, title, kind) VALUES (?, ?, 'candidate')", (target, title)
                ).rowcount
                if inserted:
                    created.append(target)
                db.execute(
                    "INSERT OR IGNORE INTO links (source, target, relation) VALUES (?, ?, ?)",
                    (source, target, relation),
                )
        return created

    def replace_links(self, source: str, targets: Sequence[str], relation: Relation) -> list[str]:
        """Make ``targets`` the only ``relation`` links of ``source`` (a page was edited)."""
        with self._sql.transaction() as db:
            db.execute("DELETE FROM links WHERE source = ? AND relation = ?", (source, relation))
        return self.link(source, targets, relation)

    # --- reading ---------------------------------------------------------------------------

    def get(self, node: str) -> Node | None:
        """A node by id, or by title when no id matches."""
        row = self._sql.one("SELECT * FROM nodes WHERE id = ?", (node,)) or self._sql.one(
            "SELECT * FROM nodes WHERE title = ?", (node,)
        )
        return Node(**dict(row)) if row else None

    def with_fingerprint(self, fingerprint: str, *, other_than: str) -> Node | None:
        """Another article with exactly this clean text (a duplicate), if there is one."""
        row = self._sql.one(
            "SELECT * FROM nodes WHERE fingerprint = ? AND id != ? AND kind = 'article' LIMIT 1",
            (fingerprint, other_than),
        )
        return Node(**dict(row)) if row else None

    def neighbours(self, node: str, depth: int = 1) -> tuple[list[Node], list[Edge]]:
        """Nodes within ``depth`` links (either direction) of ``node``, and the links between them."""
        seen = {node}
        frontier = [node]
        edges: dict[tuple[str, str, str], Edge] = {}
        for _ in range(min(depth, MAX_DEPTH)):
            found: list[str] = []
            for edge in self._edges_touching(frontier):
                edges[(edge.source, edge.target, edge.relation)] = edge
                for other in (edge.source, edge.target):
                    if other not in seen and len(seen) < MAX_NEIGHBOURS:
                        seen.add(other)
                        found.append(other)
            frontier = found
        nodes = [n for n in (self.get(i) for i in seen if i != node) if n is not None]
        kept = {n.id for n in nodes} | {node}
        return nodes, [e for e in edges.values() if e.source in kept and e.target in kept]

    def stats(self) -> dict[str, Any]:
        kinds = dict(self._sql.all("SELECT kind, COUNT(*) FROM nodes GROUP BY kind"))
        relations = dict(self._sql.all("SELECT relation, COUNT(*) FROM links GROUP BY relation"))
        last = self._sql.one("SELECT MAX(fetched_at) FROM nodes")[0]
        return {
            "nodes": sum(kinds.values()),
            "links": sum(relations.values()),
            "nodes_by_kind": kinds,
            "links_by_relation": relations,
            "last_fetched_at": _iso(last),
        }

    def stale_articles(self, older_than_s: float, limit: int = 100) -> list[Node]:
        """Fetched articles whose copy is older than ``older_than_s`` seconds (for recrawls)."""
        rows = self._sql.all(
            "SELECT * FROM nodes WHERE kind = 'article' AND fetched_at < ? ORDER BY fetched_at LIMIT ?",
            (time.time() - older_than_s, limit),
        )
        return [Node(**dict(r)) for r in rows]

    def wanted(self, *, min_links: int, limit: int) -> list[dict[str, Any]]:
        """Candidates (linked, never fetched) with at least ``min_links`` in-links, most first."""
        rows = self._sql.all(
            "SELECT n.id, n.title, COUNT(*) AS in_links FROM nodes n JOIN links l ON l.target = n.id "
            "WHERE n.kind = 'candidate' AND l.relation = 'links_to' GROUP BY n.id "
            "HAVING in_links >= ? ORDER BY in_links DESC, n.title LIMIT ?",
            (min_links, limit),
        )
        return [{"id": r["id"], "title": r["title"], "in_links": r["in_links"]} for r in rows]

    def outgoing(self, source: str) -> list[str]:
        """Titles ``source`` links to (articles it links, or candidates of a disambiguation page)."""
        rows = self._sql.all(
            "SELECT n.title FROM links l JOIN nodes n ON n.id = l.target WHERE l.source = ? "
            "AND l.relation IN ('links_to', 'may_refer_to') ORDER BY n.title",
            (source,),
        )
        return [r[0] for r in rows]

    def in_degree(self, node: str) -> int:
        return self._sql.one("SELECT COUNT(*) FROM links WHERE target = ?", (node,))[0]

    # --- helpers ---------------------------------------------------------------------------

    def _edges_touching(self, ids: Sequence[str]) -> list[Edge]:
        edges: list[Edge] = []
        for start in range(0, len(ids), 400):
            chunk = list(ids[start : start + 400])
            marks = ",".join("?" * len(chunk))
            rows = self._sql.all(
                f"SELECT source, target, relation FROM links WHERE source IN ({marks}) OR target IN ({marks})",
                (*chunk, *chunk),
            )
            edges.extend(Edge(*row) for row in rows)
        return edges


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
