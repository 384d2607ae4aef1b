"""Versioned training sets: JSONL files in OpenAI's chat format, one per owner and version.

A user's dataset holds that user's samples; an admin may build a ``shared`` one from everybody's.
Samples are deduplicated by their conversation and target (case and spacing ignored); a build
that would repeat the latest version's content returns that version instead of a copy. Files
are written atomically and checked line by line whenever they are read, so a file edited by
hand that breaks the format is reported with the line that breaks it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lumina_core.errors import NotFound, ValidationFailed
from lumina_core.storage import write_atomically
from lumina_trainer.database import Database, iso, now

SHARED = "shared"
ROLES = ("system", "user", "assistant")
SAMPLE_LINES = 3


class BadDatasetLine(ValidationFailed):
    """A JSONL line that is not a chat example; ``field`` is ``line N``."""

    def __init__(self, source: str, number: int, problem: str) -> None:
        super().__init__(f"{source}, line {number}: {problem}; each line must be "
                         '{"messages": [{"role": "user", "content": "..."}, ..., {"role": "assistant", "content": "..."}]}',
                         field=f"line {number}")
        self.line = number


@dataclass(frozen=True)
class Example:
    """One checked line: the conversation and, last, the assistant's target answer."""

    messages: tuple[dict[str, str], ...]

    @property
    def prompt(self) -> tuple[dict[str, str], ...]:
        return self.messages[:-1]

    @property
    def target(self) -> str:
        return self.messages[-1]["content"]

    @property
    def key(self) -> str:
        """Equal for two examples that differ only in case and spacing."""
        canonical = [(m["role"], " ".join(m["content"].lower().split())) for m in self.messages]
        return hashlib.sha256(json.dumps(canonical).encode()).hexdigest()


def parse_lines(lines: Iterable[str], source: str) -> list[Example]:
    """Check every non-blank line; raise :class:`BadDatasetLine` at the first bad one."""
    return [_example(line, source, number) for number, line in enumerate(lines, 1) if line.strip()]


def _example(line: str, source: str, number: int) -> Example:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise BadDatasetLine(source, number, f"not JSON ({exc})") from None
    messages = record.get("messages") if isinstance(record, dict) else None
    if not isinstance(messages, list) or len(messages) < 2:
        raise BadDatasetLine(source, number, "'messages' must be a list of at least two messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES or not isinstance(message.get("content"), str):
            raise BadDatasetLine(source, number, f"messages[{index}] needs a role ({', '.join(ROLES)}) and a text content")
    if messages[-1]["role"] != "assistant" or not messages[-1]["content"].strip():
        raise BadDatasetLine(source, number, "the last message must be the assistant's answer, and not empty")
    return Example(tuple({"role": m["role"], "content": m["content"]} for m in messages))


class DatasetStore:
    def __init__(self, db: Database, folder: Path) -> None:
        self._db, self._folder = db, folder

    def build(self, owner: str, records: Sequence[dict[str, Any]]) -> tuple[dict[str, Any], bool]:
        """A new version from chat ``records``, or the latest when it holds the same; and whether
        it is new."""
        unique: dict[str, dict[str, Any]] = {}
        for example, record in zip(parse_lines([json.dumps(r) for r in records], "the samples"), records):
            unique.setdefault(example.key, record)
        if not unique:
            raise ValidationFailed("there are no samples to build a dataset from yet: rate answers or correct them "
                                   "with POST /trainer/feedback", field="samples")
        text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in unique.values())
        digest = hashlib.sha256(text.encode()).hexdigest()
        latest = self._db.one("SELECT * FROM datasets WHERE owner = ? ORDER BY version DESC LIMIT 1", (owner,))
        if latest is not None and latest["digest"] == digest:
            return self._view(latest), False
        version = latest["version"] + 1 if latest else 1
        dataset_id = uuid.uuid4().hex
        path = self._folder / _owner_folder(owner) / f"v{version}.jsonl"
        write_atomically(path, text)
        counts = _counts(record.get("source", "imported") for record in unique.values())
        self._db.execute("INSERT INTO datasets (id, owner, version, path, digest, counts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (dataset_id, owner, version, str(path), digest, json.dumps(counts), now()))
        return self.get(dataset_id, owner), True

    def list(self, user_id: str) -> list[dict[str, Any]]:
        rows = self._db.all("SELECT * FROM datasets WHERE owner IN (?, ?) ORDER BY created_at DESC, version DESC",
                            (user_id, SHARED))
        return [self._view(row) for row in rows]

    def get(self, dataset_id: str, user_id: str, *, sample: bool = False) -> dict[str, Any]:
        """One dataset the user may see (their own or a shared one); others are not found."""
        row = self._db.one("SELECT * FROM datasets WHERE id = ? AND owner IN (?, ?)", (dataset_id, user_id, SHARED))
        if row is None:
            raise NotFound(f"no dataset '{dataset_id}' of yours: see GET /trainer/datasets", field="dataset_id")
        view = self._view(row)
        if sample:
            view["sample"] = [{"messages": list(e.messages)} for e in self.examples(dataset_id, user_id)[:SAMPLE_LINES]]
        return view

    def examples(self, dataset_id: str, user_id: str) -> list[Example]:
        """The dataset's examples, read and checked from its file."""
        row = self._db.one("SELECT path, version FROM datasets WHERE id = ? AND owner IN (?, ?)", (dataset_id, user_id, SHARED))
        if row is None:
            raise NotFound(f"no dataset '{dataset_id}' of yours: see GET /trainer/datasets", field="dataset_id")
        return read_file(Path(row["path"]))

    def _view(self, row: dict[str, Any]) -> dict[str, Any]:
        counts = json.loads(row["counts"])
        return {"id": row["id"], "owner": row["owner"], "shared": row["owner"] == SHARED, "version": row["version"],
                "examples": sum(counts.values()), "counts": counts, "created_at": iso(row["created_at"])}


def read_file(path: Path) -> list[Example]:
    with path.open(encoding="utf-8") as lines:
        return parse_lines(lines, path.name)


def _counts(sources: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for source in sources:
        counts[source] = counts.get(source, 0) + 1
    return counts


def _owner_folder(owner: str) -> str:
    """A folder name for any user id (ids are the users service's; hashed, they are always safe)."""
    return SHARED if owner == SHARED else "user-" + hashlib.sha256(owner.encode()).hexdigest()[:16]
