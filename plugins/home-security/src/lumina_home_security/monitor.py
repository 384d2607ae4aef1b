"""The running plugin: every camera's watch, and what happens when one of them sees motion.

Each camera's watch is a background task started here and cancelled when the plugin stops.
Motion is recorded whatever the arming (the event log shows what happened); it becomes an
alert only when the camera is armed at that moment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

import numpy as np

from lumina_core.errors import Conflict, NotFound
from lumina_home_security.alerts import Alerts
from lumina_home_security.arming import Arming
from lumina_home_security.cameras import Camera, CameraBook, CameraChange
from lumina_home_security.events import EventLog
from lumina_home_security.motion import Motion
from lumina_home_security.sources import FrameSource
from lumina_home_security.watch import CameraWatch, thumbnail

log = logging.getLogger("lumina.plugin.home-security")

SourceFactory = Callable[[Camera], FrameSource]


class Monitor:
    def __init__(
        self, *, book: CameraBook, events: EventLog, alerts: Alerts, zone: ZoneInfo, sources: SourceFactory,
    ) -> None:
        self.book, self.events, self.alerts, self.zone = book, events, alerts, zone
        self._sources = sources
        self._watches: dict[str, CameraWatch] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._arming: dict[str, Arming] = {}

    # --- cameras ---------------------------------------------------------------------------

    def start(self, cameras: list[Camera]) -> None:
        self._arming = self.book.arming_changes()
        for camera in cameras:
            self._watch(camera)

    def add(self, camera: Camera) -> CameraWatch:
        if camera.id in self._watches:
            raise Conflict(f"a camera with the id '{camera.id}' exists: choose another id", field="id")
        self.book.add(camera)
        watch = self._watch(camera)
        self.alerts.announce_soon(camera)
        return watch

    async def change(self, owner: str, camera_id: str, change: CameraChange) -> CameraWatch:
        """Apply ``change`` and watch the camera afresh (a new background model, a new source)."""
        watch = self.watch(owner, camera_id)
        if watch.camera.origin == "config":
            raise Conflict(f"the camera '{camera_id}' comes from the configuration: change it there", field="id")
        camera = change.applied_to(watch.camera)
        await self._stop(camera_id)
        self.book.replace(camera)
        changed = self._watch(camera)
        self.alerts.announce_soon(camera)
        return changed

    async def remove(self, owner: str, camera_id: str) -> None:
        watch = self.watch(owner, camera_id)
        if watch.camera.origin == "config":
            raise Conflict(f"the camera '{camera_id}' comes from the configuration: remove it there", field="id")
        await self._stop(camera_id)
        self.book.remove(camera_id)
        self._arming.pop(camera_id, None)
        await self.alerts.withdraw(watch.camera)

    def watch(self, owner: str, camera_id: str) -> CameraWatch:
        """The owner's camera; another owner's answers like a missing one."""
        watch = self._watches.get(camera_id)
        if watch is None or watch.camera.owner != owner:
            raise NotFound(f"you have no camera '{camera_id}' (GET /security/cameras lists yours)", field="camera")
        return watch

    def watches(self, owner: str) -> list[CameraWatch]:
        return [w for w in self._watches.values() if w.camera.owner == owner]

    def all_watches(self) -> list[CameraWatch]:
        return list(self._watches.values())

    def owners(self) -> set[str]:
        return {w.camera.owner for w in self._watches.values()}

    def ids(self) -> set[str]:
        return set(self._watches)

    def arming(self, camera: Camera) -> Arming:
        return self._arming.get(camera.id, camera.spec.arming)

    def set_arming(self, owner: str, camera_id: str, arming: Arming) -> None:
        self.watch(owner, camera_id)
        self.book.set_arming(camera_id, arming)
        self._arming[camera_id] = arming

    def armed(self, camera: Camera, ts: float) -> bool:
        return self.arming(camera).armed_at(ts, self.zone)

    async def announce_all(self) -> None:
        for watch in list(self._watches.values()):
            await self.alerts.announce(watch.camera)

    # --- motion (the watches' sink) ----------------------------------------------------------

    async def motion_started(self, watch: CameraWatch, picture: np.ndarray, motion: Motion, ts: float) -> None:
        camera = watch.camera
        armed = self.armed(camera, ts)
        small = await asyncio.to_thread(thumbnail, picture, motion)
        event = await asyncio.to_thread(
            self.events.add, owner=camera.owner, camera_id=camera.id, camera_name=camera.name, ts=ts,
            score=motion.score, boxes=motion.boxes, armed=armed, size=(picture.shape[1], picture.shape[0]), thumbnail=small,
        )
        log.info("motion on camera '%s' (score %.3f, %s)", camera.id, motion.score, "armed" if armed else "disarmed")
        if armed:
            await self.alerts.motion_started(camera, event, small)

    async def motion_ended(self, watch: CameraWatch) -> None:
        await self.alerts.motion_ended(watch.camera)

    # --- lifecycle ---------------------------------------------------------------------------

    def _watch(self, camera: Camera) -> CameraWatch:
        watch = CameraWatch(camera, self._sources(camera), self)
        self._watches[camera.id] = watch
        self._tasks[camera.id] = asyncio.get_running_loop().create_task(watch.run(), name=f"camera {camera.id}")
        return watch

    async def _stop(self, camera_id: str) -> None:
        self._watches.pop(camera_id, None)
        task = self._tasks.pop(camera_id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def stop(self) -> None:
        for camera_id in list(self._tasks):
            await self._stop(camera_id)
        await self.alerts.close()
