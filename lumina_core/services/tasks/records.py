"""A task as the API shows it: what was asked, where it stands, and how it ended."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from lumina_core.errors import ValidationFailed
from lumina_core.services.bus.events import now_iso

QUEUED, RUNNING, RETRYING, SUCCEEDED, FAILED = "queued", "running", "retrying", "succeeded", "failed"
STATES = (QUEUED, RUNNING, RETRYING, SUCCEEDED, FAILED)
FINAL = frozenset({SUCCEEDED, FAILED})


@dataclass
class TaskRecord:
    id: str
    kind: str
    task: dict[str, Any]
    owner: str
    user_id: str | None = None
    state: str = QUEUED
    progress: float = 0.0
    note: str = ""
    result: Any = None
    error: str | None = None
    attempts: int = 0
    max_attempts: int = 1
    worker: str | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    next_attempt_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def dumps(self) -> str:
        return json.dumps(self.to_dict(), default=str)

    @classmethod
    def loads(cls, text: str | bytes) -> TaskRecord:
        return cls(**json.loads(text))

    def moved(self, state: str, **changes: Any) -> None:
        self.state, self.updated_at = state, now_iso()
        for name, value in changes.items():
            setattr(self, name, value)


def new_record(task: Mapping[str, Any], *, owner: str, user_id: str | None, max_attempts: int) -> TaskRecord:
    """A queued task; its kind is its first key (``{"crawl": [...], "hops": 1}`` is a crawl)."""
    if not isinstance(task, Mapping) or not task:
        raise ValidationFailed('a task is a JSON object whose first key names its kind, e.g. {"crawl": ["Mandelbrot set"]}')
    kind = next(iter(task))
    try:
        body = json.loads(json.dumps(dict(task)))
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"the task is not JSON: {exc}") from None
    return TaskRecord(
        id=uuid.uuid4().hex, kind=str(kind), task=body, owner=owner, user_id=user_id, max_attempts=max_attempts
    )
