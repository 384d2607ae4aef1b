"""``lumina plugin check``: everything about a plugin that can be checked without starting it.

The manifest and the packaging; and, for a plugin installed here, its own settings through its
``check_config`` hook (the only step that imports its code).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pluggy

from lumina_core import hookspecs
from lumina_core.errors import ConfigurationError
from lumina_core.kernel import Kernel
from lumina_core.plugins.discovery import ENTRY_POINT_GROUP
from lumina_core.plugins.manifest import MANIFEST_FILE, Manifest, ManifestInvalid, load_manifest
from lumina_core.settings import load_settings

SEARCH_DEPTH = 3


def check_plugin_path(path: Path) -> tuple[list[str], str]:
    """Return (problems, summary) for a manifest file or a plugin folder."""
    manifest_path = path if path.is_file() else _find_manifest(path)
    if manifest_path is None:
        return [f"{path}: no {MANIFEST_FILE} found (looked {SEARCH_DEPTH} folders deep)"], ""
    try:
        manifest = load_manifest(manifest_path)
    except ManifestInvalid as exc:
        return [str(p) for p in exc.problems], ""
    problems = _packaging_problems(path, manifest) if path.is_dir() else []
    problems += setting_problems(manifest.name)
    endpoints, permissions = len(manifest.endpoints), len(manifest.permissions)
    summary = (
        f"ok: {manifest.name} {manifest.version} "
        f"({endpoints} endpoint{'s' * (endpoints != 1)}, {permissions} permission{'s' * (permissions != 1)})"
    )
    return problems, summary


def setting_problems(name: str) -> list[str]:
    """What an installed plugin finds wrong with its own settings (its ``check_config`` hook),
    with the settings a server here would give it; nothing for a plugin not installed yet."""
    try:
        kernel = Kernel(load_settings())
        record = next((r for r in kernel.survey() if r.name == name and r.source is not None), None)
        if record is None or record.manifest is None:
            return []
        config = kernel.config_for(record)
    except ConfigurationError as exc:
        return [exc.message]
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    try:
        manager.register(record.source.load(), name=name)
    except Exception as exc:  # noqa: BLE001 - reported as a problem, like any other
        return [f"{name}: its code could not be imported to check its settings: {type(exc).__name__}: {exc}"]
    return [line for lines in manager.hook.check_config(config=config) for line in lines or ()]


def _find_manifest(folder: Path) -> Path | None:
    candidates = [folder / MANIFEST_FILE]
    for depth in range(1, SEARCH_DEPTH + 1):
        candidates.extend(sorted(folder.glob("/".join(["*"] * depth) + f"/{MANIFEST_FILE}")))
    return next((c for c in candidates if c.is_file()), None)


def _packaging_problems(folder: Path, manifest: Manifest) -> list[str]:
    """A packaged plugin must name the manifest's plugin in its ``lumina.plugins`` entry point."""
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return []
    try:
        project = tomllib.loads(pyproject.read_text("utf-8")).get("project", {})
    except tomllib.TOMLDecodeError as exc:
        return [f"{pyproject}: is not valid TOML ({exc})"]
    entry_points = project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    if manifest.name not in entry_points:
        return [
            f"{pyproject}: project.entry-points.\"{ENTRY_POINT_GROUP}\": has no entry '{manifest.name}' "
            f"(add: {manifest.name} = \"<package>.plugin\")"
        ]
    return []
