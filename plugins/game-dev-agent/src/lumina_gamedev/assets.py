"""Non-code project files: Unity scenes and prefabs, settings assets, ``.ini`` and JSON files.

A scene or prefab is indexed by its GameObjects' names (one chunk per GameObject document, with
the components serialised under it kept out: a scene can hold thousands of lines of transforms).
Settings (``ProjectSettings/*.asset``, ``ProjectVersion.txt``, ``.uproject``, ``Config/*.ini``)
are cut into blocks at their top-level keys or ``[sections]``, so an answer cites the axis or the
key it comes from.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from lumina_gamedev.outline import PACK_LINES, Chunk, FileOutline, Lines, Symbol, pack

DOCUMENT = re.compile(r"^--- !u!(\d+) &(\d+)")
GAME_OBJECT_CLASS = "1"
NAME = re.compile(r"^\s+m_Name:\s*(.*)$")
INI_SECTION = re.compile(r"^\s*\[(.+)\]\s*$")
#: A settings line that starts a block: a key at the top level, or an item of a top-level list.
BLOCK_START = re.compile(r"^(?:\s{0,2}[\w\"{]|\s{0,4}- )")
MAX_GAME_OBJECTS = 2000


def outline_scene(file: str, content: str) -> FileOutline:
    """One chunk per GameObject: ``Level1.unity: Player``, its document's lines."""
    lines = Lines(content)
    scene = PurePosixPath(file).name
    chunks: list[Chunk] = []
    symbols: list[Symbol] = []
    for start, end, class_id in _documents(lines):
        if class_id != GAME_OBJECT_CLASS or len(chunks) >= MAX_GAME_OBJECTS:
            continue
        name = next((m.group(1).strip() for line in lines.all[start - 1 : end] if (m := NAME.match(line))), "")
        chunks.append(Chunk(file, start, end, f"{scene}: GameObject {name}", "game_object", lines.between(start, end)))
        symbols.append(Symbol(file, name, "game_object", start, end, scene))
    return FileOutline(tuple(chunks), tuple(symbols))


def _documents(lines: Lines) -> list[tuple[int, int, str]]:
    """``(first line, last line, class id)`` of each YAML document of a Unity file."""
    starts = [(number, m.group(1)) for number, line in enumerate(lines.all, 1) if (m := DOCUMENT.match(line))]
    ends = [s - 1 for s, _ in starts[1:]] + [len(lines)]
    return [(start, end, class_id) for (start, class_id), end in zip(starts, ends)]


def outline_ini(file: str, content: str) -> FileOutline:
    """One chunk per ``[section]`` (windows for a long one)."""
    lines = Lines(content)
    sections = [(number, m.group(1)) for number, line in enumerate(lines.all, 1) if (m := INI_SECTION.match(line))]
    if not sections or sections[0][0] > 1:
        sections.insert(0, (1, PurePosixPath(file).name))
    ends = [s - 1 for s, _ in sections[1:]] + [len(lines)]
    chunks = [chunk for (start, name), end in zip(sections, ends) if lines.between(start, end).strip()
              for chunk in lines.chunks(file, start, end, f"{PurePosixPath(file).name} [{name}]", "config")]
    return FileOutline(tuple(chunks))


def outline_settings(file: str, content: str) -> FileOutline:
    """Settings assets, ``.uproject``, ``ProjectVersion.txt``: blocks cut at top-level keys and
    top-level list items, packed up to PACK_LINES lines."""
    lines = Lines(content)
    starts = [n for n, line in enumerate(lines.all, 1) if line.strip() and (n == 1 or BLOCK_START.match(line))]
    ends = [s - 1 for s in starts[1:]] + [len(lines)]
    name = PurePosixPath(file).name
    chunks = [chunk for start, end in pack(zip(starts, ends), PACK_LINES)
              for chunk in lines.chunks(file, start, end, f"{name} {_first_key(lines, start, end)}".strip(), "settings")]
    return FileOutline(tuple(chunks))


def _first_key(lines: Lines, start: int, end: int) -> str:
    """The first named key of a block (``m_Name: Jump`` → ``Jump``), to label its chunk."""
    for line in lines.all[start - 1 : end]:
        if match := NAME.match(line):
            return match.group(1).strip()
    for line in lines.all[start - 1 : end]:
        if match := re.match(r"^\s*-?\s*\"?([A-Za-z_][\w ]*)\"?\s*:", line):
            return match.group(1)
    return ""
