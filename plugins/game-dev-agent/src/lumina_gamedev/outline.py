"""What a project file holds, as the index sees it: chunks to retrieve and symbols to explain.

A :class:`Chunk` is a unit of retrieval with its exact line range: one method, one group of
fields, one class header, one GameObject of a scene, one settings block. A :class:`Symbol` is a
class or a member with its lines, its base class, the calls it makes and its doc comment, for
``explain`` and the linter. Each language lives in its own module; :mod:`lumina_gamedev.splitter`
picks one by the file's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lumina_gamedev.syntax import Source

#: A chunk longer than this is cut into windows of WINDOW_LINES (a huge method, a settings file).
MAX_CHUNK_LINES = 60
WINDOW_LINES = 40
#: Consecutive small declarations (fields, settings keys) are packed up to this many lines.
PACK_LINES = 16


@dataclass(frozen=True)
class Chunk:
    file: str
    start_line: int
    end_line: int
    symbol: str
    kind: str
    text: str

    @property
    def label(self) -> str:
        """The chunk's section label in the knowledge index: unique within its file."""
        return f"{self.symbol} > lines {self.start_line}-{self.end_line}"

    @property
    def cite(self) -> str:
        return f"{self.file}:{self.start_line}"


@dataclass(frozen=True)
class Symbol:
    file: str
    name: str
    kind: str
    start_line: int
    end_line: int
    parent: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "parent": self.parent, "file": self.file,
                "start_line": self.start_line, "end_line": self.end_line,
                "cite": f"{self.file}:{self.start_line}", **self.detail}


@dataclass(frozen=True)
class Finding:
    """A pitfall the linter found, at an exact line."""

    rule: str
    file: str
    line: int
    message: str
    symbol: str = ""
    severity: str = "warning"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "file": self.file, "line": self.line,
                "cite": f"{self.file}:{self.line}", "symbol": self.symbol, "message": self.message}


@dataclass(frozen=True)
class FileOutline:
    chunks: tuple[Chunk, ...] = ()
    symbols: tuple[Symbol, ...] = ()
    findings: tuple[Finding, ...] = ()


class Lines:
    """A file's lines, 1-based, for cutting chunks by line range."""

    def __init__(self, content: str) -> None:
        self.all = content.splitlines()

    def __len__(self) -> int:
        return len(self.all)

    def between(self, start: int, end: int) -> str:
        return "\n".join(self.all[start - 1 : end])

    def chunks(self, file: str, start: int, end: int, symbol: str, kind: str) -> list[Chunk]:
        """The lines ``start..end`` as one chunk, or as windows when longer than MAX_CHUNK_LINES."""
        if end - start + 1 <= MAX_CHUNK_LINES:
            return [Chunk(file, start, end, symbol, kind, self.between(start, end))]
        return [
            Chunk(file, s, min(s + WINDOW_LINES - 1, end), symbol, kind, self.between(s, min(s + WINDOW_LINES - 1, end)))
            for s in range(start, end + 1, WINDOW_LINES)
        ]


class Reader:
    """What a language's outliner collects while it walks one file's syntax tree."""

    def __init__(self, file: str, content: str, source: Source) -> None:
        self.file, self.lines, self.source = file, Lines(content), source
        self.chunks: list[Chunk] = []
        self.symbols: list[Symbol] = []

    def outline(self, findings: Iterable[Finding]) -> FileOutline:
        return FileOutline(tuple(self.chunks), tuple(self.symbols), tuple(findings))


def pack(spans: Iterable[tuple[int, int]], limit: int = PACK_LINES) -> list[tuple[int, int]]:
    """Merge consecutive line spans into groups of at most ``limit`` lines (a longer span stays
    whole), so a run of one-line declarations becomes one chunk rather than many scraps."""
    groups: list[tuple[int, int]] = []
    for start, end in spans:
        if groups and end - groups[-1][0] + 1 <= limit:
            groups[-1] = (groups[-1][0], end)
        else:
            groups.append((start, end))
    return groups
