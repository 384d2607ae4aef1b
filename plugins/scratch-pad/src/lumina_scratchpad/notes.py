"""A note: one short piece of working memory, with the passages it came from and when it expires."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

Kind = Literal["fact", "open_question", "link", "note"]
KINDS: tuple[str, ...] = get_args(Kind)
#: Who wrote a note: a person through the API, the model while reflecting, or the extractive
#: fallback that reads the article's own sentences when the model's answer is unusable.
Origin = Literal["user", "model", "extract", "dream"]


@dataclass(frozen=True)
class Note:
    id: str
    kind: Kind
    text: str
    sources: tuple[str, ...]
    created_at: float
    expires_at: float
    origin: Origin = "user"

    @classmethod
    def new(cls, kind: Kind, text: str, sources: tuple[str, ...], *, ttl_s: float, origin: Origin = "user",
            note_id: str | None = None, now: float | None = None) -> Note:
        created = time.time() if now is None else now
        return cls(note_id or uuid.uuid4().hex, kind, text, tuple(sources), created, created + ttl_s, origin)

    def live(self, now: float) -> bool:
        return self.expires_at > now

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: str | bytes) -> Note:
        fields = json.loads(data)
        return cls(**{**fields, "sources": tuple(fields["sources"])})

    def to_dict(self) -> dict[str, Any]:
        """The API's shape: ISO 8601 timestamps in UTC."""
        return {"id": self.id, "kind": self.kind, "text": self.text, "sources": list(self.sources),
                "origin": self.origin, "created_at": iso(self.created_at), "expires_at": iso(self.expires_at)}


def stable_id(*parts: str) -> str:
    """The same id for the same parts: a re-delivered task writes the same notes, not new ones."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + f".{int(timestamp % 1 * 1000):03d}Z"
