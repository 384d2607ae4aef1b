"""List endpoints never return an unbounded array: ``{"items": [...], "next_cursor": ...}``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Query

from lumina_core.errors import ValidationFailed

DEFAULT_LIMIT, MAX_LIMIT = 50, 500


class Page:
    """``?limit=&cursor=`` as a dependency; the cursor is opaque to clients."""

    def __init__(
        self,
        limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page."),
        cursor: str | None = Query(None, description="`next_cursor` of the previous page."),
    ) -> None:
        self.limit = limit
        self.offset = _offset(cursor)

    def of(self, items: Sequence[Any]) -> dict[str, Any]:
        end = self.offset + self.limit
        return {"items": list(items[self.offset : end]), "next_cursor": str(end) if end < len(items) else None}


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise ValidationFailed("cursor is not one this server gave out; start again without it", field="cursor")
    return int(cursor)
