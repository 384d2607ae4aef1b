"""The plugin's own SQLite file: registered projects and, per indexed file, its digest, chunks
(with their exact line ranges), symbols and lint findings.

The passages themselves live in the shared knowledge index; this store is what turns a passage
found there back into ``file:line``, and what ``explain`` and ``lint`` read without re-parsing.
A file's rows are replaced in one transaction, so a crash leaves either the old or the new ones.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lumina_core.errors import Conflict
from lumina_core.storage import SQLiteFile
from lumina_gamedev.outline import Chunk, FileOutline, Finding, Symbol

SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, root TEXT NOT NULL, engine TEXT NOT NULL,
    status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL, indexed_at REAL,
    UNIQUE (owner, root));
CREATE TABLE IF NOT EXISTS files (
    project_id TEXT NOT NULL, path TEXT NOT NULL, digest TEXT NOT NULL, indexed_at REAL NOT NULL,
    PRIMARY KEY (project_id, path));
CREATE TABLE IF NOT EXISTS chunks (
    project_id TEXT NOT NULL, file TEXT NOT NULL, label TEXT NOT NULL, symbol TEXT NOT NULL, kind TEXT NOT NULL,
    start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (project_id, file, label));
CREATE TABLE IF NOT EXISTS symbols (
    project_id TEXT NOT NULL, file TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, parent TEXT NOT NULL,
    start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS symbols_by_name ON symbols (project_id, name);
CREATE INDEX IF NOT EXISTS symbols_by_file ON symbols (project_id, file);
CREATE TABLE IF NOT EXISTS findings (
    project_id TEXT NOT NULL, file TEXT NOT NULL, line INTEGER NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL,
    symbol TEXT NOT NULL, message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS findings_by_file ON findings (project_id, file);
"""
FILE_TABLES = ("chunks", "symbols", "findings")


@dataclass(frozen=True)
class Project:
    id: str
    owner: str
    name: str
    root: Path
    engine: str
    status: str
    error: str
    created_at: float
    indexed_at: float | None

    def to_dict(self, counts: dict[str, int] | None = None) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "path": str(self.root), "engine": self.engine,
                "status": self.status, "error": self.error or None, "created_at": _iso(self.created_at),
                "indexed_at": _iso(self.indexed_at), **(counts or {})}


