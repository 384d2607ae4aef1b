"""Re-index on change: one watchfiles task per registered project.

watchfiles batches the events of a burst (a save that writes a temp file and renames it, a
``git checkout`` touching fifty files) into one set; only the files the project's engine indexes
are passed on. A failing re-index is logged and the watch goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from watchfiles import awatch

from lumina_gamedev.engines import ENGINES
from lumina_gamedev.store import Project

log = logging.getLogger("lumina.plugin.game-dev-agent")
OnChange = Callable[[Project, set[Path]], Awaitable[None]]
DEBOUNCE_MS = 300


class Watchers:
    def __init__(self, on_change: OnChange) -> None:
        self._on_change = on_change
        self._tasks: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = {}

    def start(self, project: Project) -> None:
        if project.id in self._tasks:
            return
        stop = asyncio.Event()
        task = asyncio.create_task(self._watch(project, stop), name=f"gamedev-watch-{project.id}")
        self._tasks[project.id] = (task, stop)

    async def stop(self, project_id: str) -> None:
        entry = self._tasks.pop(project_id, None)
        if entry is not None:
            task, stop = entry
            stop.set()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def stop_all(self) -> None:
        for project_id in list(self._tasks):
            await self.stop(project_id)

    async def _watch(self, project: Project, stop: asyncio.Event) -> None:
        engine = ENGINES[project.engine]
        root = project.root.resolve()

        def wanted(_change: object, path: str) -> bool:
            return engine.wants(root, Path(path))

        try:
            async for changes in awatch(root, watch_filter=wanted, stop_event=stop, debounce=DEBOUNCE_MS, step=50):
                try:
                    await self._on_change(project, {Path(path) for _, path in changes})
                except Exception:
                    log.exception("re-indexing project %s after a change failed", project.id)
        except FileNotFoundError:
            log.warning("project %s: its folder %s is gone; not watching it any more", project.id, root)
