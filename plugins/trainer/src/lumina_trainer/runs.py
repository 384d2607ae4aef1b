"""Training runs as the API shows them: what was asked, how far it got, how it ended.

The run's own record is the truth the routes read; the queue's task carries only its id, so a
re-delivered task (its worker was killed) finds the run and resumes it from its checkpoint.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from lumina_core.errors import Conflict, NotFound
from lumina_trainer.database import Database, iso, now

QUEUED, RUNNING, CANCELLING, CANCELLED, SUCCEEDED, FAILED = (
    "queued", "running", "cancelling", "cancelled", "succeeded", "failed")
FINAL = frozenset({CANCELLED, SUCCEEDED, FAILED})


@dataclass(frozen=True)
class RunParams:
    """How one run trains: LoRA rank and alpha on the attention's q and v projections."""

    steps: int = 30
    batch_size: int = 2
    learning_rate: float = 2e-3
    rank: int = 8
    alpha: int = 16
    max_tokens: int = 256
    checkpoint_every: int = 5
    seed: int = 0
    threads: int = 2
    #: Serve the adapter as soon as it is promoted (a run an admin started; others wait for one).
    activate: bool = True


class RunStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, user_id: str, dataset_id: str, params: RunParams) -> dict[str, Any]:
        run_id, at = uuid.uuid4().hex, now()
        self._db.execute(
            "INSERT INTO runs (id, user_id, dataset_id, params, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run_id, user_id, dataset_id, json.dumps(asdict(params)), QUEUED, at, at))
        return self.get(run_id)

    def get(self, run_id: str, user_id: str | None = None) -> dict[str, Any]:
        """A run; with ``user_id``, only that user's (another's is not found)."""
        row = self._db.one("SELECT * FROM runs WHERE id = ?", (run_id,))
        if row is None or (user_id is not None and row["user_id"] != user_id):
            raise NotFound(f"no training run '{run_id}' of yours: see GET /trainer/runs", field="run_id")
        return _view(row)

    def list(self, user_id: str | None, offset: int, limit: int) -> list[dict[str, Any]]:
        mine, args = ("WHERE user_id = ?", [user_id]) if user_id is not None else ("", [])
        rows = self._db.all(f"SELECT * FROM runs {mine} ORDER BY created_at DESC LIMIT ? OFFSET ?", [*args, limit, offset])
        return [_view(row) for row in rows]

    def params(self, run_id: str) -> RunParams:
        return RunParams(**self.get(run_id)["params"])

    def update(self, run_id: str, **fields: Any) -> None:
        names = ", ".join(f"{name} = ?" for name in fields)
        self._db.execute(f"UPDATE runs SET {names}, updated_at = ? WHERE id = ?", [*fields.values(), now(), run_id])

    def started(self, run_id: str, task_id: str) -> None:
        """Mark the run running unless a cancel came first (a cancelled run stays cancelled)."""
        self._db.execute("UPDATE runs SET state = ?, task_id = ?, updated_at = ? WHERE id = ? AND state IN (?, ?)",
                         (RUNNING, task_id, now(), run_id, QUEUED, RUNNING))

    def cancel(self, run_id: str, user_id: str) -> dict[str, Any]:
        """Ask a run to stop at its next step (a queued one stops before it starts)."""
        run = self.get(run_id, user_id)
        if run["state"] in FINAL:
            raise Conflict(f"run '{run_id}' has already {run['state']}: there is nothing to cancel")
        self._db.execute("UPDATE runs SET state = ?, updated_at = ? WHERE id = ? AND state IN (?, ?)",
                         (CANCELLING, now(), run_id, QUEUED, RUNNING))
        return self.get(run_id)

    def cancel_requested(self, run_id: str) -> bool:
        row = self._db.one("SELECT state FROM runs WHERE id = ?", (run_id,))
        return row is None or row["state"] == CANCELLING


def _view(row: dict[str, Any]) -> dict[str, Any]:
    params = json.loads(row["params"])
    return {"id": row["id"], "user_id": row["user_id"], "dataset_id": row["dataset_id"], "state": row["state"], "step": row["step"],
            "total_steps": params["steps"], "loss": row["loss"], "params": params,
            "task_id": row["task_id"], "adapter_version": row["adapter_version"], "error": row["error"],
            "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"])}
