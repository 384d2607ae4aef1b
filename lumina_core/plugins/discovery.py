"""Finding plugins without running them: installed entry points and a development folder.

Discovery only locates each plugin's ``manifest.yml`` and says how to import it later; no plugin
code runs until its manifest has been checked.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from stevedore import ExtensionManager, NamedExtensionManager

from lumina_core.plugins.manifest import MANIFEST_FILE

ENTRY_POINT_GROUP = "lumina.plugins"
FOLDER_SEARCH_DEPTH = 3


@dataclass(frozen=True)
class PluginSource:
    """Where a plugin comes from and how to import it."""

    declared_name: str | None
    origin: str
    manifest_path: Path | None
    package: str
    code_dir: Path | None
    load: Callable[[], object]

    def describe(self) -> str:
        return self.origin


def discover(plugins_dir: Path | None) -> list[PluginSource]:
    """All plugins installed in the ``lumina.plugins`` group, then those in ``plugins_dir``."""
    sources = list(_entry_point_sources())
    if plugins_dir is not None and plugins_dir.is_dir():
        sources.extend(_folder_sources(plugins_dir))
    return sources


def _entry_point_sources() -> Iterator[PluginSource]:
    ExtensionManager.ENTRY_POINT_CACHE.pop(ENTRY_POINT_GROUP, None)  # see installs made since
    finder = NamedExtensionManager(ENTRY_POINT_GROUP, names=[], on_missing_entrypoints_callback=None)
    for entry_point in finder.list_entry_points():
        package = entry_point.module.split(".")[0]
        code_dir = _package_dir(package)
        dist = getattr(entry_point, "dist", None)
        origin = f"entry point {entry_point.value}" + (f" in {dist.name} {dist.version}" if dist else "")
        yield PluginSource(
            declared_name=entry_point.name,
            origin=origin,
            manifest_path=code_dir / MANIFEST_FILE if code_dir else None,
            package=package,
            code_dir=code_dir,
            load=_entry_point_loader(entry_point.name),
        )


def _package_dir(package: str) -> Path | None:
    """The folder of a top-level package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _entry_point_loader(name: str) -> Callable[[], object]:
    def load() -> object:
        manager = NamedExtensionManager(
            ENTRY_POINT_GROUP,
            names=[name],
            on_load_failure_callback=_reraise,
            on_missing_entrypoints_callback=None,
        )
        return manager[name].plugin

    return load


def _reraise(_manager: object, _entry_point: object, error: BaseException) -> None:
    raise error


def _folder_sources(root: Path) -> Iterator[PluginSource]:
    for manifest in sorted(_manifests_under(root, FOLDER_SEARCH_DEPTH)):
        package_dir = manifest.parent
        yield PluginSource(
            declared_name=None,
            origin=f"folder {package_dir}",
            manifest_path=manifest,
            package=package_dir.name,
            code_dir=package_dir,
            load=lambda d=package_dir: import_folder(d),
        )


def _manifests_under(folder: Path, depth: int) -> Iterator[Path]:
    if (folder / MANIFEST_FILE).is_file() and (folder / "__init__.py").is_file():
        yield folder / MANIFEST_FILE
        return
    if depth == 0:
        return
    for child in folder.iterdir():
        if child.is_dir() and not child.name.startswith((".", "__")):
            yield from _manifests_under(child, depth - 1)


def import_folder(package_dir: Path) -> object:
    """Import an unpackaged plugin folder; its ``plugin`` module is the plugin when present."""
    name = package_dir.name
    spec = importlib.util.spec_from_file_location(
        name, package_dir / "__init__.py", submodule_search_locations=[str(package_dir)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        if (package_dir / "plugin.py").is_file():
            return importlib.import_module(f"{name}.plugin")
    except BaseException:
        forget_package(name)
        raise
    return module


def forget_code(source: PluginSource) -> dict[str, ModuleType]:
    """Make the next import of ``source`` read its files from disk; return the dropped modules.

    Besides dropping the package from ``sys.modules``, this deletes its cached bytecode: CPython
    trusts a ``.pyc`` whose recorded source mtime (whole seconds) and size match, so an edit saved
    within the same second that keeps the file's size would otherwise re-import the old code.
    """
    if source.code_dir is not None:
        for module_file in source.code_dir.rglob("*.py"):
            try:
                Path(importlib.util.cache_from_source(str(module_file))).unlink(missing_ok=True)
            except OSError:  # a read-only install: its sources do not change either
                pass
    importlib.invalidate_caches()  # see modules added since the last import
    return forget_package(source.package)


def forget_package(package: str) -> dict[str, ModuleType]:
    """Drop a package and its submodules from ``sys.modules``; return them for a rollback."""
    dropped = {
        name: module
        for name, module in list(sys.modules.items())
        if name == package or name.startswith(package + ".")
    }
    for name in dropped:
        del sys.modules[name]
    return dropped
