"""The code-aware splitter: which outliner reads a project file, by its name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePosixPath

from lumina_gamedev import assets, cpp, csharp
from lumina_gamedev.outline import FileOutline

Outliner = Callable[[str, str], FileOutline]

BY_SUFFIX: Mapping[str, Outliner] = {
    ".cs": csharp.outline, ".h": cpp.outline, ".hpp": cpp.outline, ".cpp": cpp.outline, ".cc": cpp.outline,
    ".unity": assets.outline_scene, ".prefab": assets.outline_scene, ".ini": assets.outline_ini,
}


def outline_file(relative_path: str, content: str) -> FileOutline:
    """The chunks, symbols and lint findings of one file (settings files by their blocks)."""
    outliner = BY_SUFFIX.get(PurePosixPath(relative_path).suffix.lower(), assets.outline_settings)
    return outliner(relative_path, content)
