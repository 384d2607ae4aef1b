"""Where registered tools and MCP servers are kept: one SQLite file in the plugin's data folder.

Each row belongs to a user, or to everyone (``scope = global``, registered by an admin). Secret
headers live in the same row but leave this module only inside a :class:`ToolSpec`, whose
``public()`` form drops them; the API never returns them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from lumina_core.storage import SQLiteFile
from lumina_router_tools.definitions import Scope, ToolSpec

GLOBAL_OWNER = "*"
Transport = Literal["stdio", "http"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tools (
    owner TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL, input_schema TEXT NOT NULL,
    url TEXT NOT NULL, method TEXT NOT NULL, headers TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (owner, name));
CREATE TABLE IF NOT EXISTS mcp_servers (
    owner TEXT NOT NULL, name TEXT NOT NULL, transport TEXT NOT NULL, command TEXT NOT NULL,
    url TEXT NOT NULL, headers TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (owner, name));
"""


@dataclass(frozen=True)
class McpServerSpec:
    """A configured MCP server: a command run over stdio (admins only) or a streamable HTTP URL."""

    name: str
    transport: Transport
    owner: str
    command: tuple[str, ...] = ()
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    created_at: str = ""

    @property
    def scope(self) -> Scope:
        return "global" if self.owner == GLOBAL_OWNER else "user"

    @property
    def key(self) -> tuple[str, str]:
        return self.owner, self.name

    def public(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "transport": self.transport, "scope": self.scope,
                                "created_at": self.created_at}
        if self.transport == "stdio":
            body["command"] = list(self.command)
        else:
            body.update(url=self.url, secret_headers=sorted(self.headers))
        return body


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def owner_of(scope: Scope, user_id: str) -> str:
    return GLOBAL_OWNER if scope == "global" else user_id


class ToolStore:
    def __init__(self, path: Path) -> None:
        self._db = SQLiteFile(path, _SCHEMA, rows_by_name=True)

    # --- tools --------------------------------------------------------------------------------

    def tools_for(self, user_id: str) -> list[ToolSpec]:
        """The user's own tools and the global ones (the user's win on a shared name)."""
        rows = self._db.all(
            "SELECT * FROM tools WHERE owner IN (?, ?) ORDER BY owner = ?, name", (user_id, GLOBAL_OWNER, user_id)
        )
        return list({spec.name: spec for spec in map(_tool, rows)}.values())

    def tool(self, owner: str, name: str) -> ToolSpec | None:
        row = self._db.one("SELECT * FROM tools WHERE owner = ? AND name = ?", (owner, name))
        return None if row is None else _tool(row)

    def put_tool(self, spec: ToolSpec) -> ToolSpec:
        """Add or replace a tool of ``spec.owner``."""
        stored = ToolSpec(**{**spec.__dict__, "created_at": now()})
        self._db.execute(
            "INSERT OR REPLACE INTO tools VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (spec.owner, spec.name, spec.description, json.dumps(dict(spec.input_schema)), spec.url,
             spec.method, json.dumps(dict(spec.headers)), stored.created_at),
        )
        return stored

    def delete_tool(self, owner: str, name: str) -> bool:
        return self._db.execute("DELETE FROM tools WHERE owner = ? AND name = ?", (owner, name)) > 0

    # --- MCP servers ---------------------------------------------------------------------------

    def servers(self) -> list[McpServerSpec]:
        return [_server(row) for row in self._db.all("SELECT * FROM mcp_servers ORDER BY owner, name")]

    def servers_for(self, user_id: str) -> list[McpServerSpec]:
        rows = self._db.all("SELECT * FROM mcp_servers WHERE owner IN (?, ?) ORDER BY name", (user_id, GLOBAL_OWNER))
        return [_server(row) for row in rows]

    def server(self, owner: str, name: str) -> McpServerSpec | None:
        row = self._db.one("SELECT * FROM mcp_servers WHERE owner = ? AND name = ?", (owner, name))
        return None if row is None else _server(row)

    def put_server(self, spec: McpServerSpec) -> McpServerSpec:
        stored = McpServerSpec(**{**spec.__dict__, "created_at": now()})
        self._db.execute(
            "INSERT OR REPLACE INTO mcp_servers VALUES (?, ?, ?, ?, ?, ?, ?)",
            (spec.owner, spec.name, spec.transport, json.dumps(list(spec.command)), spec.url,
             json.dumps(dict(spec.headers)), stored.created_at),
        )
        return stored

    def delete_server(self, owner: str, name: str) -> bool:
        return self._db.execute("DELETE FROM mcp_servers WHERE owner = ? AND name = ?", (owner, name)) > 0

    def close(self) -> None:
        self._db.close()


def _tool(row: Any) -> ToolSpec:
    owner = row["owner"]
    return ToolSpec(
        row["name"], row["description"], json.loads(row["input_schema"]), "http",
        "global" if owner == GLOBAL_OWNER else "user", owner, url=row["url"], method=row["method"],
        headers=json.loads(row["headers"]), created_at=row["created_at"],
    )


def _server(row: Any) -> McpServerSpec:
    return McpServerSpec(
        row["name"], row["transport"], row["owner"], tuple(json.loads(row["command"])), row["url"],
        json.loads(row["headers"]), row["created_at"],
    )
