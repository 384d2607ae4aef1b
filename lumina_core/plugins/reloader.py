"""Development reload: a saved file becomes a reload of the one plugin that owns it.

``lumina dev`` runs :func:`watch_and_reload` next to the server. It watches every installed
plugin's code folder (:attr:`PluginSource.code_dir`) and the development plugins folder; each
batch of changes reloads the plugins that own the changed files, one by one, through
:meth:`Kernel.reload`, which keeps the previous version serving when the new code fails. A file
in the plugins folder that no plugin owns yet may be a new plugin: discovery runs and the new
plugins start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from watchfiles import PythonFilter, awatch

from lumina_core.errors import LuminaError

if TYPE_CHECKING:
    from lumina_core.kernel import Kernel

log = logging.getLogger("lumina.dev")

#: Besides Python files, a plugin's manifest (and data it ships) is its code.
WATCHED_EXTENSIONS = (".yml", ".yaml", ".json")
#: Milliseconds without a new change before a batch is handled (editors save in bursts).
QUIET_MS = 30


def code_owners(kernel: Kernel) -> dict[Path, str]:
    """Each plugin's code folder, resolved, mapped to the plugin's name."""
    return {
        record.source.code_dir.resolve(): name
        for name, record in kernel.records.items()
        if record.source is not None and record.source.code_dir is not None and record.source.code_dir.is_dir()
    }


def owners_of(changed: Iterable[Path], owners: Mapping[Path, str]) -> tuple[set[str], list[Path]]:
    """The plugins owning the ``changed`` files, and the files no plugin owns."""
    touched: set[str] = set()
    unowned: list[Path] = []
    for path in changed:
        owner = next((owners[folder] for folder in (path, *path.parents) if folder in owners), None)
        if owner is None:
            unowned.append(path)
        else:
            touched.add(owner)
    return touched, unowned


def watched_folders(kernel: Kernel) -> list[Path]:
    """Folders to watch: the plugins' code folders and the development plugins folder."""
    folders = set(code_owners(kernel))
    plugins_dir = kernel.settings.plugins_dir
    if plugins_dir is not None and plugins_dir.is_dir():
        folders.add(plugins_dir.resolve())
    return sorted(folders)


async def reload_changed(kernel: Kernel, changed: Iterable[Path]) -> list[str]:
    """Reload the plugins owning ``changed`` (and start new folder plugins); return their names."""
    touched, unowned = owners_of([Path(p).resolve() for p in changed], code_owners(kernel))
    if unowned:
        known = set(kernel.records)
        kernel.discover()
        touched |= set(kernel.records) - known
    for name in sorted(touched):
        await reload_one(kernel, name)
    return sorted(touched)


async def reload_one(kernel: Kernel, name: str) -> None:
    """Reload one plugin and log the outcome in one line, with its duration."""
    started = time.perf_counter()
    try:
        record = await kernel.reload(name)
    except LuminaError as exc:  # disabled, or gone: nothing to reload
        log.warning("plugin '%s' not reloaded: %s", name, exc.message)
        return
    elapsed_ms = (time.perf_counter() - started) * 1000
    if record.error:
        log.error("plugin '%s' (%s, %.0f ms): %s", name, record.state, elapsed_ms, record.error)
    else:
        log.info("plugin '%s' reloaded in %.0f ms", name, elapsed_ms)


async def watch_and_reload(kernel: Kernel) -> None:
    """Reload plugins as their files change, until cancelled. The watched folders are fixed at
    start: a plugin installed later is seen after a restart (or if it lives in the plugins folder)."""
    folders = watched_folders(kernel)
    if not folders:
        log.warning("no plugin folders to watch: install a plugin with pip install -e, or set LUMINA_PLUGINS_DIR")
        return
    log.info("watching %d plugin folders for changes: %s", len(folders), ", ".join(map(str, folders)))
    watch_filter = PythonFilter(extra_extensions=WATCHED_EXTENSIONS)
    async for changes in awatch(*folders, watch_filter=watch_filter, step=QUIET_MS):
        try:
            await reload_changed(kernel, [Path(path) for _change, path in changes])
        except Exception:  # noqa: BLE001 - the watcher outlives any one reload
            log.exception("reloading after %d changed files failed", len(changes))
