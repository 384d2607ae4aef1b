"""The chat journal: every turn and memory change, one JSON line each, in
``<data>/graphs/chat/YYYY/MM/DD/turns.ndjson``.

It is the source of truth the vector index can always be rebuilt from (after a crash, a
backend change or an embedding-model change), so it is appended before the index is written.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FILE_NAME = "turns.ndjson"


class Journal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()

    def append(self, entry: Mapping[str, Any]) -> None:
        """Write one entry to today's file (UTC): files in date order are entries in written
        order, which is the order a rebuild replays them in."""
        day = datetime.now(UTC)
        path = self.folder / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / FILE_NAME
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(line)

    def files(self) -> list[Path]:
        return sorted(self.folder.glob(f"*/*/*/{FILE_NAME}"))

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry, oldest day first and in written order; a torn last line is skipped."""
        for path in self.files():
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError:
                        continue
