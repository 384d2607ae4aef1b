"""Adapter versions: each trained adapter, promoted or rejected with its figures, and which is active.

Every activation is logged, so a rollback goes back to the version active before the current
one (``None`` is the base model without an adapter). Only promoted versions can be activated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lumina_core.errors import Conflict, NotFound, ValidationFailed
from lumina_trainer.database import Database, iso, now

PROMOTED, REJECTED = "promoted", "rejected"
#: How the API names "no adapter": ``POST /trainer/adapters/base/activate``.
BASE = "base"


class AdapterBook:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, run_id: str, dataset_id: str, status: str, figures: dict[str, Any], path: Path) -> int:
        with self._db.transaction() as db:
            cursor = db.execute(
                "INSERT INTO adapters (run_id, dataset_id, status, figures, path, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, dataset_id, status, json.dumps(figures), str(path), now()))
            return int(cursor.lastrowid or 0)

    def for_run(self, run_id: str) -> dict[str, Any] | None:
        row = self._db.one("SELECT * FROM adapters WHERE run_id = ?", (run_id,))
        return self._view(row) if row else None

    def list(self, offset: int, limit: int) -> list[dict[str, Any]]:
        rows = self._db.all("SELECT * FROM adapters ORDER BY version DESC LIMIT ? OFFSET ?", (limit, offset))
        return [self._view(row) for row in rows]

    def get(self, version: int) -> dict[str, Any]:
        row = self._db.one("SELECT * FROM adapters WHERE version = ?", (version,))
        if row is None:
            raise NotFound(f"no adapter version {version}: see GET /trainer/adapters", field="version")
        return self._view(row)

    def active(self) -> int | None:
        row = self._db.one("SELECT version FROM activations ORDER BY seq DESC LIMIT 1")
        return row["version"] if row else None

    def active_path(self) -> Path | None:
        version = self.active()
        return Path(self.get(version)["gguf"]) if version is not None else None

    def activate(self, version: int | None, by_user: str) -> tuple[int | None, int | None]:
        """Serve ``version`` (``None``: no adapter) from now on; (previous, new)."""
        if version is not None and self.get(version)["status"] != PROMOTED:
            raise Conflict(f"adapter version {version} was rejected (it measured worse than the model without it): "
                           "only promoted versions can be activated")
        previous = self.active()
        if previous != version:
            self._db.execute("INSERT INTO activations (version, by_user, at) VALUES (?, ?, ?)", (version, by_user, now()))
        return previous, version

    def rollback(self, by_user: str) -> tuple[int | None, int | None]:
        """Go back to the version active before the current one."""
        rows = self._db.all("SELECT version FROM activations ORDER BY seq DESC LIMIT 2")
        if len(rows) < 2 and not (rows and rows[0]["version"] is not None):
            raise Conflict("there is no earlier adapter to roll back to: none was activated before this one")
        return self.activate(rows[1]["version"] if len(rows) == 2 else None, by_user)

    def _view(self, row: dict[str, Any]) -> dict[str, Any]:
        active = self.active()
        path = Path(row["path"])
        return {"version": row["version"], "run_id": row["run_id"], "dataset_id": row["dataset_id"],
                "status": row["status"], "active": row["version"] == active, "figures": json.loads(row["figures"]),
                "gguf": str(path), "ollama_modelfile": str(path.with_name("Modelfile")), "created_at": iso(row["created_at"])}


def parse_version(text: str) -> int | None:
    """``3``, ``v3`` or ``base`` (no adapter) from a path parameter."""
    if text == BASE:
        return None
    digits = text.removeprefix("v")
    if not digits.isdigit():
        raise ValidationFailed(f"'{text}' is not an adapter version: use a number such as 3 (or v3), or 'base'",
                               field="version")
    return int(digits)


def ollama_modelfile(base_model: str, adapter: Path) -> str:
    """How to serve the adapter with Ollama: ``ollama create NAME -f Modelfile``."""
    return f"FROM {base_model}\nADAPTER {adapter}\n"