class ProjectStore:
    def __init__(self, path: Path) -> None:
        self._sql = SQLiteFile(path, SCHEMA)

    def close(self) -> None:
        self._sql.close()

    # --- projects --------------------------------------------------------------------------

    def add(self, owner: str, name: str, root: Path, engine: str) -> Project:
        project = Project(uuid.uuid4().hex[:12], owner, name, root, engine, "indexing", "", time.time(), None)
        try:
            with self._sql.transaction() as db:
                db.execute("INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (project.id, owner, name, str(root), engine, project.status, "", project.created_at, None))
        except sqlite3.IntegrityError:
            raise Conflict(f"the project at '{root}' is registered already: use it, or DELETE it first",
                           field="path") from None
        return project

    def get(self, project_id: str, owner: str | None = None) -> Project | None:
        """The project, or None when there is none (or it belongs to another owner than ``owner``)."""
        row = self._sql.one("SELECT * FROM projects WHERE id = ?", (project_id,))
        project = _project(row) if row else None
        return project if project and (owner is None or project.owner == owner) else None

    def of_owner(self, owner: str, *, offset: int = 0, limit: int = 50) -> tuple[list[Project], int]:
        rows = self._sql.all("SELECT * FROM projects WHERE owner = ? ORDER BY created_at, id LIMIT ? OFFSET ?",
                             (owner, limit, offset))
        (total,) = self._sql.one("SELECT COUNT(*) FROM projects WHERE owner = ?", (owner,))
        return [_project(r) for r in rows], total

    def all(self) -> list[Project]:
        return [_project(r) for r in self._sql.all("SELECT * FROM projects ORDER BY created_at")]

    def set_status(self, project_id: str, status: str, error: str = "") -> None:
        indexed_at = time.time() if status == "ready" else None
        with self._sql.transaction() as db:
            db.execute("UPDATE projects SET status = ?, error = ?, indexed_at = COALESCE(?, indexed_at) WHERE id = ?",
                       (status, error, indexed_at, project_id))

    def remove(self, project_id: str) -> None:
        with self._sql.transaction() as db:
            for table in ("projects", "files", *FILE_TABLES):
                column = "id" if table == "projects" else "project_id"
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (project_id,))

    def counts(self, project_id: str) -> dict[str, int]:
        return {table: self._sql.one(f"SELECT COUNT(*) FROM {table} WHERE project_id = ?", (project_id,))[0]
                for table in ("files", *FILE_TABLES)}

    # --- files -----------------------------------------------------------------------------

    def digests(self, project_id: str) -> dict[str, str]:
        return dict(self._sql.all("SELECT path, digest FROM files WHERE project_id = ?", (project_id,)))

    def replace_file(self, project_id: str, path: str, digest: str, outline: FileOutline) -> None:
        with self._sql.transaction() as db:
            self._delete_file(db, project_id, path)
            db.execute("INSERT INTO files VALUES (?, ?, ?, ?)", (project_id, path, digest, time.time()))
            db.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                (project_id, c.file, c.label, c.symbol, c.kind, c.start_line, c.end_line, c.text) for c in outline.chunks])
            db.executemany("INSERT INTO symbols VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                (project_id, s.file, s.name, s.kind, s.parent, s.start_line, s.end_line, json.dumps(dict(s.detail)))
                for s in outline.symbols])
            db.executemany("INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?)", [
                (project_id, f.file, f.line, f.rule, f.severity, f.symbol, f.message) for f in outline.findings])

    def remove_file(self, project_id: str, path: str) -> None:
        with self._sql.transaction() as db:
            self._delete_file(db, project_id, path)

    @staticmethod
    def _delete_file(db: sqlite3.Connection, project_id: str, path: str) -> None:
        db.execute("DELETE FROM files WHERE project_id = ? AND path = ?", (project_id, path))
        for table in FILE_TABLES:
            db.execute(f"DELETE FROM {table} WHERE project_id = ? AND file = ?", (project_id, path))

    # --- what was read ---------------------------------------------------------------------

    def chunk(self, project_id: str, file: str, label: str) -> Chunk | None:
        row = self._sql.one("SELECT file, start_line, end_line, symbol, kind, text FROM chunks "
                            "WHERE project_id = ? AND file = ? AND label = ?", (project_id, file, label))
        return Chunk(*row) if row else None

    def chunks(self, project_id: str) -> list[Chunk]:
        rows = self._sql.all("SELECT file, start_line, end_line, symbol, kind, text FROM chunks WHERE project_id = ? "
                             "ORDER BY file, start_line", (project_id,))
        return [Chunk(*row) for row in rows]

    def symbols(self, project_id: str, *, name: str | None = None, parents: Sequence[str] = ()) -> list[Symbol]:
        """Symbols named ``name`` and/or members of any of ``parents``; all when neither is given."""
        clauses, values = ["project_id = ?"], [project_id]
        if name is not None:
            clauses.append("name = ?")
            values.append(name)
        if parents:
            clauses.append(f"parent IN ({', '.join('?' * len(parents))})")
            values.extend(parents)
        rows = self._sql.all(f"SELECT file, name, kind, start_line, end_line, parent, detail FROM symbols "
                             f"WHERE {' AND '.join(clauses)} ORDER BY file, start_line", values)
        return [Symbol(f, n, k, s, e, p, json.loads(d)) for f, n, k, s, e, p, d in rows]

    def findings(self, project_id: str) -> list[Finding]:
        rows = self._sql.all("SELECT rule, file, line, message, symbol, severity FROM findings WHERE project_id = ? "
                             "ORDER BY file, line", (project_id,))
        return [Finding(*row) for row in rows]


def _project(row: Sequence[Any]) -> Project:
    id_, owner, name, root, engine, status, error, created_at, indexed_at = row
    return Project(id_, owner, name, Path(root), engine, status, error, created_at, indexed_at)


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + f".{int(timestamp % 1 * 1000):03d}Z"
